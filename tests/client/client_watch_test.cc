// zkcpp client tests: one-shot watches and persistent watches, on every backend.
//
// "Exactly once" is checked with a barrier instead of a sleep: after the first event, a second
// watch is armed, a second change is made, and once the second watch has fired, every event the
// first one could still have received would have been delivered before it (one FIFO executor,
// server events in order).

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <string>
#include <string_view>
#include <vector>

#include "zk/internal/sync.h"
#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "zk/client.h"

namespace zk::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::IsEmpty;

class ClientWatchTest : public ClientTest {
 protected:
  // Arms a fresh data watch on `path`, changes it with `change`, and waits for that watch:
  // afterwards, every earlier event has been delivered.
  void Barrier(const std::string& path) {
    EventLog barrier;
    absl::StatusOr<Watched<std::optional<Stat>>> watched =
        client().ExistsAndWatch(path, barrier.Callback());
    ASSERT_THAT(watched, IsOk());
    if (watched->result.has_value()) {
      ASSERT_THAT(client().Set(path, "barrier"), IsOk());
    } else {
      ASSERT_THAT(client().Create(path, "barrier"), IsOk());
    }
    ASSERT_TRUE(barrier.WaitForSize(1));
  }
};

// --- one-shot watches -------------------------------------------------------------------------

TEST_P(ClientWatchTest, GetAndWatchFiresOnceOnDataChange) {
  const std::string path = P("data");
  ASSERT_THAT(client().Create(path, "v0"), IsOk());
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> watched, client().GetAndWatch(path, events.Callback()));
  EXPECT_EQ(watched.result.data, "v0");
  EXPECT_TRUE(watched.watch.active());
  ASSERT_THAT(client().Set(path, "v1"), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  ASSERT_THAT(client().Set(path, "v2"), IsOk());
  Barrier(path);
  EXPECT_THAT(events.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
  EXPECT_TRUE(events.events()[0].reason.ok());
}

TEST_P(ClientWatchTest, GetAndWatchFiresDeleted) {
  const std::string path = P("doomed");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> watched, client().GetAndWatch(path, events.Callback()));
  ASSERT_THAT(client().Delete(path), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  Barrier(path);  // re-creates it
  EXPECT_THAT(events.events(), ElementsAre(EventIs(WatchEventType::kDeleted, path)));
}

TEST_P(ClientWatchTest, ExistsAndWatchOnMissingNodeFiresCreated) {
  const std::string path = P("later");
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<std::optional<Stat>> watched,
                          client().ExistsAndWatch(path, events.Callback()));
  EXPECT_EQ(watched.result, std::nullopt);
  ASSERT_THAT(client().Create(path, ""), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  ASSERT_THAT(client().Delete(path), IsOk());
  Barrier(path);
  EXPECT_THAT(events.events(), ElementsAre(EventIs(WatchEventType::kCreated, path)));
}

TEST_P(ClientWatchTest, ExistsAndWatchOnExistingNodeFiresDataChangedAndDeleted) {
  const std::string path = P("here");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  EventLog changed, deleted;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<std::optional<Stat>> w1,
                          client().ExistsAndWatch(path, changed.Callback()));
  ASSERT_TRUE(w1.result.has_value());
  ASSERT_THAT(client().Set(path, "x"), IsOk());
  ASSERT_TRUE(changed.WaitForSize(1));
  ZK_ASSERT_OK_AND_ASSIGN(Watched<std::optional<Stat>> w2,
                          client().ExistsAndWatch(path, deleted.Callback()));
  ASSERT_THAT(client().Delete(path), IsOk());
  ASSERT_TRUE(deleted.WaitForSize(1));
  Barrier(path);
  EXPECT_THAT(changed.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
  EXPECT_THAT(deleted.events(), ElementsAre(EventIs(WatchEventType::kDeleted, path)));
}

TEST_P(ClientWatchTest, GetChildrenAndWatchFiresChildrenChangedAndDeleted) {
  const std::string parent = P("parent");
  ASSERT_THAT(client().Create(parent, ""), IsOk());
  EventLog children_changed;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<ChildrenResult> w1,
                          client().GetChildrenAndWatch(parent, children_changed.Callback()));
  EXPECT_THAT(w1.result.children, IsEmpty());
  // A data change of the parent does not fire a child watch.
  ASSERT_THAT(client().Set(parent, "data"), IsOk());
  ASSERT_THAT(client().Create(parent + "/kid", ""), IsOk());
  ASSERT_TRUE(children_changed.WaitForSize(1));
  ASSERT_THAT(client().Create(parent + "/kid2", ""), IsOk());

  EventLog second;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<ChildrenResult> w2,
                          client().GetChildrenAndWatch(parent, second.Callback()));
  EXPECT_THAT(w2.result.children, ::testing::UnorderedElementsAre("kid", "kid2"));
  EXPECT_EQ(w2.result.stat.num_children, 2);
  ASSERT_THAT(client().Delete(parent + "/kid"), IsOk());
  ASSERT_TRUE(second.WaitForSize(1));
  Barrier(parent);
  EXPECT_THAT(children_changed.events(),
              ElementsAre(EventIs(WatchEventType::kChildrenChanged, parent)));
  EXPECT_THAT(second.events(), ElementsAre(EventIs(WatchEventType::kChildrenChanged, parent)));
}

TEST_P(ClientWatchTest, ChildWatchFiresDeletedWhenParentGoesAway) {
  const std::string parent = P("lonely");
  ASSERT_THAT(client().Create(parent, ""), IsOk());
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<ChildrenResult> watched,
                          client().GetChildrenAndWatch(parent, events.Callback()));
  ASSERT_THAT(client().Delete(parent), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  Barrier(parent);
  EXPECT_THAT(events.events(), ElementsAre(EventIs(WatchEventType::kDeleted, parent)));
}

TEST_P(ClientWatchTest, TwoHandlesOnOnePathBothFire) {
  const std::string path = P("shared");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  EventLog a, b, c;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> wa, client().GetAndWatch(path, a.Callback()));
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> wb, client().GetAndWatch(path, b.Callback()));
  // exists and getData watches are the same (data) kind: shared too.
  ZK_ASSERT_OK_AND_ASSIGN(Watched<std::optional<Stat>> wc,
                          client().ExistsAndWatch(path, c.Callback()));
  ASSERT_THAT(client().Set(path, "1"), IsOk());
  ASSERT_TRUE(a.WaitForSize(1));
  ASSERT_TRUE(b.WaitForSize(1));
  ASSERT_TRUE(c.WaitForSize(1));
  ASSERT_THAT(client().Set(path, "2"), IsOk());
  Barrier(path);
  for (EventLog* log : {&a, &b, &c}) {
    EXPECT_THAT(log->events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
  }
}

TEST_P(ClientWatchTest, TwoClientsWatchIndependently) {
  const std::string path = P("both");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  std::unique_ptr<Client> other = NewClient();
  ASSERT_NE(other, nullptr);
  EventLog mine, theirs;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w1, client().GetAndWatch(path, mine.Callback()));
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w2, other->GetAndWatch(path, theirs.Callback()));
  ASSERT_THAT(other->Set(path, "x"), IsOk());
  ASSERT_TRUE(mine.WaitForSize(1));
  ASSERT_TRUE(theirs.WaitForSize(1));
  EXPECT_THAT(mine.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
  EXPECT_THAT(theirs.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
}

TEST_P(ClientWatchTest, DestroyedHandleNeverRunsWhileSharedOneFires) {
  const std::string path = P("cancel-shared");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  EventLog dropped, kept;
  {
    ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w, client().GetAndWatch(path, dropped.Callback()));
    ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> k, client().GetAndWatch(path, kept.Callback()));
    Watch keep = std::move(k.watch);
    w.watch.Cancel();
    EXPECT_FALSE(w.watch.active());
    ASSERT_THAT(client().Set(path, "x"), IsOk());
    ASSERT_TRUE(kept.WaitForSize(1));
  }
  EXPECT_EQ(dropped.size(), 0u);
  EXPECT_THAT(kept.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
}

TEST_P(ClientWatchTest, DestroyedLastHandleNeverRuns) {
  const std::string path = P("cancel-alone");
  const std::string other = P("cancel-other");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  ASSERT_THAT(client().Create(other, ""), IsOk());
  EventLog dropped, barrier;
  {
    ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w, client().GetAndWatch(path, dropped.Callback()));
  }  // destroyed: the server-side watch may be removed
  // The same path may be watched again afterwards, by a new handle.
  EventLog again;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<std::optional<Stat>> w2, client().ExistsAndWatch(other, barrier.Callback()));
  ASSERT_THAT(client().Set(path, "x"), IsOk());
  ASSERT_THAT(client().Set(other, "x"), IsOk());  // ordered after the first change
  ASSERT_TRUE(barrier.WaitForSize(1));
  EXPECT_EQ(dropped.size(), 0u);

  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w3, client().GetAndWatch(path, again.Callback()));
  ASSERT_THAT(client().Set(path, "y"), IsOk());
  ASSERT_TRUE(again.WaitForSize(1));
  EXPECT_THAT(again.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
  EXPECT_EQ(dropped.size(), 0u);
}

// Destroying a handle while its event is being delivered: after Cancel returns, the callback
// is not running and will not start.
TEST_P(ClientWatchTest, CancelWaitsForARunningCallback) {
  const std::string path = P("slow");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  zk::internal::Notification entered, release;
  std::atomic<bool> finished{false};
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w, client().GetAndWatch(path, [&](const WatchEvent&) {
    entered.Notify();
    release.WaitForNotification();
    finished = true;
  }));
  ASSERT_THAT(client().Set(path, "x"), IsOk());
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kWait));
  std::thread releaser([&] { release.Notify(); });
  w.watch.Cancel();
  EXPECT_TRUE(finished.load()) << "Cancel returned while the callback was still running";
  releaser.join();
}

TEST_P(ClientWatchTest, CancelFromInsideTheCallbackIsAllowed) {
  const std::string path = P("self-cancel");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  Watch handle;
  zk::internal::Mutex mu;
  zk::internal::Notification fired;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w, client().GetAndWatch(path, [&](const WatchEvent&) {
    zk::internal::MutexLock lock(&mu);
    handle.Cancel();
    fired.Notify();
  }));
  {
    zk::internal::MutexLock lock(&mu);
    handle = std::move(w.watch);
  }
  ASSERT_THAT(client().Set(path, "x"), IsOk());
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(kWait));
  zk::internal::MutexLock lock(&mu);
  EXPECT_FALSE(handle.active());
}

TEST_P(ClientWatchTest, FailedReadLeavesNoWatch) {
  const std::string path = P("absent");
  EventLog get_events, children_events;
  EXPECT_THAT(client().GetAndWatch(path, get_events.Callback()),
              StatusIs(absl::StatusCode::kNotFound, path));
  EXPECT_THAT(client().GetChildrenAndWatch(path, children_events.Callback()),
              StatusIs(absl::StatusCode::kNotFound, path));
  Barrier(path);  // creates it
  ASSERT_THAT(client().Create(path + "/kid", ""), IsOk());
  Barrier(path);
  EXPECT_EQ(get_events.size(), 0u);
  EXPECT_EQ(children_events.size(), 0u);
}

TEST_P(ClientWatchTest, WatchCallbackMayReadAndRewatch) {
  const std::string path = P("chain");
  ASSERT_THAT(client().Create(path, "0"), IsOk());
  // Each event re-reads and re-arms until it has seen "3".
  zk::internal::Mutex mu;
  std::vector<std::string> seen;
  std::vector<Watch> handles;
  zk::internal::Notification done;
  std::function<void(const WatchEvent&)> on_event = [&](const WatchEvent&) {
    absl::StatusOr<Watched<GetResult>> again = client().GetAndWatch(path, on_event);
    ASSERT_THAT(again, IsOk());
    zk::internal::MutexLock lock(&mu);
    seen.push_back(again->result.data);
    handles.push_back(std::move(again->watch));
    if (again->result.data == "3") done.Notify();
  };
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> first, client().GetAndWatch(path, on_event));
  for (int i = 1; i <= 3; ++i) {
    const size_t before = [&] {
      zk::internal::MutexLock lock(&mu);
      return seen.size();
    }();
    ASSERT_THAT(client().Set(path, std::to_string(i)), IsOk());
    ASSERT_TRUE(WaitFor(
        [&] {
          zk::internal::MutexLock lock(&mu);
          return seen.size() > before;
        },
        kWait));
  }
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  first.watch.Cancel();
  zk::internal::MutexLock lock(&mu);
  EXPECT_THAT(seen, ElementsAre("1", "2", "3"));
  handles.clear();
}

TEST_P(ClientWatchTest, AsyncWatchedReadsCompleteOnce) {
  const std::string path = P("async");
  ASSERT_THAT(client().Create(path, "d"), IsOk());
  EventLog e1, e2, e3;
  std::atomic<int> calls{0};
  zk::internal::Mutex mu;
  std::vector<Watch> handles;
  CloseOnExit close_on_exit(client_);
  auto keep = [&](auto r) {
    ASSERT_THAT(r, IsOk());
    zk::internal::MutexLock lock(&mu);
    handles.push_back(std::move(r->watch));
    ++calls;
  };
  client().AsyncGetAndWatch(path, e1.Callback(), [&](absl::StatusOr<Watched<GetResult>> r) {
    if (r.ok()) {
      EXPECT_EQ(r->result.data, "d");
    }
    keep(std::move(r));
  });
  client().AsyncExistsAndWatch(path, e2.Callback(),
                               [&](absl::StatusOr<Watched<std::optional<Stat>>> r) { keep(std::move(r)); });
  client().AsyncGetChildrenAndWatch(path, e3.Callback(),
                                    [&](absl::StatusOr<Watched<ChildrenResult>> r) { keep(std::move(r)); });
  ASSERT_TRUE(WaitFor([&] { return calls.load() == 3; }, kWait));
  ASSERT_THAT(client().Create(path + "/kid", ""), IsOk());
  ASSERT_TRUE(e3.WaitForSize(1));
  ASSERT_THAT(client().Set(path, "x"), IsOk());
  ASSERT_TRUE(e1.WaitForSize(1));
  ASSERT_TRUE(e2.WaitForSize(1));
  EXPECT_THAT(e3.events(), ElementsAre(EventIs(WatchEventType::kChildrenChanged, path)));
  EXPECT_THAT(e1.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
  EXPECT_EQ(calls.load(), 3);
  zk::internal::MutexLock lock(&mu);
  handles.clear();
}

TEST_P(ClientWatchTest, CloseEndsLiveWatchesWithNotWatching) {
  const std::string path = P("closing");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  EventLog data, children, persistent;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w1, client().GetAndWatch(path, data.Callback()));
  ZK_ASSERT_OK_AND_ASSIGN(Watched<ChildrenResult> w2,
                          client().GetChildrenAndWatch(path, children.Callback()));
  ZK_ASSERT_OK_AND_ASSIGN(Watch w3, client().AddPersistentWatch(path, {}, persistent.Callback()));
  client().Close();
  for (EventLog* log : {&data, &children, &persistent}) {
    const char* name = log == &data ? "data" : log == &children ? "children" : "persistent";
    ASSERT_TRUE(log->WaitForSize(1)) << "the " << name << " watch got no kNotWatching";
    ASSERT_EQ(log->size(), 1u);
    EXPECT_EQ(log->events()[0].type, WatchEventType::kNotWatching);
    EXPECT_FALSE(log->events()[0].reason.ok());
  }
  w1.watch.Cancel();
  w2.watch.Cancel();
  w3.Cancel();
}

// --- persistent watches -----------------------------------------------------------------------

TEST_P(ClientWatchTest, PersistentWatchReportsEveryKindOfChange) {
  const std::string path = P("pw");
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(Watch watch, client().AddPersistentWatch(path, {}, events.Callback()));
  EXPECT_TRUE(watch.active());
  ASSERT_THAT(client().Create(path, "0"), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  ASSERT_THAT(client().Set(path, "1"), IsOk());
  ASSERT_TRUE(events.WaitForSize(2));
  ASSERT_THAT(client().Create(path + "/kid", ""), IsOk());
  ASSERT_TRUE(events.WaitForSize(3));
  ASSERT_THAT(client().Set(path + "/kid", "grandchild data is not ours"), IsOk());
  ASSERT_THAT(client().Delete(path + "/kid"), IsOk());
  ASSERT_TRUE(events.WaitForSize(4));
  ASSERT_THAT(client().Delete(path), IsOk());
  ASSERT_TRUE(events.WaitForSize(5));
  ASSERT_THAT(client().Create(path, "again"), IsOk());  // still watching after a delete
  ASSERT_TRUE(events.WaitForSize(6));
  EXPECT_THAT(events.events(),
              ElementsAre(EventIs(WatchEventType::kCreated, path),
                          EventIs(WatchEventType::kDataChanged, path),
                          EventIs(WatchEventType::kChildrenChanged, path),
                          EventIs(WatchEventType::kChildrenChanged, path),
                          EventIs(WatchEventType::kDeleted, path),
                          EventIs(WatchEventType::kCreated, path)));
}

TEST_P(ClientWatchTest, RecursivePersistentWatchReportsDescendants) {
  const std::string top = P("rw");
  ASSERT_THAT(client().Create(top, ""), IsOk());
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(Watch watch, client().AddPersistentWatch(top, {.recursive = true},
                                                                   events.Callback()));
  ASSERT_THAT(client().Create(top + "/a", ""), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  ASSERT_THAT(client().Create(top + "/a/b", ""), IsOk());
  ASSERT_TRUE(events.WaitForSize(2));
  ASSERT_THAT(client().Set(top + "/a/b", "x"), IsOk());
  ASSERT_TRUE(events.WaitForSize(3));
  ASSERT_THAT(client().Set(top, "top"), IsOk());
  ASSERT_TRUE(events.WaitForSize(4));
  ASSERT_THAT(client().Delete(top + "/a/b"), IsOk());
  ASSERT_TRUE(events.WaitForSize(5));
  EXPECT_THAT(events.events(), ElementsAre(EventIs(WatchEventType::kCreated, top + "/a"),
                                           EventIs(WatchEventType::kCreated, top + "/a/b"),
                                           EventIs(WatchEventType::kDataChanged, top + "/a/b"),
                                           EventIs(WatchEventType::kDataChanged, top),
                                           EventIs(WatchEventType::kDeleted, top + "/a/b")));
  // Outside the subtree: nothing. A sibling with a common name prefix is outside too.
  ASSERT_THAT(client().Create(top + "x", ""), IsOk());
  ASSERT_THAT(client().Create(top + "/c", ""), IsOk());
  ASSERT_TRUE(events.WaitForSize(6));
  EXPECT_THAT(events.events().back(), EventIs(WatchEventType::kCreated, top + "/c"));
  for (const WatchEvent& e : events.events()) {
    EXPECT_NE(e.type, WatchEventType::kChildrenChanged) << ::testing::PrintToString(e);
  }
}

// 50 rapid sets: events may coalesce, but the last event's re-read sees the last value.
// The engines keep persistent watches differently: the native engine adds one server-side
// watch (addWatch) for a whole subtree and reports every event the server sends, in order; the
// C library's engine arms one-shot watches on every node (two per node) and re-reads after
// each event, so rapid changes may coalesce. Both end on the final state.
TEST_P(ClientWatchTest, PersistentWatchServerSideOnTheNativeEngineEmulatedOnTheCLibrary) {
  if (!NativeEngineFromEnvironment()) {
    GTEST_SKIP() << "pins each engine itself; its run with ZKCPP_ENGINE=native covers it";
  }
  for (EngineKind engine : {EngineKind::kNative, EngineKind::kCLibrary}) {
    const bool native = engine == EngineKind::kNative;
    SCOPED_TRACE(native ? "native" : "C library");
    ClientOptions options = Options();
    options.engine = engine;
    std::unique_ptr<Client> c = NewClient(options);
    ASSERT_NE(c, nullptr);
    CloseOnExit close_on_exit(c);
    const std::string root = P(native ? "tree-native" : "tree-clib");
    constexpr int kNodes = 10;
    ASSERT_THAT(client().Create(root, ""), IsOk());
    for (int i = 0; i < kNodes; ++i) {
      ASSERT_THAT(client().Create(root + "/n" + std::to_string(i), ""), IsOk());
    }
    EventLog events;
    ZK_ASSERT_OK_AND_ASSIGN(Watch watch,
                            c->AddPersistentWatch(root, {.recursive = true}, events.Callback()));
    // One server watch for the subtree, or a data and a child watch per node.
    const int64_t expected = native ? 1 : 2 * (kNodes + 1);
    EXPECT_TRUE(WaitFor([&] { return c->Metrics().native_watches == expected; }, kWait))
        << c->Metrics().native_watches << " server-side watches, expected " << expected;

    constexpr int kSets = 40;
    const std::string hot = root + "/n0";
    std::atomic<int> done{0};
    for (int i = 0; i < kSets; ++i) {
      client().AsyncSet(hot, std::to_string(i), std::nullopt, [&](absl::StatusOr<Stat> r) {
        EXPECT_THAT(r, IsOk());
        ++done;
      });
    }
    ASSERT_TRUE(WaitFor([&] { return done.load() == kSets; }, kWait));
    ASSERT_THAT(client().Create(root + "/n5/deep", ""), IsOk());  // marks the end
    ASSERT_TRUE(WaitFor(
        [&] {
          std::vector<WatchEvent> seen = events.events();
          return !seen.empty() && seen.back().path == root + "/n5/deep";
        },
        kWait)) << ::testing::PrintToString(events.events());
    std::vector<WatchEvent> seen = events.events();
    ASSERT_FALSE(seen.empty());
    EXPECT_THAT(seen.back(), EventIs(WatchEventType::kCreated, root + "/n5/deep"));
    seen.pop_back();
    for (const WatchEvent& e : seen) EXPECT_THAT(e, EventIs(WatchEventType::kDataChanged, hot));
    if (native) {
      EXPECT_EQ(seen.size(), static_cast<size_t>(kSets)) << "an event was lost or coalesced";
    } else {
      EXPECT_GE(seen.size(), 1u);
      EXPECT_LE(seen.size(), static_cast<size_t>(kSets));
    }
    watch.Cancel();
    EXPECT_TRUE(WaitFor([&] { return c->Metrics().native_watches == 0; }, kWait))
        << "the server-side watches outlived the handle";
  }
}

TEST_P(ClientWatchTest, PersistentWatchNeverMissesTheFinalState) {
  zk::internal::Mutex mu;
  std::string last_read;
  int events = 0;
  int wrong = 0;
  std::atomic<int> done{0};
  CloseOnExit close_on_exit(client_);
  for (bool recursive : {false, true}) {
    SCOPED_TRACE(recursive ? "recursive" : "non-recursive");
    const std::string path = P(recursive ? "rapid-r" : "rapid");
    ASSERT_THAT(client().Create(path, "start"), IsOk());
    {
      zk::internal::MutexLock lock(&mu);
      last_read.clear();
      events = 0;
      wrong = 0;
    }
    done = 0;
    ZK_ASSERT_OK_AND_ASSIGN(
        Watch watch,
        client().AddPersistentWatch(path, {.recursive = recursive}, [&, path](const WatchEvent& e) {
          absl::StatusOr<GetResult> got = client().Get(path);
          zk::internal::MutexLock lock(&mu);
          ++events;
          if (e.type != WatchEventType::kDataChanged || e.path != path) ++wrong;
          if (got.ok()) last_read = got->data;
        }));
    for (int i = 0; i < 50; ++i) {
      client().AsyncSet(path, "v" + std::to_string(i), std::nullopt,
                        [&](absl::StatusOr<Stat> r) {
                          EXPECT_THAT(r, IsOk());
                          ++done;
                        });
    }
    ASSERT_TRUE(WaitFor([&] { return done.load() == 50; }, kWait));
    ASSERT_TRUE(WaitFor(
        [&] {
          zk::internal::MutexLock lock(&mu);
          return last_read == "v49";
        },
        kWait))
        << "the final value was never reported";
    watch.Cancel();
    zk::internal::MutexLock lock(&mu);
    EXPECT_GE(events, 1);
    EXPECT_LE(events, 50);
    EXPECT_EQ(wrong, 0);
  }
}

TEST_P(ClientWatchTest, RecursiveWatchFinalStateOfManyNodes) {
  const std::string top = P("many");
  ASSERT_THAT(client().Create(top, ""), IsOk());
  zk::internal::Mutex mu;
  std::map<std::string, WatchEventType> last;
  CloseOnExit close_on_exit(client_);
  ZK_ASSERT_OK_AND_ASSIGN(Watch watch, client().AddPersistentWatch(top, {.recursive = true},
                                                                   [&](const WatchEvent& e) {
                                                                     zk::internal::MutexLock lock(&mu);
                                                                     last[e.path] = e.type;
                                                                   }));
  std::atomic<int> done{0};
  constexpr int kNodes = 10;
  for (int i = 0; i < kNodes; ++i) {
    const std::string node = top + "/n" + std::to_string(i);
    client().AsyncCreate(node, "", {}, [&](auto r) {
      EXPECT_THAT(r, IsOk());
      ++done;
    });
    client().AsyncSet(node, "x", std::nullopt, [&](auto r) {
      EXPECT_THAT(r, IsOk());
      ++done;
    });
    if (i % 2 == 0) {
      client().AsyncDelete(node, std::nullopt, [&](absl::Status s) {
        EXPECT_THAT(s, IsOk());
        ++done;
      });
    }
  }
  ASSERT_TRUE(WaitFor([&] { return done.load() == kNodes * 2 + kNodes / 2; }, kWait));
  // Final state: odd nodes exist (last event created or data changed), even ones are gone. An
  // even node created and deleted between two re-arms of the emulation may never be reported
  // at all (its final state, absent, is what the watch saw before); if it was reported, its
  // last event is a deletion.
  ASSERT_TRUE(WaitFor(
      [&] {
        zk::internal::MutexLock lock(&mu);
        for (int i = 0; i < kNodes; ++i) {
          auto it = last.find(top + "/n" + std::to_string(i));
          const bool even = i % 2 == 0;
          if (it == last.end()) {
            if (even) continue;
            return false;
          }
          if ((it->second == WatchEventType::kDeleted) != even) return false;
        }
        return true;
      },
      kWait));
}

// A persistent watch whose start fails hands out no handle: nothing of it may stay behind (its
// cancel hook and the watcher kept each other, and the client's engine, alive: the sanitizer
// stage's leak check catches that).
TEST_P(ClientWatchTest, PersistentWatchPastTheBudgetFailsAndLeavesNothing) {
  ClientOptions options = Options();
  options.engine = EngineKind::kCLibrary;  // the native engine has no budget
  options.watch_budget_bytes = 4;  // shorter than any watched path
  std::unique_ptr<Client> c = NewClient(options);
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(c->AddPersistentWatch(P("budget"), {}, [](const WatchEvent&) {}),
              StatusIs(absl::StatusCode::kResourceExhausted, "watch budget"));
}

TEST_P(ClientWatchTest, DestroyedPersistentWatchStopsReporting) {
  const std::string path = P("pw-stop");
  const std::string other = P("pw-other");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  EventLog dropped, barrier;
  {
    ZK_ASSERT_OK_AND_ASSIGN(Watch watch, client().AddPersistentWatch(path, {}, dropped.Callback()));
    ASSERT_THAT(client().Set(path, "1"), IsOk());
    ASSERT_TRUE(dropped.WaitForSize(1));
  }
  ZK_ASSERT_OK_AND_ASSIGN(Watch other_watch, client().AddPersistentWatch(other, {}, barrier.Callback()));
  ASSERT_THAT(client().Set(path, "2"), IsOk());
  ASSERT_THAT(client().Create(other, ""), IsOk());
  ASSERT_TRUE(barrier.WaitForSize(1));
  EXPECT_THAT(dropped.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
}

TEST_P(ClientWatchTest, PersistentWatchAndOneShotWatchOnOnePath) {
  const std::string path = P("mixed");
  ASSERT_THAT(client().Create(path, ""), IsOk());
  EventLog persistent, one_shot;
  ZK_ASSERT_OK_AND_ASSIGN(Watch pw, client().AddPersistentWatch(path, {}, persistent.Callback()));
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w, client().GetAndWatch(path, one_shot.Callback()));
  ASSERT_THAT(client().Set(path, "1"), IsOk());
  ASSERT_TRUE(persistent.WaitForSize(1));
  ASSERT_TRUE(one_shot.WaitForSize(1));
  ASSERT_THAT(client().Set(path, "2"), IsOk());
  ASSERT_TRUE(persistent.WaitForSize(2));
  Barrier(path);
  EXPECT_THAT(one_shot.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, path)));
  EXPECT_THAT(persistent.events()[1], EventIs(WatchEventType::kDataChanged, path));
}

ZK_INSTANTIATE_BACKEND_TEST(ClientWatchTest);

}  // namespace
}  // namespace zk::testing
