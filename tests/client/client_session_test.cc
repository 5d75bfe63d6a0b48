// zkcpp client tests: session events, close, callback execution modes, client lifetime, on
// every backend. (Fault injection lives in client_fault_test.cc.)

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "zk/client.h"

namespace zk::testing {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;

class ClientSessionTest : public ClientTest {};

TEST_P(ClientSessionTest, SubscriberSeesConnected) {
  // Hold the handshake back so that the subscription is in place before it completes.
  ASSERT_THAT(backend().Pause(), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> c, Client::Connect(Options()));
  SessionLog log;
  Subscription sub = c->SubscribeSessionEvents(log.Callback());
  EXPECT_EQ(c->session_id(), 0);
  EXPECT_NE(c->state(), SessionState::kConnected);
  ASSERT_THAT(backend().Resume(), IsOk());
  ASSERT_THAT(c->WaitUntilConnected(std::chrono::seconds(20)), IsOk());
  ASSERT_TRUE(log.WaitForState(SessionState::kConnected).has_value());
  const SessionEvent first = log.events()[0];
  EXPECT_EQ(first.state, SessionState::kConnected);
  EXPECT_EQ(first.session_id, c->session_id());
  EXPECT_NE(c->session_id(), 0);
  EXPECT_FALSE(first.new_session);
  EXPECT_EQ(c->state(), SessionState::kConnected);
  EXPECT_EQ(c->session_password().size(), 16u);
  EXPECT_GT(c->negotiated_session_timeout().count(), 0);
  EXPECT_LE(c->negotiated_session_timeout(), Options().session_timeout);
}

TEST_P(ClientSessionTest, CloseEmitsClosedAndEndsTheSession) {
  std::unique_ptr<Client> c = NewClient();
  ASSERT_NE(c, nullptr);
  SessionLog log;
  Subscription sub = c->SubscribeSessionEvents(log.Callback());
  ASSERT_THAT(c->Create(P("eph"), "", {.mode = CreateMode::kEphemeral}), IsOk());
  c->Close();
  EXPECT_EQ(c->state(), SessionState::kClosed);
  ASSERT_TRUE(log.WaitForState(SessionState::kClosed).has_value());
  EXPECT_THAT(client().Exists(P("eph")), IsOkAndHolds(Eq(std::nullopt)));
  EXPECT_THAT(c->Get(P("eph")), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(c->Create(P("x"), ""), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(c->AddPersistentWatch(P("x"), {}, [](const WatchEvent&) {}),
              StatusIs(absl::StatusCode::kCancelled));
  std::atomic<int> calls{0};
  c->AsyncGet(P("eph"), [&](absl::StatusOr<GetResult> r) {
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
    ++calls;
  });
  c->AsyncMulti({op::Create{P("y"), ""}}, [&](absl::StatusOr<MultiResult> r) {
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
    ++calls;
  });
  EXPECT_TRUE(WaitFor([&] { return calls.load() == 2; }, kWait));
  c.reset();
  EXPECT_EQ(calls.load(), 2);
  EXPECT_THAT(client().Exists(P("x")), IsOkAndHolds(Eq(std::nullopt)));
  EXPECT_THAT(client().Exists(P("y")), IsOkAndHolds(Eq(std::nullopt)));
}

// After Close, an async call completes with Cancelled on the caller's thread before it returns,
// also on threads started later. Such a thread may get the ended loop's or dispatcher's thread
// id (glibc reuses them), and must not be taken for it: its call would be queued for a loop
// that no longer runs, and never complete (on the old code, every run here failed so).
TEST_P(ClientSessionTest, CallsFromThreadsStartedAfterCloseComplete) {
  std::unique_ptr<Client> c = NewClient();
  ASSERT_NE(c, nullptr);
  c->Close();
  for (int i = 0; i < 8; ++i) {
    std::thread caller([&] {
      bool called = false;
      c->AsyncGet(P("x"), [&](absl::StatusOr<GetResult> r) {
        EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
        called = true;
      });
      EXPECT_TRUE(called) << "thread " << i << ": the callback did not run before AsyncGet returned";
      EXPECT_THAT(c->Get(P("x")), StatusIs(absl::StatusCode::kCancelled));
    });
    caller.join();
  }
}

// Close() from a dispatcher callback cannot wait for the dispatcher (it runs on it); the
// destructor must still wait for every callback queued behind that one, as it promises.
TEST_P(ClientSessionTest, DestructorAfterCloseInACallbackWaitsForQueuedCallbacks) {
  std::unique_ptr<Client> c = NewClient();
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Create(P("n"), ""), IsOk());
  constexpr int kQueued = 100;
  zk::internal::Notification closed;
  std::atomic<int> after_close{0};
  c->AsyncSync("/", [&](absl::Status) {
    // Still out when the client closes: they complete (Cancelled), queued behind this callback.
    for (int i = 0; i < kQueued; ++i) {
      c->AsyncGet(P("n"), [&](absl::StatusOr<GetResult>) { ++after_close; });
    }
    c->Close();
    closed.Notify();
  });
  ASSERT_TRUE(closed.WaitForNotificationWithTimeout(kWait));
  c.reset();
  EXPECT_EQ(after_close.load(), kQueued);
}

// Close with 1,000 async ops in flight: exactly 1,000 callbacks, each OK or Cancelled.
TEST_P(ClientSessionTest, CloseWithThousandOpsInFlightCompletesEachOnce) {
  std::unique_ptr<Client> c = NewClient();
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Create(P("busy"), ""), IsOk());
  constexpr int kOps = 1000;
  std::vector<std::atomic<int>> calls(kOps);
  std::atomic<int> bad_code{0};
  zk::internal::Mutex mu;
  std::vector<absl::Status> bad;
  CloseOnExit close_on_exit(c);
  auto record = [&](int i, const absl::Status& s) {
    if (!s.ok() && s.code() != absl::StatusCode::kCancelled) {
      ++bad_code;
      zk::internal::MutexLock lock(&mu);
      bad.push_back(s);
    }
    ++calls[i];
  };
  for (int i = 0; i < kOps; ++i) {
    switch (i % 4) {
      case 0:
        c->AsyncGet(P("busy"), [&, i](auto r) { record(i, r.status()); });
        break;
      case 1:
        c->AsyncSet(P("busy"), std::to_string(i), std::nullopt,
                    [&, i](auto r) { record(i, r.status()); });
        break;
      case 2:
        c->AsyncCreate(P("busy/n" + std::to_string(i)), "", {},
                       [&, i](auto r) { record(i, r.status()); });
        break;
      case 3:
        c->AsyncExists(P("busy"), [&, i](auto r) { record(i, r.status()); });
        break;
    }
  }
  c->Close();
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& n : calls) {
          if (n.load() == 0) return false;
        }
        return true;
      },
      kWait));
  c.reset();  // joins the threads: nothing can run after this
  int total = 0;
  for (int i = 0; i < kOps; ++i) {
    EXPECT_EQ(calls[i].load(), 1) << "op " << i;
    total += calls[i].load();
  }
  EXPECT_EQ(total, kOps);
  EXPECT_EQ(bad_code.load(), 0);
  zk::internal::MutexLock lock(&mu);
  for (const absl::Status& s : bad) ADD_FAILURE() << "unexpected status " << s;
}

// Threads keep submitting (valid and invalid requests) while another closes: every callback
// still runs exactly once.
TEST_P(ClientSessionTest, SubmissionsRacingCloseCompleteOnce) {
  std::unique_ptr<Client> c = NewClient();
  ASSERT_NE(c, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  std::atomic<int> submitted{0};
  std::atomic<int> completed{0};
  std::atomic<int> bad_code{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) {
        ++submitted;
        const bool invalid = (i + t) % 3 == 0;
        c->AsyncExists(invalid ? std::string("bad") : Root(), [&, invalid](auto r) {
          const absl::StatusCode code = r.status().code();
          const bool allowed = code == absl::StatusCode::kCancelled ||
                               (invalid ? code == absl::StatusCode::kInvalidArgument : r.ok());
          if (!allowed) ++bad_code;
          ++completed;
        });
      }
    });
  }
  go = true;
  while (submitted.load() < kThreads * kPerThread / 4) std::this_thread::yield();
  c->Close();
  for (auto& t : threads) t.join();
  EXPECT_TRUE(WaitFor([&] { return completed.load() == kThreads * kPerThread; }, kWait))
      << completed.load() << " of " << kThreads * kPerThread << " callbacks ran";
  c.reset();
  EXPECT_EQ(completed.load(), kThreads * kPerThread);
  EXPECT_EQ(bad_code.load(), 0);
}

TEST_P(ClientSessionTest, BlockingCallFromInlineCallbackFailsInsteadOfDeadlocking) {
  ClientOptions options = Options();
  options.callback_execution = CallbackExecution::kInline;
  std::unique_ptr<Client> c = NewClient(options);
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Create(P("inline"), "v"), IsOk());
  zk::internal::Notification done;
  absl::StatusOr<GetResult> outer = absl::UnknownError("not run");
  absl::StatusOr<GetResult> nested = absl::UnknownError("not run");
  absl::Status nested_delete = absl::UnknownError("not run");
  CloseOnExit close_on_exit(c);
  c->AsyncGet(P("inline"), [&](absl::StatusOr<GetResult> r) {
    outer = std::move(r);
    nested = c->Get(P("inline"));
    nested_delete = c->Delete(P("inline"));
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_THAT(outer, IsOkAndHolds(::testing::Field(&GetResult::data, "v")));
  EXPECT_THAT(nested, StatusIs(absl::StatusCode::kFailedPrecondition, "get " + P("inline")));
  EXPECT_THAT(nested_delete, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(client().Exists(P("inline")), IsOkAndHolds(::testing::Ne(std::nullopt)));

  // Async calls from an inline callback are fine.
  zk::internal::Notification chained;
  absl::StatusOr<GetResult> second = absl::UnknownError("not run");
  c->AsyncGet(P("inline"), [&](absl::StatusOr<GetResult>) {
    c->AsyncGet(P("inline"), [&](absl::StatusOr<GetResult> r) {
      second = std::move(r);
      chained.Notify();
    });
  });
  ASSERT_TRUE(chained.WaitForNotificationWithTimeout(kWait));
  EXPECT_THAT(second, IsOk());

  // Inline watch and session callbacks run too.
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w, c->GetAndWatch(P("inline"), events.Callback()));
  ASSERT_THAT(client().Set(P("inline"), "w"), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  EXPECT_THAT(events.events()[0], EventIs(WatchEventType::kDataChanged, P("inline")));
}

TEST_P(ClientSessionTest, InlineWatchCallbackCannotBlockEither) {
  ClientOptions options = Options();
  options.callback_execution = CallbackExecution::kInline;
  std::unique_ptr<Client> c = NewClient(options);
  ASSERT_NE(c, nullptr);
  ASSERT_THAT(c->Create(P("w"), ""), IsOk());
  zk::internal::Notification done;
  absl::Status nested;
  CloseOnExit close_on_exit(c);
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w, c->GetAndWatch(P("w"), [&](const WatchEvent&) {
    nested = c->Sync(P("w"));
    done.Notify();
  }));
  ASSERT_THAT(client().Set(P("w"), "x"), IsOk());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_THAT(nested, StatusIs(absl::StatusCode::kFailedPrecondition, "sync " + P("w")));
}

// Destroying the client from one of its own callbacks is safe, in both execution modes and
// from completion, watch and session callbacks.
// The recipes' loop timers (ClientAccess::RunAfter) are cancellable: a lock acquired in time
// must not leave its deadline's timer queued. Timers run in (time, creation) order, so the later
// timer having run proves the cancelled one would have run by then.
TEST_P(ClientSessionTest, CancelledLoopTimerNeverRuns) {
  using internal::ClientAccess;
  std::atomic<bool> cancelled_ran{false};
  zk::internal::Notification later_ran;
  ClientAccess::RunOnLoopAndWait(client(), [&] {
    ClientAccess::LoopTimer doomed = ClientAccess::RunAfter(
        client(), std::chrono::milliseconds(20), [&] { cancelled_ran.store(true); });
    ClientAccess::RunAfter(client(), std::chrono::milliseconds(40), [&] { later_ran.Notify(); });
    ClientAccess::CancelTimer(client(), doomed);
    ClientAccess::CancelTimer(client(), doomed);  // twice: a no-op
    ClientAccess::CancelTimer(client(), {});      // the empty handle: a no-op
  });
  ASSERT_TRUE(later_ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(cancelled_ran.load());
}

TEST_P(ClientSessionTest, DestroyingClientFromItsOwnCallbackIsSafe) {
  for (CallbackExecution mode : {CallbackExecution::kDispatcherThread, CallbackExecution::kInline}) {
    for (int where = 0; where < 3; ++where) {
      SCOPED_TRACE(::testing::Message() << "inline=" << (mode == CallbackExecution::kInline)
                                        << " where=" << where);
      ClientOptions options = Options();
      options.callback_execution = mode;
      std::unique_ptr<Client> owned = NewClient(options);
      ASSERT_NE(owned, nullptr);
      const std::string path = P("self-" + std::to_string(static_cast<int>(mode)) + "-" +
                                 std::to_string(where));
      ASSERT_THAT(owned->Create(path, "", {.mode = CreateMode::kEphemeral}), IsOk());
      zk::internal::Mutex mu;
      std::unique_ptr<Client> holder;
      zk::internal::Notification destroyed;
      auto destroy = [&] {
        std::unique_ptr<Client> victim;
        {
          zk::internal::MutexLock lock(&mu);
          victim = std::move(holder);
        }
        if (victim == nullptr) return;
        victim.reset();
        destroyed.Notify();
      };
      Watched<GetResult> watched;
      Subscription sub;
      Client* raw = owned.get();
      {
        zk::internal::MutexLock lock(&mu);
        holder = std::move(owned);
      }
      if (where == 0) {
        raw->AsyncGet(path, [&](absl::StatusOr<GetResult>) { destroy(); });
      } else if (where == 1) {
        ZK_ASSERT_OK_AND_ASSIGN(watched, raw->GetAndWatch(path, [&](const WatchEvent&) { destroy(); }));
        ASSERT_THAT(client().Set(path, "x"), IsOk());
      } else {
        sub = raw->SubscribeSessionEvents([&](const SessionEvent&) { destroy(); });
        // The takeover of the session by the expiry helper already disconnects the client
        // (kSuspended), whose callback may close the session before the helper's own close:
        // then the helper reports the connection closed. Either way an event arrives.
        (void)backend().ExpireSession(raw->session_id(), raw->session_password());
      }
      ASSERT_TRUE(destroyed.WaitForNotificationWithTimeout(kWait));
      // The destroyed client closed its session: its ephemeral goes.
      EXPECT_TRUE(WaitFor(
          [&] {
            absl::StatusOr<std::optional<Stat>> stat = client().Exists(path);
            return stat.ok() && !stat->has_value();
          },
          kWait));
      watched.watch.Cancel();
      sub.Cancel();
    }
  }
}

TEST_P(ClientSessionTest, UnsubscribedCallbackNeverRuns) {
  std::unique_ptr<Client> c = NewClient();
  ASSERT_NE(c, nullptr);
  SessionLog kept, dropped;
  Subscription keep = c->SubscribeSessionEvents(kept.Callback());
  { Subscription gone = c->SubscribeSessionEvents(dropped.Callback()); }
  c->Close();
  ASSERT_TRUE(kept.WaitForState(SessionState::kClosed).has_value());
  EXPECT_THAT(dropped.events(), ::testing::IsEmpty());
}

ZK_INSTANTIATE_BACKEND_TEST(ClientSessionTest);

}  // namespace
}  // namespace zk::testing
