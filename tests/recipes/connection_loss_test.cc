// What a lock holder or a leader is told when its connection goes, however it goes: a send into
// a dead socket, a network partition (a frozen relay), a long pause of the client's own loop, a
// read-only server. On every backend; the client reaches the server through a TcpRelay.

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipe_test.h"
#include "testing/backend_test.h"
#include "testing/tcp_relay.h"
#include "zk/client.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "zk/path.h"
#include "zk/recipes/children_cache.h"
#include "zk/recipes/leader_election.h"
#include "zk/recipes/leader_selector.h"
#include "zk/recipes/lock.h"

#if ZKCPP_HAVE_EMBEDDED_SERVER
#include "zk/testing/embedded_server.h"
#endif

namespace zk::recipes {
namespace {

using zk::internal::ClientAccess;
using zk::testing::IsOk;
using zk::testing::TcpRelay;
using zk::testing::WaitFor;

// Collects events of one kind from listeners running on the callback executor.
template <typename Event>
class EventLog {
 public:
  void Add(Event event) {
    zk::internal::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
  }
  std::vector<Event> Get() const {
    zk::internal::MutexLock lock(&mu_);
    return events_;
  }
  // True once an event equal to `wanted` arrived (within `timeout`).
  bool WaitFor(const Event& wanted, absl::Duration timeout) const {
    return zk::testing::WaitFor(
        [&] {
          const std::vector<Event> seen = Get();
          return std::find(seen.begin(), seen.end(), wanted) != seen.end();
        },
        timeout);
  }

 private:
  mutable zk::internal::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
};

// Holds the client's event loop inside a task until Release(): the client process stands still
// (as after SIGSTOP, or a long GC-like pause) while the rest of the world goes on.
class LoopPause {
 public:
  // Returns once the loop is inside the pause. `then` runs on the loop right after release,
  // before the loop looks at its socket again.
  explicit LoopPause(Client& client, std::function<void()> then = nullptr)
      : state_(std::make_shared<State>()) {
    // The loop and this object share the notifications: the loop may still be waking from
    // `release` when this object is gone.
    EXPECT_TRUE(ClientAccess::RunOnLoop(client, [state = state_, then = std::move(then)] {
      state->entered.Notify();
      state->release.WaitForNotification();
      if (then) then();
    }));
    state_->entered.WaitForNotification();
  }
  ~LoopPause() { Release(); }
  void Release() {
    if (!state_->release.HasBeenNotified()) state_->release.Notify();
  }

 private:
  struct State {
    zk::internal::Notification entered;
    zk::internal::Notification release;
  };
  std::shared_ptr<State> state_;
};

class ConnectionLossTest : public testing::RecipeTest {
 protected:
  void SetUp() override {
    RecipeTest::SetUp();
    if (HasFatalFailure()) return;
    auto relay = TcpRelay::Start(connect_string());
    ASSERT_THAT(relay.status(), IsOk());
    relay_ = *std::move(relay);
  }

  // A client that reaches the backend through the relay only.
  std::unique_ptr<Client> NewRelayedClient(std::chrono::milliseconds session_timeout,
                                           bool allow_read_only = false) {
    auto client = Client::Connect({.connect_string = relay_->connect_string(),
                                   .session_timeout = session_timeout,
                                   .allow_read_only = allow_read_only});
    EXPECT_THAT(client.status(), IsOk());
    if (!client.ok()) return nullptr;
    EXPECT_THAT((*client)->WaitUntilConnected(std::chrono::seconds(10)), IsOk());
    return *std::move(client);
  }

  std::string LockPath() const { return JoinPath(Root(), "lock"); }

  // A client behind the relay that holds the lock, and the log of the lock's events. Members
  // are destroyed in reverse order: the client outlives the guard it releases.
  struct Holder {
    std::unique_ptr<Client> client;
    std::unique_ptr<Lock> lock;
    LockGuard guard;
    EventLog<LockEventType> events;
    Subscription subscription;
  };
  // Connects through the relay and takes the lock; fails the test and returns null on error.
  std::unique_ptr<Holder> NewHolder(std::chrono::milliseconds session_timeout,
                                    bool allow_read_only = false) {
    auto holder = std::make_unique<Holder>();
    holder->client = NewRelayedClient(session_timeout, allow_read_only);
    if (holder->client == nullptr) return nullptr;
    auto lock = Lock::Create(*holder->client, LockPath());
    EXPECT_THAT(lock.status(), IsOk());
    if (!lock.ok()) return nullptr;
    holder->lock = *std::move(lock);
    auto guard = holder->lock->Acquire(std::chrono::seconds(5));
    EXPECT_THAT(guard.status(), IsOk());
    if (!guard.ok()) return nullptr;
    holder->guard = *std::move(guard);
    holder->subscription = holder->lock->AddListener(
        [events = &holder->events](const LockEvent& e) { events->Add(e.type); });
    return holder;
  }

  std::unique_ptr<TcpRelay> relay_;
};

// The reproduction: the holder's process stands still right after submitting a
// request; meanwhile its connection is reset and the server becomes unreachable. On resume the
// request goes into the dead socket, and libzookeeper 3.8 closes it without any session event.
// The holder must hear kSuspended at once (not after the session timeout: it is never told
// otherwise), IsHeld() must turn false, and the local loss timer must end the lock while the
// server stays unreachable.
TEST_P(ConnectionLossTest, HolderIsToldWhenASendHitsADeadSocket) {
  const auto session_timeout = std::chrono::milliseconds(3000);
  auto holder = NewHolder(session_timeout);
  ASSERT_NE(holder, nullptr);
  Client* client = holder->client.get();

  std::atomic<bool> request_done{false};
  {
    LoopPause pause(*client, [&] {
      // Submitted on the loop: it is sent in this same turn, into the reset socket.
      ClientAccess::Exists(*client, "/", [&](absl::StatusOr<std::optional<Stat>>) {
        request_done = true;
      });
    });
    relay_->ResetConnections();
    relay_->Freeze();  // reconnect attempts reach nobody
  }
  EXPECT_TRUE(holder->events.WaitFor(LockEventType::kSuspended, absl::FromChrono(session_timeout)))
      << "the holder was not told that its connection is gone";
  EXPECT_FALSE(holder->guard.IsHeld());
  EXPECT_FALSE(holder->lock->IsHeld());
  // The request sent into the dead socket is answered (a connection loss), not left hanging.
  EXPECT_TRUE(WaitFor([&] { return request_done.load(); }, absl::Seconds(2)));
  // No server contact is possible: only the client's own loss timer can end the session.
  EXPECT_TRUE(holder->events.WaitFor(LockEventType::kLost, absl::FromChrono(session_timeout * 3)));
  EXPECT_EQ(client->state(), SessionState::kLost);
  relay_->Thaw();
}

// A partition (no reset, no error: nothing arrives): the client gives the connection up after
// its read timeout, the holder hears kSuspended, and the local loss timer ends the lock after
// the session timeout although no server could say the session expired.
TEST_P(ConnectionLossTest, LocalLossTimerEndsTheLockWhilePartitioned) {
  const auto session_timeout = std::chrono::milliseconds(2000);
  auto holder = NewHolder(session_timeout);
  ASSERT_NE(holder, nullptr);
  Client* client = holder->client.get();
  EventLog<SessionState> session;
  Subscription session_sub =
      client->SubscribeSessionEvents([&](const SessionEvent& e) { session.Add(e.state); });

  relay_->Freeze();
  ASSERT_TRUE(holder->events.WaitFor(LockEventType::kLost, absl::FromChrono(session_timeout * 4)));
  ASSERT_TRUE(session.WaitFor(SessionState::kLost, absl::Seconds(5)));
  EXPECT_EQ(holder->events.Get(), (std::vector<LockEventType>{LockEventType::kSuspended,
                                                       LockEventType::kLost}));
  EXPECT_EQ(session.Get(), (std::vector<SessionState>{SessionState::kSuspended,
                                                       SessionState::kLost}));
  EXPECT_FALSE(holder->guard.IsHeld());
  relay_->Thaw();
}

// A short partition: kSuspended, then kReconnected to the same session with the lock held
// again (its node confirmed).
TEST_P(ConnectionLossTest, LockListenersHearSuspendedThenReconnected) {
  const auto session_timeout = std::chrono::milliseconds(6000);
  auto holder = NewHolder(session_timeout);
  ASSERT_NE(holder, nullptr);
  Client* client = holder->client.get();
  const int64_t session_id = client->session_id();

  relay_->Freeze();
  ASSERT_TRUE(holder->events.WaitFor(LockEventType::kSuspended, absl::FromChrono(session_timeout)));
  EXPECT_FALSE(holder->guard.IsHeld());
  relay_->Thaw();
  ASSERT_TRUE(
      holder->events.WaitFor(LockEventType::kReconnected, absl::FromChrono(session_timeout)));
  EXPECT_EQ(holder->events.Get(), (std::vector<LockEventType>{LockEventType::kSuspended,
                                                       LockEventType::kReconnected}));
  EXPECT_TRUE(holder->guard.IsHeld());
  EXPECT_EQ(client->session_id(), session_id);
  EXPECT_THAT(holder->guard.Release(), IsOk());
}

// The process stands still for longer than the read timeout (two thirds of the session
// timeout): from then on IsHeld() answers false, before the loop has run at all; once the loop
// runs again the lock comes back on the same session.
TEST_P(ConnectionLossTest, IsHeldIsFalseOnceTheServerWasSilentForTheReadTimeout) {
  const auto session_timeout = std::chrono::milliseconds(6000);
  auto holder = NewHolder(session_timeout);
  ASSERT_NE(holder, nullptr);
  Client* client = holder->client.get();
  {
    LoopPause pause(*client);
    EXPECT_TRUE(holder->guard.IsHeld());  // the server was heard from just now
    EXPECT_TRUE(WaitFor([&] { return !holder->guard.IsHeld(); }, absl::FromChrono(session_timeout)))
        << "a holder whose loop stood still past the read timeout is still told \"held\"";
    EXPECT_FALSE(holder->lock->IsHeld());
    EXPECT_TRUE(holder->events.Get().empty());  // the loop, which emits events, has not run
  }
  EXPECT_TRUE(WaitFor([&] { return holder->guard.IsHeld(); }, absl::FromChrono(session_timeout)));
  EXPECT_THAT(holder->guard.Release(), IsOk());
}

TEST_P(ConnectionLossTest, NotLeaderWhileSuspendedLeaderAgainOnTheSameSession) {
  const auto session_timeout = std::chrono::milliseconds(6000);
  auto client = NewRelayedClient(session_timeout);
  ASSERT_NE(client, nullptr);
  const int64_t session_id = client->session_id();
  auto election = LeaderElection::Create(*client, JoinPath(Root(), "election"),
                                         {.participant_id = "a"});
  ASSERT_THAT(election.status(), IsOk());
  EventLog<bool> events;
  Subscription sub =
      (*election)->AddListener([&](const LeadershipEvent& e) { events.Add(e.is_leader); });
  ASSERT_THAT((*election)->Start(), IsOk());
  ASSERT_THAT((*election)->AwaitLeadership(std::chrono::seconds(5)), IsOk());
  const int64_t epoch = (*election)->epoch();

  relay_->Freeze();
  ASSERT_TRUE(events.WaitFor(false, absl::FromChrono(session_timeout)));
  EXPECT_FALSE((*election)->IsLeader());
  relay_->Thaw();
  ASSERT_THAT((*election)->AwaitLeadership(session_timeout), IsOk());
  EXPECT_EQ(client->session_id(), session_id);
  EXPECT_EQ((*election)->epoch(), epoch);  // the same node leads again
  // Listeners run on the callback executor, after AwaitLeadership may have returned.
  EXPECT_TRUE(WaitFor([&] { return events.Get().size() >= 3; }, absl::Seconds(5)));
  EXPECT_EQ(events.Get(), (std::vector<bool>{true, false, true}));
}

// take_leadership learns that leadership is gone while it runs (WaitWhileLeader returns false,
// IsLeader turns false) when the connection is suspended.
TEST_P(ConnectionLossTest, SelectorLosesLeadershipWhileTakeLeadershipRuns) {
  const auto session_timeout = std::chrono::milliseconds(4000);
  auto client = NewRelayedClient(session_timeout);
  ASSERT_NE(client, nullptr);
  zk::internal::Notification leading;
  zk::internal::Notification lost;
  std::atomic<bool> is_leader_after{true};
  auto selector = LeaderSelector::Create(
      *client, JoinPath(Root(), "selector"),
      {.election = {.participant_id = "a"}, .auto_requeue = false},
      [&](const LeadershipContext& context) {
        leading.Notify();
        const bool still = context.WaitWhileLeader(std::chrono::seconds(60));
        is_leader_after = still || context.IsLeader();
        lost.Notify();
      });
  ASSERT_THAT(selector.status(), IsOk());
  ASSERT_THAT((*selector)->Start(), IsOk());
  ASSERT_TRUE(leading.WaitForNotificationWithTimeout(absl::Seconds(5)));
  relay_->Freeze();
  EXPECT_TRUE(lost.WaitForNotificationWithTimeout(absl::FromChrono(session_timeout)))
      << "take_leadership was not told that leadership is gone";
  EXPECT_FALSE(is_leader_after.load());
  relay_->Thaw();
}

// A cache serving what it knew while disconnected says how stale that is.
TEST_P(ConnectionLossTest, CacheStalenessGrowsWhileDisconnected) {
  const auto session_timeout = std::chrono::milliseconds(6000);
  auto client = NewRelayedClient(session_timeout);
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(client->Create(JoinPath(Root(), "dir"), "", {.create_parents = true}).status(),
              IsOk());
  auto cache = ChildrenCache::Create(*client, JoinPath(Root(), "dir"));
  ASSERT_THAT(cache.status(), IsOk());
  ASSERT_THAT((*cache)->Start(), IsOk());
  ASSERT_THAT((*cache)->WaitUntilLoaded(std::chrono::seconds(5)), IsOk());
  EXPECT_EQ((*cache)->status().Staleness(), absl::ZeroDuration());
  relay_->Freeze();
  ASSERT_TRUE(WaitFor([&] { return !(*cache)->status().connected; },
                      absl::FromChrono(session_timeout)));
  const absl::Duration first = (*cache)->status().Staleness();
  EXPECT_GT(first, absl::ZeroDuration());
  EXPECT_TRUE(WaitFor([&] { return (*cache)->status().Staleness() > first; }, absl::Seconds(1)));
  relay_->Thaw();
  EXPECT_TRUE(WaitFor([&] { return (*cache)->status().connected; },
                      absl::FromChrono(session_timeout)));
  EXPECT_EQ((*cache)->status().Staleness(), absl::ZeroDuration());
}

// The safety checker: three holders, each behind its own relay, take the lock in turns. A
// holder keeps it (up to 4 s) for as long as it is told it holds it, and logs the last moment it
// believed so (IsHeld() true, read after the moment was taken); each acquisition logs when
// Acquire returned. Faults hit the current holder, in turn: the reproduction (its
// process stands still right after a submit, its connection is reset, the server becomes
// unreachable, and the server expires the session), a plain partition past the session timeout,
// and a loop pause shorter than the session. A belief of token A later than the acquisition of a
// larger token B is a violation: two holders at once.
TEST_P(ConnectionLossTest, HoldersNeverBelieveTheyHoldAtOnceUnderFaults) {
  constexpr int kWorkers = 3;
  const auto session_timeout = std::chrono::milliseconds(2000);
  const absl::Duration kRunFor = absl::Seconds(10);
  std::vector<std::unique_ptr<TcpRelay>> relays;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kWorkers; ++i) {
    auto relay = TcpRelay::Start(connect_string());
    ASSERT_THAT(relay.status(), IsOk());
    auto client = Client::Connect(
        {.connect_string = (*relay)->connect_string(), .session_timeout = session_timeout});
    ASSERT_THAT(client.status(), IsOk());
    ASSERT_THAT((*client)->WaitUntilConnected(std::chrono::seconds(10)), IsOk());
    relays.push_back(*std::move(relay));
    clients.push_back(*std::move(client));
  }
  zk::internal::Mutex mu;
  std::map<int64_t, absl::Time> last_belief;  // token → the last moment its holder believed
  std::vector<std::pair<int64_t, absl::Time>> acquisitions;  // (token, when Acquire returned)
  std::atomic<int> holder{-1};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&, i] {
      auto lock = *Lock::Create(*clients[i], LockPath());
      while (!stop.load()) {
        auto guard = lock->Acquire(std::chrono::seconds(5));
        if (!guard.ok()) continue;  // a fault during the wait: try again
        const int64_t token = guard->fencing_token();
        {
          zk::internal::MutexLock lock_log(&mu);
          acquisitions.emplace_back(token, absl::Now());
        }
        holder = i;
        const absl::Time hold_until = absl::Now() + absl::Seconds(4);
        while (!stop.load() && absl::Now() < hold_until) {
          const absl::Time at = absl::Now();
          if (!guard->IsHeld()) break;
          {
            zk::internal::MutexLock lock_log(&mu);
            last_belief[token] = at;
          }
          absl::SleepFor(absl::Milliseconds(1));  // pacing of the samples, not a sync
        }
        int me = i;
        holder.compare_exchange_strong(me, -1);
        (void)guard->Release();
      }
    });
  }
  int faults = 0;
  // Runs for kRunFor, and longer (within a bound) until each kind of fault has hit a holder.
  const absl::Time end = absl::Now() + kRunFor;
  const absl::Time hard_end = end + absl::Seconds(20);
  while ((absl::Now() < end || faults < 3) && absl::Now() < hard_end) {
    absl::SleepFor(absl::Milliseconds(200));  // pacing of the fault injector, not a sync
    const int victim = holder.load();
    if (victim < 0) continue;
    switch (faults++ % 3) {
      case 0: {  // the reproduction, then the partition lasts past the session timeout
        {
          LoopPause pause(*clients[victim], [&client = *clients[victim]] {
            ClientAccess::Exists(client, "/", [](absl::StatusOr<std::optional<Stat>>) {});
          });
          relays[victim]->ResetConnections();
          relays[victim]->Freeze();
        }
        absl::SleepFor(absl::FromChrono(session_timeout * 3 / 2));
        relays[victim]->Thaw();
        break;
      }
      case 1:  // a plain partition past the session timeout
        relays[victim]->Freeze();
        absl::SleepFor(absl::FromChrono(session_timeout * 3 / 2));
        relays[victim]->Thaw();
        break;
      default: {  // the process stands still for half a session timeout
        LoopPause pause(*clients[victim]);
        absl::SleepFor(absl::FromChrono(session_timeout / 2));
        break;
      }
    }
  }
  stop.store(true);
  for (auto& worker : workers) worker.join();
  zk::internal::MutexLock lock_log(&mu);
  int violations = 0;
  for (const auto& [token, believed_at] : last_belief) {
    for (const auto& [later_token, acquired_at] : acquisitions) {
      if (later_token > token && acquired_at < believed_at) {
        ++violations;
        std::printf("violation: token %lld believed held %s after token %lld was acquired\n",
                    static_cast<long long>(token),
                    absl::FormatDuration(believed_at - acquired_at).c_str(),
                    static_cast<long long>(later_token));
        break;
      }
    }
  }
  std::printf("ownership checker (%s): %zu acquisitions, %d faults, %d violations\n",
              zk::testing::BackendName(kind()).c_str(), acquisitions.size(), faults, violations);
  EXPECT_EQ(violations, 0);
  EXPECT_GE(acquisitions.size(), 2u);  // the lock changed hands at least once
  EXPECT_GE(faults, 3);  // each kind of fault hit a holder at least once
}

#if ZKCPP_HAVE_EMBEDDED_SERVER
// A read-only server is cut off from the quorum: it refuses to renew our (global) session, as
// ZooKeeper 3.8 does, so the holder never reaches it with its session. The holder is suspended
// (not held) at once, its session is eventually declared lost by the client's local timer, and
// the client goes on with a new read-only session: the lock is never held meanwhile.
TEST_P(ConnectionLossTest, ReadOnlyServerDoesNotConfirmTheLock) {
  zk::testing::EmbeddedServer* server = zk::testing::AsEmbeddedServer(backend());
  if (server == nullptr) {
    GTEST_SKIP() << "needs the embedded server's read-only switch; the real server's read-only "
                    "mode needs a quorum loss (recipes_ensemble_test)";
  }
  const auto session_timeout = std::chrono::milliseconds(2000);
  auto holder = NewHolder(session_timeout, /*allow_read_only=*/true);
  ASSERT_NE(holder, nullptr);
  Client* client = holder->client.get();
  const int64_t first_session = client->session_id();

  // The server is shared by the suite's tests: read-write again whatever happens below.
  struct ReadWriteAgain {
    zk::testing::EmbeddedServer* server;
    ~ReadWriteAgain() { server->SetReadOnly(false); }
  } read_write_again{server};
  server->SetReadOnly(true);  // closes every connection, the relay's included
  relay_->ResetConnections();
  bool ever_held = false;
  auto saw = [&](LockEventType type) {
    const std::vector<LockEventType> seen = holder->events.Get();
    return std::find(seen.begin(), seen.end(), type) != seen.end();
  };
  // Wraps a condition to wait for: each poll also checks that the lock is not held.
  auto not_held_and = [&](auto condition) {
    return [&, condition] {
      if (holder->guard.IsHeld() || holder->lock->IsHeld()) ever_held = true;
      return condition();
    };
  };
  // Held until the client notices the reset; from the suspension on, never held again.
  EXPECT_TRUE(WaitFor([&] { return saw(LockEventType::kSuspended); },
                      absl::FromChrono(session_timeout)));
  EXPECT_FALSE(holder->guard.IsHeld());
  // Every resume is refused: the client's own timer declares the session lost.
  EXPECT_TRUE(WaitFor(not_held_and([&] { return saw(LockEventType::kLost); }),
                      absl::FromChrono(session_timeout * 5)));
  ASSERT_TRUE(WaitFor(not_held_and([&] { return client->state() == SessionState::kReadOnly; }),
                      absl::FromChrono(session_timeout * 5)));
  EXPECT_NE(client->session_id(), first_session);
  // A round trip on the new session, queued behind anything the lock asked on reconnecting.
  ASSERT_THAT(client->Exists("/").status(), IsOk());
  EXPECT_FALSE(ever_held) << "the lock was held while the server was read-only";
  EXPECT_FALSE(holder->guard.IsHeld());
  EXPECT_FALSE(holder->lock->IsHeld());
  EXPECT_FALSE(saw(LockEventType::kReconnected));
}
#endif

ZK_INSTANTIATE_BACKEND_TEST(ConnectionLossTest);

}  // namespace
}  // namespace zk::recipes
