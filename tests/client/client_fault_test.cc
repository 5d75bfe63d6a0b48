// zkcpp client tests with fault injection, on every backend: server-side session expiry, server
// crash + restart, a frozen server. Sessions are short so that the suite stays fast.

#include <atomic>
#include <cstdlib>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "zk/internal/sync.h"
#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "zk/client.h"
#include "testing/tcp_relay.h"

#if ZKCPP_HAVE_EMBEDDED_SERVER
#include "zk/testing/embedded_server.h"
#endif

namespace zk::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Ne;

class ClientFaultTest : public ClientTest {
 protected:
  // For the tests that restart the server: the longest session the real fixture grants
  // (20 ticks of 500 ms).
  static constexpr std::chrono::milliseconds kRestartSessionTimeout{10000};

  ClientOptions Options() override {
    return TestOptions(connect_string(), std::chrono::milliseconds(4000));
  }

  // Expires a session on the server and waits until `took_effect()`. On a real server the
  // expiry helper takes the session over on a second connection; the client, disconnected by
  // that, may reconnect first and take its session back, and the server then drops the helper's
  // connection (Unavailable, expiry not done): then it tries again.
  bool ForceExpiry(int64_t session_id, const std::string& password,
                   absl::FunctionRef<bool()> took_effect) {
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      const absl::Status expired = backend().ExpireSession(session_id, password);
      if (!expired.ok() && !absl::IsUnavailable(expired) && !absl::IsAborted(expired)) {
        ADD_FAILURE() << "ExpireSession: " << expired;
        return false;
      }
      if (WaitFor(took_effect, expired.ok() || absl::IsAborted(expired) ? kWait
                                                                         : absl::Seconds(2))) {
        return true;
      }
    }
    return false;
  }
  bool ForceExpiry(Client& c, const SessionLog& log) {
    return ForceExpiry(c.session_id(), c.session_password(), [&] {
      for (const SessionEvent& e : log.events()) {
        if (e.state == SessionState::kLost) return true;
      }
      return false;
    });
  }
};

// Server-side expiry: kLost, then kReconnected with a new session; the old ephemerals are gone,
// one-shot watches end with kNotWatching, and the client works on the new session.
TEST_P(ClientFaultTest, ServerSideExpiryOpensANewSession) {
  SessionLog log;
  Subscription sub = client().SubscribeSessionEvents(log.Callback());
  ASSERT_THAT(client().Create(P("eph"), "", {.mode = CreateMode::kEphemeral}), IsOk());
  ASSERT_THAT(client().Create(P("node"), ""), IsOk());
  EventLog data_watch, child_watch, exists_watch;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w1, client().GetAndWatch(P("node"), data_watch.Callback()));
  ZK_ASSERT_OK_AND_ASSIGN(Watched<ChildrenResult> w2,
                          client().GetChildrenAndWatch(P("node"), child_watch.Callback()));
  ZK_ASSERT_OK_AND_ASSIGN(Watched<std::optional<Stat>> w3,
                          client().ExistsAndWatch(P("absent"), exists_watch.Callback()));
  const int64_t old_session = client().session_id();

  ASSERT_TRUE(ForceExpiry(client(), log));

  std::optional<size_t> lost = log.WaitForState(SessionState::kLost);
  ASSERT_TRUE(lost.has_value()) << ::testing::PrintToString(log.events());
  std::optional<size_t> back = log.WaitForState(SessionState::kReconnected, *lost);
  ASSERT_TRUE(back.has_value()) << ::testing::PrintToString(log.events());
  const std::vector<SessionEvent> events = log.events();
  EXPECT_EQ(events[*lost].session_id, old_session);
  EXPECT_TRUE(events[*back].new_session);
  EXPECT_NE(events[*back].session_id, old_session);
  EXPECT_NE(events[*back].session_id, 0);
  ASSERT_THAT(client().WaitUntilConnected(std::chrono::seconds(20)), IsOk());
  EXPECT_EQ(client().session_id(), events[*back].session_id);

  for (EventLog* log : {&data_watch, &child_watch, &exists_watch}) {
    ASSERT_TRUE(log->WaitForSize(1));
    ASSERT_EQ(log->size(), 1u);
    EXPECT_EQ(log->events()[0].type, WatchEventType::kNotWatching);
    EXPECT_FALSE(log->events()[0].reason.ok());
  }
  EXPECT_THAT(client().Exists(P("eph")), IsOkAndHolds(Eq(std::nullopt)));
  // The new session works and owns new ephemerals.
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult eph2,
                          client().Create(P("eph2"), "", {.mode = CreateMode::kEphemeral}));
  EXPECT_EQ(eph2.stat.ephemeral_owner, client().session_id());
  // The old watches stay silent after the changes they watched.
  ASSERT_THAT(client().Set(P("node"), "x"), IsOk());
  ASSERT_THAT(client().Create(P("absent"), ""), IsOk());
  ASSERT_THAT(client().Create(P("node/kid"), ""), IsOk());
  EventLog barrier;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> wb, client().GetAndWatch(P("node"), barrier.Callback()));
  ASSERT_THAT(client().Set(P("node"), "y"), IsOk());
  ASSERT_TRUE(barrier.WaitForSize(1));
  for (EventLog* log : {&data_watch, &child_watch, &exists_watch}) EXPECT_EQ(log->size(), 1u);
}

// Expiry seen by another client: it learns of the ephemeral's deletion through its watch.
TEST_P(ClientFaultTest, ExpiryDeletesEphemeralsForOtherWatchers) {
  std::unique_ptr<Client> owner = NewClient();
  ASSERT_NE(owner, nullptr);
  ASSERT_THAT(owner->Create(P("lease"), "", {.mode = CreateMode::kEphemeral}), IsOk());
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<std::optional<Stat>> w,
                          client().ExistsAndWatch(P("lease"), events.Callback()));
  ASSERT_TRUE(w.result.has_value());
  ASSERT_TRUE(ForceExpiry(owner->session_id(), owner->session_password(),
                          [&] { return events.size() >= 1; }));
  EXPECT_THAT(events.events(), ElementsAre(EventIs(WatchEventType::kDeleted, P("lease"))));
}

// Persistent watches outlive an expiry: they resync on the new session and report what changed
// while the client was away.
TEST_P(ClientFaultTest, PersistentWatchResyncsAfterExpiry) {
  const std::string path = P("pw");
  ASSERT_THAT(client().Create(path, "0"), IsOk());
  zk::internal::Mutex mu;
  std::vector<WatchEvent> events;
  std::string last_data;
  ZK_ASSERT_OK_AND_ASSIGN(Watch watch, client().AddPersistentWatch(path, {.recursive = true},
                                                                   [&](const WatchEvent& e) {
                                                                     zk::internal::MutexLock lock(&mu);
                                                                     events.push_back(e);
                                                                   }));
  SessionLog log;
  Subscription sub = client().SubscribeSessionEvents(log.Callback());
  std::unique_ptr<Client> other = NewClient();
  ASSERT_NE(other, nullptr);

  ASSERT_TRUE(ForceExpiry(client(), log));
  // Changes while the watcher's session is gone (it may or may not have noticed yet).
  ASSERT_THAT(other->Set(path, "during"), IsOk());
  ASSERT_THAT(other->Create(path + "/kid", ""), IsOk());
  ASSERT_TRUE(log.WaitForState(SessionState::kReconnected).has_value());
  ASSERT_TRUE(WaitFor(
      [&] {
        zk::internal::MutexLock lock(&mu);
        bool data = false, kid = false;
        for (const WatchEvent& e : events) {
          if (e.type == WatchEventType::kDataChanged && e.path == path) data = true;
          if (e.type == WatchEventType::kCreated && e.path == path + "/kid") kid = true;
        }
        return data && kid;
      },
      kWait))
      << "changes made during the outage were not reported";
  // And it keeps watching on the new session.
  ASSERT_THAT(other->Set(path + "/kid", "after"), IsOk());
  ASSERT_TRUE(WaitFor(
      [&] {
        zk::internal::MutexLock lock(&mu);
        return !events.empty() && events.back().type == WatchEventType::kDataChanged &&
               events.back().path == path + "/kid";
      },
      kWait));
  zk::internal::MutexLock lock(&mu);
  for (const WatchEvent& e : events) {
    EXPECT_NE(e.type, WatchEventType::kNotWatching) << ::testing::PrintToString(e);
  }
}

// A crash + restart of the server: kSuspended, then kReconnected on the same session; ephemerals
// and watches survive.
// A client cut off by the network keeps its session, but the server does not replay what
// changed meanwhile (it restores persistent watches without the gap's events). On reconnect
// both kinds of persistent watch report exactly what changed while the client was away:
// nothing twice, nothing missed, nothing that did not change.
TEST_P(ClientFaultTest, PersistentWatchesReportChangesMadeWhileDisconnected) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<TcpRelay> relay, TcpRelay::Start(connect_string()));
  std::unique_ptr<Client> c = NewClient(TestOptions(relay->connect_string(), kRestartSessionTimeout));
  ASSERT_NE(c, nullptr);
  CloseOnExit close_on_exit(c);
  const std::string root = P("gap");
  for (const std::string& path : {root, root + "/gone", root + "/changed", root + "/same"}) {
    ASSERT_THAT(client().Create(path, "0"), IsOk());
  }
  EventLog recursive, single;
  ZK_ASSERT_OK_AND_ASSIGN(Watch w1, c->AddPersistentWatch(root, {.recursive = true},
                                                          recursive.Callback()));
  ZK_ASSERT_OK_AND_ASSIGN(Watch w2, c->AddPersistentWatch(root, {}, single.Callback()));
  SessionLog log;
  Subscription sub = c->SubscribeSessionEvents(log.Callback());

  // Cut the client off: its connection is reset and new ones hang until the thaw.
  relay->Freeze();
  relay->ResetConnections();
  ASSERT_TRUE(log.WaitForState(SessionState::kSuspended).has_value());
  ASSERT_THAT(client().Delete(root + "/gone"), IsOk());
  ASSERT_THAT(client().Set(root + "/changed", "1"), IsOk());
  ASSERT_THAT(client().Create(root + "/new", ""), IsOk());
  relay->Thaw();
  std::optional<size_t> back = log.WaitForState(SessionState::kReconnected);
  ASSERT_TRUE(back.has_value()) << ::testing::PrintToString(log.events());
  EXPECT_FALSE(log.events()[*back].new_session);

  ASSERT_TRUE(recursive.WaitForSize(3)) << ::testing::PrintToString(recursive.events());
  ASSERT_TRUE(single.WaitForSize(1));
  // A change after the resync marks the end of what the resync reports.
  ASSERT_THAT(client().Set(root, "end"), IsOk());
  ASSERT_TRUE(recursive.WaitForSize(4)) << ::testing::PrintToString(recursive.events());
  ASSERT_TRUE(single.WaitForSize(2)) << ::testing::PrintToString(single.events());
  std::vector<WatchEvent> seen = recursive.events();
  ASSERT_EQ(seen.size(), 4u) << ::testing::PrintToString(seen);
  EXPECT_THAT(std::vector<WatchEvent>(seen.begin(), seen.begin() + 3),
              ::testing::UnorderedElementsAre(
                  EventIs(WatchEventType::kDeleted, root + "/gone"),
                  EventIs(WatchEventType::kDataChanged, root + "/changed"),
                  EventIs(WatchEventType::kCreated, root + "/new")));
  EXPECT_THAT(seen[3], EventIs(WatchEventType::kDataChanged, root));
  EXPECT_THAT(single.events(),
              ElementsAre(EventIs(WatchEventType::kChildrenChanged, root),
                          EventIs(WatchEventType::kDataChanged, root)));
}

TEST_P(ClientFaultTest, ServerRestartKeepsTheSession) {
  // A session that outlives the restart: a real server is a JVM to start again, which takes
  // seconds on a loaded machine, and past its session timeout the client declares it lost.
  std::unique_ptr<Client> c = NewClient(TestOptions(connect_string(), kRestartSessionTimeout));
  ASSERT_NE(c, nullptr);
  CloseOnExit close_on_exit(c);
  SessionLog log;
  Subscription sub = c->SubscribeSessionEvents(log.Callback());
  ASSERT_THAT(c->Create(P("eph"), "", {.mode = CreateMode::kEphemeral}), IsOk());
  ASSERT_THAT(c->Create(P("node"), ""), IsOk());
  EventLog watch;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w, c->GetAndWatch(P("node"), watch.Callback()));
  const int64_t session = c->session_id();

  ASSERT_THAT(backend().Restart(), IsOk());

  std::optional<size_t> suspended = log.WaitForState(SessionState::kSuspended);
  ASSERT_TRUE(suspended.has_value()) << ::testing::PrintToString(log.events());
  std::optional<size_t> back = log.WaitForState(SessionState::kReconnected, *suspended);
  ASSERT_TRUE(back.has_value()) << ::testing::PrintToString(log.events());
  const std::vector<SessionEvent> events = log.events();
  EXPECT_FALSE(events[*back].new_session);
  EXPECT_EQ(events[*back].session_id, session);
  EXPECT_EQ(c->session_id(), session);
  for (const SessionEvent& e : events) {
    EXPECT_NE(e.state, SessionState::kLost) << ::testing::PrintToString(events);
  }
  ZK_ASSERT_OK_AND_ASSIGN(std::optional<Stat> eph, c->Exists(P("eph")));
  ASSERT_TRUE(eph.has_value());
  EXPECT_EQ(eph->ephemeral_owner, session);
  // The watch was re-registered on reconnect and fires for a change made afterwards.
  std::unique_ptr<Client> other = NewClient();
  ASSERT_NE(other, nullptr);
  ASSERT_THAT(other->Set(P("node"), "after restart"), IsOk());
  ASSERT_TRUE(watch.WaitForSize(1));
  EXPECT_THAT(watch.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, P("node"))));
}

// The C library restores every watch in one SetWatches frame, which the server refuses past its
// 1 MB frame limit (ZOOKEEPER-706), hence its watch budget. The native engine splits the frame:
// more than 1 MB of watched paths survive a server restart, and the first, a middle and the
// last of them still fire.
TEST_P(ClientFaultTest, NativeEngineRestoresWatchesPastOneMegabyte) {
  if (!NativeEngineFromEnvironment()) {
    GTEST_SKIP() << "a native-engine test; its run with ZKCPP_ENGINE=native covers it";
  }
  ClientOptions options = TestOptions(connect_string(), kRestartSessionTimeout);  // as above
  options.engine = EngineKind::kNative;
  std::unique_ptr<Client> c = NewClient(options);
  ASSERT_NE(c, nullptr);
  CloseOnExit close_on_exit(c);
  ASSERT_THAT(c->Create(P("many"), ""), IsOk());
  constexpr int kNodes = 1200;
  const std::string long_name(900, 'w');
  std::vector<std::string> paths;
  size_t path_bytes = 0;
  for (int i = 0; i < kNodes; ++i) {
    paths.push_back(P("many/" + long_name + std::to_string(i)));
    path_bytes += paths.back().size();
  }
  ASSERT_GT(path_bytes, size_t{1} << 20);
  EventLog events;
  std::vector<Watch> watches;
  for (const std::string& path : paths) {
    ASSERT_THAT(c->Create(path, ""), IsOk());
    ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w, c->GetAndWatch(path, events.Callback()));
    watches.push_back(std::move(w.watch));
  }
  SessionLog log;
  Subscription sub = c->SubscribeSessionEvents(log.Callback());
  const int64_t session = c->session_id();

  ASSERT_THAT(backend().Restart(), IsOk());

  std::optional<size_t> suspended = log.WaitForState(SessionState::kSuspended);
  ASSERT_TRUE(suspended.has_value()) << ::testing::PrintToString(log.events());
  ASSERT_TRUE(log.WaitForState(SessionState::kReconnected, *suspended).has_value())
      << ::testing::PrintToString(log.events());
  ASSERT_EQ(c->session_id(), session);
  std::unique_ptr<Client> other = NewClient();
  ASSERT_NE(other, nullptr);
  const std::vector<std::string> changed = {paths.front(), paths[kNodes / 2], paths.back()};
  for (const std::string& path : changed) ASSERT_THAT(other->Set(path, "changed"), IsOk());
  ASSERT_TRUE(events.WaitForSize(3));
  std::vector<std::string> fired;
  for (const WatchEvent& event : events.events()) {
    EXPECT_EQ(event.type, WatchEventType::kDataChanged);
    fired.push_back(event.path);
  }
  EXPECT_THAT(fired, ::testing::UnorderedElementsAreArray(changed));
}

// Operations issued while the client is disconnected are parked and sent once it reconnects.
TEST_P(ClientFaultTest, OpsIssuedWhileDisconnectedCompleteAfterReconnect) {
  ClientOptions options = TestOptions(connect_string(), kRestartSessionTimeout);  // as above
  options.operation_timeout = std::chrono::seconds(30);
  std::unique_ptr<Client> c = NewClient(options);
  ASSERT_NE(c, nullptr);
  SessionLog log;
  Subscription sub = c->SubscribeSessionEvents(log.Callback());
  const int64_t session = c->session_id();
  absl::Status restarted = absl::UnknownError("not run");
  std::thread restarter([&] { restarted = backend().Restart(); });
  const std::optional<size_t> suspended = log.WaitForState(SessionState::kSuspended);
  constexpr int kOps = 10;
  std::atomic<int> done{0};
  zk::internal::Mutex mu;
  std::vector<absl::Status> statuses;
  CloseOnExit close_on_exit(c);
  if (suspended.has_value()) {
    for (int i = 0; i < kOps; ++i) {
      c->AsyncCreate(P("q" + std::to_string(i)), "", {}, [&](absl::StatusOr<CreateResult> r) {
        zk::internal::MutexLock lock(&mu);
        statuses.push_back(r.status());
        ++done;
      });
    }
  }
  restarter.join();
  ASSERT_THAT(restarted, IsOk());
  ASSERT_TRUE(suspended.has_value()) << ::testing::PrintToString(log.events());
  ASSERT_TRUE(WaitFor([&] { return done.load() == kOps; }, kWait));
  {
    zk::internal::MutexLock lock(&mu);
    for (const absl::Status& s : statuses) EXPECT_THAT(s, IsOk());
  }
  ZK_ASSERT_OK_AND_ASSIGN(ChildrenResult children, client().GetChildren(Root()));
  EXPECT_EQ(children.children.size(), static_cast<size_t>(kOps));
  EXPECT_EQ(c->session_id(), session);
}

// A frozen server: a blocking call ends with DeadlineExceeded at its deadline (a write says its
// outcome is unknown), and the client recovers once the server answers again.
TEST_P(ClientFaultTest, FrozenServerGivesDeadlineExceeded) {
  ClientOptions options = Options();
  options.session_timeout = std::chrono::milliseconds(8000);
  options.operation_timeout = std::chrono::milliseconds(500);
  std::unique_ptr<Client> c = NewClient(options);
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Create(P("frozen"), "before"), IsOk());
  ASSERT_THAT(backend().Pause(), IsOk());
  absl::StatusOr<GetResult> read = c->Get(P("frozen"));
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kDeadlineExceeded, "get " + P("frozen")));
  EXPECT_FALSE(IsUnknownOutcome(read.status()));
  absl::StatusOr<Stat> write = c->Set(P("frozen"), "during");
  EXPECT_THAT(write, StatusIs(absl::StatusCode::kDeadlineExceeded, "set " + P("frozen")));
  EXPECT_TRUE(IsUnknownOutcome(write.status())) << write.status();
  ASSERT_THAT(backend().Resume(), IsOk());
  EXPECT_TRUE(WaitFor([&] { return c->Get(P("frozen")).ok(); }, kWait));
  // The unknown-outcome write was in fact applied once the server woke up (it was sent).
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<GetResult> got = client().Get(P("frozen"));
        return got.ok() && got->data == "during";
      },
      kWait));
}

// Close while another thread is blocked on a frozen server: the blocked call ends with
// Cancelled, promptly.
TEST_P(ClientFaultTest, CloseCancelsABlockedCall) {
  ClientOptions options = Options();
  options.operation_timeout = std::chrono::seconds(60);
  std::unique_ptr<Client> c = NewClient(options);
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Create(P("blocked"), ""), IsOk());
  ASSERT_THAT(backend().Pause(), IsOk());
  zk::internal::Notification started;
  absl::StatusOr<GetResult> result = absl::UnknownError("not run");
  std::atomic<bool> returned{false};
  CloseOnExit close_on_exit(c);
  std::thread blocked([&] {
    started.Notify();
    result = c->Get(P("blocked"));
    returned = true;
  });
  started.WaitForNotification();
  c->Close();
  EXPECT_TRUE(WaitFor([&] { return returned.load(); }, kWait));
  blocked.join();
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled));
  ASSERT_THAT(backend().Resume(), IsOk());
}

// Protected create across a connection loss: the create is in flight when the server crashes;
// afterwards there is exactly one node with the protected prefix, and it is the one returned.
TEST_P(ClientFaultTest, ProtectedCreateSurvivesConnectionLoss) {
  ClientOptions options = Options();
  options.session_timeout = std::chrono::milliseconds(8000);
  options.operation_timeout = std::chrono::seconds(30);
  std::unique_ptr<Client> c = NewClient(options);
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Create(P("locks"), ""), IsOk());
  struct Outcome {
    zk::internal::Notification done;
    absl::StatusOr<CreateResult> created = absl::UnknownError("not run");
  };
  for (CreateMode mode : {CreateMode::kEphemeralSequential, CreateMode::kPersistentSequential}) {
    SCOPED_TRACE(mode == CreateMode::kEphemeralSequential ? "ephemeral" : "persistent");
    ASSERT_THAT(c->DeleteRecursive(P("locks")), IsOk());
    ASSERT_THAT(c->Create(P("locks"), ""), IsOk());
    ASSERT_THAT(backend().Pause(), IsOk());
    // Shared with the callback, which may outlive this scope if an assertion fails.
    auto outcome = std::make_shared<Outcome>();
    c->AsyncCreate(P("locks/lock-"), "mine", {.mode = mode, .protect = true},
                   [outcome](absl::StatusOr<CreateResult> r) {
                     outcome->created = std::move(r);
                     outcome->done.Notify();
                   });
    ASSERT_THAT(backend().Restart(), IsOk());
    ASSERT_TRUE(outcome->done.WaitForNotificationWithTimeout(kWait));
    const absl::StatusOr<CreateResult>& created = outcome->created;
    ASSERT_THAT(created, IsOk());
    // Read through `c`: its create came back on a connection to the restarted server, while
    // the fixture's client may not have noticed the restart yet.
    ZK_ASSERT_OK_AND_ASSIGN(ChildrenResult children, c->GetChildren(P("locks")));
    ASSERT_EQ(children.children.size(), 1u) << ::testing::PrintToString(children.children);
    EXPECT_EQ(created->path, P("locks/" + children.children[0]));
    EXPECT_TRUE(std::regex_match(children.children[0],
                                 std::regex("_c_[0-9a-f-]{36}-lock-[0-9]{10}")))
        << children.children[0];
    ZK_ASSERT_OK_AND_ASSIGN(GetResult got, c->Get(created->path));
    EXPECT_EQ(got.data, "mine");
    if (mode == CreateMode::kEphemeralSequential) {
      EXPECT_EQ(got.stat.ephemeral_owner, c->session_id());
    }
  }
}

ZK_INSTANTIATE_BACKEND_TEST(ClientFaultTest);

#if ZKCPP_HAVE_EMBEDDED_SERVER
// A client on a read-only server looks for a read-write one, as the Java and C clients do (it
// asks the other hosts "isro"), and moves there when one answers "rw": kReadOnly, then
// kSuspended and kReconnected with a new session (the read-only server's session was local to
// it, unknown to any quorum), and writes work again. Two embedded servers that share nothing
// stand for a member cut off from its quorum and a member of that quorum.
TEST_P(ClientFaultTest, ReadOnlyClientMovesToAReadWriteServerOnceOneAnswers) {
  if (AsEmbeddedServer(backend()) == nullptr) {
    GTEST_SKIP() << "needs a read-only server beside a read-write one that does not end its "
                    "mode (a real member leaves read-only mode by closing every connection, so "
                    "the client never has to look): two embedded servers";
  }
  EmbeddedServerOptions server_options;
  server_options.four_letter_words = {"srvr", "isro"};  // readonlymode.enabled on both
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<EmbeddedServer> cut_off,
                          EmbeddedServer::Start(server_options));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<EmbeddedServer> quorum,
                          EmbeddedServer::Start(server_options));
  cut_off->SetReadOnly(true);
  ASSERT_THAT(quorum->Stop(), IsOk());  // the client can only reach the read-only one

  ClientOptions options = TestOptions(
      absl::StrCat(cut_off->connect_string(), ",", quorum->member_connect_string(0)),
      std::chrono::milliseconds(4000));
  options.allow_read_only = true;
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> c, Client::Connect(options));
  SessionLog log;
  Subscription sub = c->SubscribeSessionEvents(log.Callback());
  ASSERT_TRUE(WaitFor([&] { return c->state() == SessionState::kReadOnly; }, kWait));
  const int64_t read_only_session = c->session_id();
  EXPECT_NE(read_only_session, 0);
  EXPECT_THAT(c->Exists("/"), IsOk());
  EXPECT_THAT(c->Create("/on-read-only", ""), StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_THAT(quorum->Restart(), IsOk());
  std::optional<size_t> moved = log.WaitForState(SessionState::kReconnected);
  ASSERT_TRUE(moved.has_value()) << ::testing::PrintToString(log.events());
  const std::vector<SessionEvent> events = log.events();
  EXPECT_TRUE(events[*moved].new_session);
  EXPECT_NE(events[*moved].session_id, read_only_session);
  for (size_t i = 0; i < *moved; ++i) {
    EXPECT_NE(events[i].state, SessionState::kLost) << ::testing::PrintToString(events);
  }
  // On the read-write server now: a write works and is there, not on the read-only one.
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult made, c->Create("/on-read-write", "x"));
  EXPECT_EQ(made.path, "/on-read-write");
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> observer,
                          ConnectAndWait(TestOptions(quorum->connect_string())));
  EXPECT_THAT(observer->Exists("/on-read-write"), IsOkAndHolds(Ne(std::nullopt)));
}
#endif

#if ZKCPP_HAVE_EMBEDDED_SERVER
// Faults only the embedded server can inject: a reply held back after the server applied the
// request. Runs on every backend like the rest; skipped where the server cannot hold replies.
class HeldReplyTest : public ClientFaultTest {
 protected:
  void SetUp() override {
    ClientFaultTest::SetUp();
    if (HasFatalFailure()) return;
    server_ = AsEmbeddedServer(backend());
    if (server_ == nullptr) GTEST_SKIP() << "needs the embedded server's reply delay";
  }

  // A client whose session outlives the held replies (they end in a dropped connection, not an
  // expiry), with the "locks" parent made; nullptr after a test failure.
  std::unique_ptr<Client> NewLockClient(std::chrono::milliseconds operation_timeout) {
    ClientOptions options = Options();
    options.session_timeout = std::chrono::milliseconds(8000);
    options.operation_timeout = operation_timeout;
    std::unique_ptr<Client> c = NewClient(options);
    if (c == nullptr) return nullptr;
    const absl::Status made = c->Create(P("locks"), "").status();
    EXPECT_THAT(made, IsOk());
    return made.ok() ? std::move(c) : nullptr;
  }

  EmbeddedServer* server_ = nullptr;
};

// Protected create whose reply is lost after the server applied it: the client must find its
// own node by the prefix instead of creating a second one.
TEST_P(HeldReplyTest, ProtectedCreateFindsItsNodeAfterALostReply) {
  std::unique_ptr<Client> c = NewLockClient(std::chrono::seconds(30));
  ASSERT_NE(c, nullptr);
  SessionLog log;
  Subscription sub = c->SubscribeSessionEvents(log.Callback());
  const int64_t zxid_before = server_->last_zxid();
  server_->SetResponseDelay(std::chrono::seconds(60));
  zk::internal::Notification done;
  absl::StatusOr<CreateResult> created = absl::UnknownError("not run");
  CloseOnExit close_on_exit(c);  // declared after `done` and `created`: closes before they go
  c->AsyncCreate(P("locks/lock-"), "mine", {.mode = CreateMode::kEphemeralSequential, .protect = true},
                 [&](absl::StatusOr<CreateResult> r) {
                   created = std::move(r);
                   done.Notify();
                 });
  // Applied (the zxid moved) but its reply is held back: drop the connection.
  ASSERT_TRUE(WaitFor([&] { return server_->last_zxid() > zxid_before; }, kWait));
  server_->DropConnection(c->session_id());
  server_->SetResponseDelay(std::chrono::milliseconds(0));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  ASSERT_THAT(created, IsOk());
  EXPECT_TRUE(log.WaitForState(SessionState::kSuspended).has_value())
      << "the connection was not lost: the test did not exercise the recovery";
  ZK_ASSERT_OK_AND_ASSIGN(ChildrenResult children, client().GetChildren(P("locks")));
  ASSERT_EQ(children.children.size(), 1u) << ::testing::PrintToString(children.children);
  EXPECT_EQ(created->path, P("locks/" + children.children[0]));
  ZK_ASSERT_OK_AND_ASSIGN(GetResult got, client().Get(created->path));
  EXPECT_EQ(got.stat.ephemeral_owner, c->session_id());
}

// A protected create whose reply misses the operation deadline has an unknown outcome: the
// caller is told DeadlineExceeded, so the node, if the server made it, must not stay (a lock
// queued behind it would wait for the session's life).
TEST_P(HeldReplyTest, ProtectedCreateThatTimesOutLeavesNoNode) {
  std::unique_ptr<Client> c = NewLockClient(std::chrono::milliseconds(300));
  ASSERT_NE(c, nullptr);
  CloseOnExit close_on_exit(c);
  const int64_t session = c->session_id();
  const int64_t zxid_before = server_->last_zxid();
  server_->SetResponseDelay(std::chrono::seconds(60));
  absl::StatusOr<CreateResult> created =
      c->Create(P("locks/lock-"), "", {.mode = CreateMode::kEphemeralSequential, .protect = true});
  EXPECT_THAT(created.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The server applied it; its reply is still held back. Drop the connection to end the
  // delay; the client resumes its session.
  ASSERT_GT(server_->last_zxid(), zxid_before) << "the create was not applied: nothing to test";
  server_->DropConnection(c->session_id());
  server_->SetResponseDelay(std::chrono::milliseconds(0));
  EXPECT_TRUE(WaitFor([&] {
    absl::StatusOr<ChildrenResult> children = client().GetChildren(P("locks"));
    return children.ok() && children->children.empty();
  }, kWait)) << "the node of the timed-out create is still there";
  // Still the same session: the node did not just go with it.
  EXPECT_EQ(c->session_id(), session);
}

// A persistent watch whose re-read misses the operation deadline while the connection stays up
// gets no reconnect to resync it: it must read again by itself, or it stays silent for good.
TEST_P(HeldReplyTest, PersistentWatchOutlivesAReadPastTheDeadline) {
  if (NativeEngineFromEnvironment()) {
    GTEST_SKIP() << "the native engine's persistent watches read nothing on an event (server "
                    "side, addWatch); its run with ZKCPP_ENGINE=clib covers the emulation";
  }
  ClientOptions options = Options();
  options.operation_timeout = std::chrono::milliseconds(300);
  std::unique_ptr<Client> c = NewClient(options);
  ASSERT_NE(c, nullptr);
  CloseOnExit close_on_exit(c);
  const std::string path = P("watched");
  ASSERT_THAT(client().Create(path, "v0"), IsOk());
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(Watch watch, c->AddPersistentWatch(path, {}, events.Callback()));
  // The change fires the watch; the re-read's reply is held past the deadline.
  const uint64_t exists_errors = c->Metrics().of(Operation::kExists).errors;
  server_->SetResponseDelay(std::chrono::milliseconds(1000));
  auto set = std::make_shared<zk::internal::Notification>();  // may complete after a failure
  client().AsyncSet(path, "v1", std::nullopt, [set](absl::StatusOr<Stat>) { set->Notify(); });
  ASSERT_TRUE(WaitFor([&] { return c->Metrics().of(Operation::kExists).errors > exists_errors; },
                      kWait)) << "the re-read did not time out: nothing to test";
  server_->SetResponseDelay(std::chrono::milliseconds(0));
  ASSERT_TRUE(set->WaitForNotificationWithTimeout(kWait));
  ASSERT_TRUE(events.WaitForSize(1)) << "the change was never reported";
  ASSERT_THAT(client().Set(path, "v2"), IsOk());
  ASSERT_TRUE(events.WaitForSize(2)) << "the watch went quiet after a late read";
}

ZK_INSTANTIATE_BACKEND_TEST(HeldReplyTest);
#endif  // ZKCPP_HAVE_EMBEDDED_SERVER

}  // namespace
}  // namespace zk::testing
