// Tests of zk::recipes::Lock on every backend.

#include "zk/recipes/lock.h"
#include "zk/recipes/semaphore.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "fencing_checker.h"
#include "recipe_test.h"
#include "testing/backend_test.h"
#include "zk/client.h"
#include "zk/internal/sync.h"
#include "zk/path.h"

#if ZKCPP_HAVE_EMBEDDED_SERVER
#include "zk/testing/embedded_server.h"
#endif

namespace zk::recipes {
namespace {

using ::testing::HasSubstr;
using zk::testing::IsOk;
using zk::testing::StatusIs;
using zk::testing::WaitFor;

class LockTest : public testing::RecipeTest {
 protected:
  std::string LockPath() const { return JoinPath(Root(), "lock"); }
  size_t LockNodes(Client& client) {
    auto children = client.GetChildren(LockPath());
    return children.ok() ? children->children.size() : 0;
  }
};

TEST_P(LockTest, AcquireGivesGuardWithCuratorLayoutAndToken) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto lock = Lock::Create(*client, LockPath());
  ASSERT_THAT(lock.status(), IsOk());
  auto guard = (*lock)->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(guard.status(), IsOk());
  EXPECT_TRUE(guard->IsHeld());
  EXPECT_TRUE((*lock)->IsHeld());
  EXPECT_GT(guard->fencing_token(), 0);
  const std::string name(BaseName(guard->node_path()));
  EXPECT_THAT(name, ::testing::StartsWith("_c_"));
  EXPECT_THAT(name, ::testing::MatchesRegex("_c_[0-9a-f-]{36}-lock-[0-9]{10}"));
  auto stat = client->Exists(guard->node_path());
  ASSERT_THAT(stat.status(), IsOk());
  ASSERT_TRUE(stat->has_value());
  EXPECT_EQ((*stat)->czxid, guard->fencing_token());
  EXPECT_EQ((*stat)->ephemeral_owner, client->session_id());
  ASSERT_THAT(guard->Release(), IsOk());
  EXPECT_FALSE(guard->IsHeld());
  EXPECT_EQ(LockNodes(*client), 0u);
}

TEST_P(LockTest, SecondContenderWaitsForReleaseAndGetsHigherToken) {
  auto a = NewClient();
  auto b = NewClient();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto lock_a = *Lock::Create(*a, LockPath());
  auto lock_b = *Lock::Create(*b, LockPath());
  auto guard_a = lock_a->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(guard_a.status(), IsOk());
  zk::internal::Notification acquired;
  absl::StatusOr<LockGuard> guard_b = absl::UnknownError("not yet");
  lock_b->AsyncAcquire(std::chrono::seconds(10), [&](absl::StatusOr<LockGuard> g) {
    guard_b = std::move(g);
    acquired.Notify();
  });
  // B's node is queued behind A's; it must not get the lock while A holds it.
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*a) == 2; }, absl::Seconds(5)));
  EXPECT_FALSE(acquired.HasBeenNotified());
  ASSERT_THAT(guard_a->Release(), IsOk());
  ASSERT_TRUE(acquired.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_THAT(guard_b.status(), IsOk());
  EXPECT_GT(guard_b->fencing_token(), guard_a->fencing_token());
  EXPECT_THAT(guard_b->Release(), IsOk());
}

// A Lock is not reentrant: a second AsyncAcquire made before the first has even started on the
// loop is refused, not queued behind the first on a second node (where it would wait out its
// timeout, and outlive its Lock).
TEST_P(LockTest, SecondAsyncAcquireOfOneLockIsRefusedAtOnce) {
  auto client = NewClient();
  auto lock = *Lock::Create(*client, LockPath());
  zk::internal::Notification first_done;
  zk::internal::Notification second_done;
  absl::StatusOr<LockGuard> first = absl::UnknownError("not yet");
  absl::StatusOr<LockGuard> second = absl::UnknownError("not yet");
  lock->AsyncAcquire(std::chrono::seconds(10), [&](absl::StatusOr<LockGuard> g) {
    first = std::move(g);
    first_done.Notify();
  });
  lock->AsyncAcquire(std::chrono::seconds(10), [&](absl::StatusOr<LockGuard> g) {
    second = std::move(g);
    second_done.Notify();
  });
  ASSERT_TRUE(first_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(second_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_THAT(second.status(), StatusIs(absl::StatusCode::kFailedPrecondition, "reentrant"));
  EXPECT_EQ(LockNodes(*client), 1u);
  EXPECT_THAT(first->Release(), IsOk());
}

// Dropping a guard releases in the background; the same Lock can be acquired again at once.
TEST_P(LockTest, ReacquireRightAfterDroppingTheGuard) {
  auto client = NewClient();
  auto lock = *Lock::Create(*client, LockPath());
  int64_t last_token = 0;
  for (int i = 0; i < 20; ++i) {
    auto guard = lock->Acquire(std::chrono::seconds(5));
    ASSERT_THAT(guard.status(), IsOk()) << "round " << i;
    EXPECT_GT(guard->fencing_token(), last_token);
    last_token = guard->fencing_token();
  }  // each guard is dropped at the end of its round
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*client) == 0; }, absl::Seconds(5)));
}

TEST_P(LockTest, TimeoutRemovesNode) {
  auto a = NewClient();
  auto b = NewClient();
  auto lock_a = *Lock::Create(*a, LockPath());
  auto lock_b = *Lock::Create(*b, LockPath());
  auto guard = lock_a->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(guard.status(), IsOk());
  EXPECT_THAT(lock_b->Acquire(std::chrono::milliseconds(200)).status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded, LockPath()));
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*a) == 1; }, absl::Seconds(5)));
  EXPECT_TRUE(guard->IsHeld());
}

TEST_P(LockTest, TryAcquireReturnsNulloptWhenBusyAndLeavesNothing) {
  auto a = NewClient();
  auto b = NewClient();
  auto lock_a = *Lock::Create(*a, LockPath());
  auto lock_b = *Lock::Create(*b, LockPath());
  auto free_guard = lock_b->TryAcquire();
  ASSERT_THAT(free_guard.status(), IsOk());
  ASSERT_TRUE(free_guard->has_value());
  ASSERT_THAT((*free_guard)->Release(), IsOk());
  auto guard = lock_a->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(guard.status(), IsOk());
  auto busy = lock_b->TryAcquire();
  ASSERT_THAT(busy.status(), IsOk());
  EXPECT_FALSE(busy->has_value());
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*a) == 1; }, absl::Seconds(5)));
}

TEST_P(LockTest, NotReentrant) {
  auto client = NewClient();
  auto lock = *Lock::Create(*client, LockPath());
  auto guard = lock->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(guard.status(), IsOk());
  EXPECT_THAT(lock->Acquire(std::chrono::seconds(1)).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not reentrant"));
  ASSERT_THAT(guard->Release(), IsOk());
  auto again = lock->Acquire(std::chrono::seconds(5));
  EXPECT_THAT(again.status(), IsOk());
}

TEST_P(LockTest, CancelEndsWaitAndRemovesNode) {
  auto a = NewClient();
  auto b = NewClient();
  auto lock_a = *Lock::Create(*a, LockPath());
  auto lock_b = *Lock::Create(*b, LockPath());
  auto guard = lock_a->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(guard.status(), IsOk());
  zk::internal::Notification done;
  absl::Status result;
  lock_b->AsyncAcquire(std::chrono::seconds(30), [&](absl::StatusOr<LockGuard> g) {
    result = g.status();
    done.Notify();
  });
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*a) == 2; }, absl::Seconds(5)));
  lock_b->Cancel();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled));
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*a) == 1; }, absl::Seconds(5)));
}

TEST_P(LockTest, SessionExpiryLosesLockAndFencesWrites) {
  auto a = NewClient();
  auto b = NewClient();
  ASSERT_THAT(a->Create(JoinPath(Root(), "data"), "0", {.create_parents = true}).status(), IsOk());
  auto lock_a = *Lock::Create(*a, LockPath());
  std::atomic<int> lost{0};
  Subscription sub = lock_a->AddListener([&](const LockEvent& e) {
    if (e.type == LockEventType::kLost) lost++;
  });
  auto guard = lock_a->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(guard.status(), IsOk());
  EXPECT_THAT(guard->GuardedMulti({op::Set{.path = JoinPath(Root(), "data"), .data = "a"}}).status(),
              IsOk());
  ASSERT_THAT(backend().ExpireSession(a->session_id(), a->session_password()), IsOk());
  ASSERT_TRUE(WaitFor([&] { return lost.load() == 1; }, absl::Seconds(10)));
  EXPECT_FALSE(guard->IsHeld());
  // The old holder's guarded write is rejected: its lock node is gone.
  auto fenced = guard->GuardedMulti({op::Set{.path = JoinPath(Root(), "data"), .data = "stale"}});
  EXPECT_THAT(fenced.status(), StatusIs(absl::StatusCode::kNotFound, "no longer held"));
  EXPECT_EQ(FailedOpIndex(fenced.status()), 0u);
  auto lock_b = *Lock::Create(*b, LockPath());
  auto guard_b = lock_b->Acquire(std::chrono::seconds(10));
  ASSERT_THAT(guard_b.status(), IsOk());
  EXPECT_GT(guard_b->fencing_token(), guard->fencing_token());
  EXPECT_EQ(a->Get(JoinPath(Root(), "data"))->data, "a");
}

TEST_P(LockTest, BadInputIsRejectedClearly) {
  auto client = NewClient();
  EXPECT_THAT(Lock::Create(*client, "locks/x").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "locks/x"));
  EXPECT_THAT(Lock::Create(*client, "/").status(), StatusIs(absl::StatusCode::kInvalidArgument));
  auto lock = *Lock::Create(*client, LockPath());
  EXPECT_THAT(lock->Acquire(std::chrono::milliseconds(0)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "timeout must be positive"));
  EXPECT_THAT(lock->Acquire(std::chrono::milliseconds(-5)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  client->Close();
  EXPECT_THAT(lock->Acquire(std::chrono::seconds(1)).status(),
              StatusIs(absl::StatusCode::kCancelled));
}

#if ZKCPP_HAVE_EMBEDDED_SERVER
// With 20 waiters queued, one release fires exactly one watch event (no herd).
TEST_P(LockTest, ReleaseWakesExactlyOneWaiter) {
  if (kind() != zk::testing::BackendKind::kEmbedded) GTEST_SKIP() << "needs the server's hooks";
  zk::testing::EmbeddedServer* server = zk::testing::AsEmbeddedServer(backend());
  ASSERT_NE(server, nullptr);
  constexpr int kWaiters = 20;
  auto holder = NewClient();
  auto lock_holder = *Lock::Create(*holder, LockPath());
  auto guard = lock_holder->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(guard.status(), IsOk());
  // The server's counters add up over its life, which may span earlier tests of this process.
  const int64_t watches_before = server->counters().watches_set;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<Lock>> locks;
  std::atomic<int> acquired{0};
  std::vector<LockGuard> guards(kWaiters);
  std::mutex guards_mu;
  for (int i = 0; i < kWaiters; ++i) {
    clients.push_back(NewClient());
    locks.push_back(*Lock::Create(*clients.back(), LockPath()));
    locks.back()->AsyncAcquire(std::chrono::seconds(30), [&, i](absl::StatusOr<LockGuard> g) {
      // The waiters still queued at the end are cancelled.
      if (!g.ok()) return;
      std::lock_guard<std::mutex> lock(guards_mu);
      guards[i] = *std::move(g);
      acquired++;
    });
  }
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*holder) == kWaiters + 1; }, absl::Seconds(10)));
  // Every waiter has armed its watch once its exists() was answered; count events from now.
  ASSERT_TRUE(WaitFor([&] { return server->counters().watches_set >= watches_before + kWaiters; },
                      absl::Seconds(10)));
  std::atomic<int> events{0};
  const std::string prefix = LockPath() + "/";
  server->SetEventHook([&](const zk::testing::EventInfo& e) {
    if (e.path.rfind(prefix, 0) == 0) events++;
  });
  ASSERT_THAT(guard->Release(), IsOk());
  ASSERT_TRUE(WaitFor([&] { return acquired.load() == 1; }, absl::Seconds(10)));
  EXPECT_EQ(events.load(), 1);
  server->SetEventHook(nullptr);
  for (auto& l : locks) l->Cancel();
  EXPECT_EQ(acquired.load(), 1);
}

// Under contention a waiter's listing is stale by the time its predecessor leaves: the nodes
// ahead of the predecessor have usually left too. A handoff must cost a bounded number of
// requests (one fresh listing), not one existence check per stale node (quadratic in the queue).
TEST_P(LockTest, HandoffsCostBoundedRequestsWhateverTheQueueLength) {
  if (kind() != zk::testing::BackendKind::kEmbedded) GTEST_SKIP() << "needs the server's counters";
  zk::testing::EmbeddedServer* server = zk::testing::AsEmbeddedServer(backend());
  ASSERT_NE(server, nullptr);
  constexpr int kWaiters = 8;
  auto holder = NewClient();
  auto lock_holder = *Lock::Create(*holder, LockPath());
  absl::StatusOr<LockGuard> first = lock_holder->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(first.status(), IsOk());
  const int64_t watches_before = server->counters().watches_set;  // as above
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<Lock>> locks;
  std::mutex mu;
  std::vector<LockGuard> held;  // in acquisition order
  for (int i = 0; i < kWaiters; ++i) {
    clients.push_back(NewClient());
    locks.push_back(*Lock::Create(*clients.back(), LockPath()));
    // One at a time, so that each waiter's listing holds everyone queued before it.
    ASSERT_TRUE(WaitFor([&] { return LockNodes(*holder) == static_cast<size_t>(i) + 1; }, absl::Seconds(10)));
    locks.back()->AsyncAcquire(std::chrono::seconds(30), [&](absl::StatusOr<LockGuard> g) {
      if (!g.ok()) return;
      std::lock_guard<std::mutex> lock(mu);
      held.push_back(*std::move(g));
    });
  }
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*holder) == kWaiters + 1; }, absl::Seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return server->counters().watches_set >= watches_before + kWaiters; },
                      absl::Seconds(10)));
  auto reads = [&] {
    std::map<std::string, int64_t> by_op = server->counters().requests_by_op;
    return by_op["exists"] + by_op["getChildren"] + by_op["getChildren2"];
  };
  const int64_t before = reads();
  ASSERT_THAT(first->Release(), IsOk());
  for (int released = 0; released < kWaiters; ++released) {
    ASSERT_TRUE(WaitFor([&] {
      std::lock_guard<std::mutex> lock(mu);
      return static_cast<int>(held.size()) == released + 1;
    }, absl::Seconds(10))) << "handoff " << released + 1;
    LockGuard next;
    {
      std::lock_guard<std::mutex> lock(mu);
      next = std::move(held.back());
    }
    ASSERT_THAT(next.Release(), IsOk());
  }
  const int64_t handoff_reads = reads() - before;
  EXPECT_LE(handoff_reads, 2 * kWaiters) << "reads per handoff grow with the queue";
}
#endif

// Several clients loop acquire → critical section → release while sessions are expired and the
// server is restarted or paused. The checker relies on the server, not on timing: each critical
// section writes a shared node twice through GuardedMulti (enter and exit); the zxids of the
// writes that committed must form disjoint intervals ordered by fencing token.
TEST_P(LockTest, MutualExclusionUnderFaults) {
  constexpr int kWorkers = 3;
  const absl::Duration kRunFor = absl::Seconds(6);
  const std::string data_path = JoinPath(Root(), "data");
  auto setup = NewClient();
  ASSERT_THAT(setup->Create(data_path, "", {.create_parents = true}).status(), IsOk());

  std::mutex mu;
  std::vector<testing::FencedSection> sections;
  std::atomic<int> acquisitions{0};
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kWorkers; ++i) clients.push_back(NewClient(std::chrono::milliseconds(2000)));
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&, i] {
      auto lock = *Lock::Create(*clients[i], LockPath());
      while (!stop.load()) {
        auto guard = lock->Acquire(std::chrono::seconds(5));
        if (!guard.ok()) continue;  // expiry or restart during the wait: try again
        acquisitions++;
        const std::string token = std::to_string(guard->fencing_token());
        auto enter = guard->GuardedMulti({op::Set{.path = data_path, .data = token}});
        auto exit = guard->GuardedMulti({op::Set{.path = data_path, .data = token}});
        if (enter.ok() && exit.ok()) {
          std::lock_guard<std::mutex> lock_sections(mu);
          sections.push_back({guard->fencing_token(), enter->results[0].stat.mzxid,
                              exit->results[0].stat.mzxid});
        }
        (void)guard->Release();
      }
    });
  }
  int faults = 0;
  std::mt19937 random(42);
  const absl::Time end = absl::Now() + kRunFor;
  while (absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(300));  // pacing of the fault injector, not a sync
    Client& victim = *clients[random() % kWorkers];
    switch (random() % 3) {
      case 0:
        if (backend().ExpireSession(victim.session_id(), victim.session_password()).ok()) faults++;
        break;
      case 1:
        if (backend().Pause().ok()) {
          absl::SleepFor(absl::Milliseconds(100));
          ASSERT_THAT(backend().Resume(), IsOk());
          faults++;
        }
        break;
      default:
        if (backend().Restart().ok()) faults++;
        break;
    }
  }
  stop.store(true);
  for (auto& w : workers) w.join();
  const int overlaps = testing::CountOverlaps(sections);
  std::printf("lock fault run (%s): %d acquisitions, %zu checked sections, %d faults, %d overlaps\n",
              zk::testing::BackendName(kind()).c_str(), acquisitions.load(), sections.size(),
              faults, overlaps);
  EXPECT_EQ(overlaps, 0);
  EXPECT_GT(sections.size(), 0u);  // the run did check something; how much depends on load
  EXPECT_GT(faults, 0);
  // Nothing is left behind once every worker is done.
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*setup) == 0; }, absl::Seconds(15)));
}

TEST_P(LockTest, ReadersShareWritersExcludeAndDoNotStarve) {
  auto a = NewClient();
  auto b = NewClient();
  auto c = NewClient();
  auto rw_a = *ReadWriteLock::Create(*a, LockPath());
  auto rw_b = *ReadWriteLock::Create(*b, LockPath());
  auto rw_c = *ReadWriteLock::Create(*c, LockPath());
  // Two readers at once.
  auto read_a = rw_a->ReadLock().Acquire(std::chrono::seconds(5));
  auto read_b = rw_b->ReadLock().Acquire(std::chrono::seconds(5));
  ASSERT_THAT(read_a.status(), IsOk());
  ASSERT_THAT(read_b.status(), IsOk());
  EXPECT_THAT(std::string(BaseName(read_a->node_path())), ::testing::HasSubstr("-__READ__"));
  // A writer queues behind them; a reader arriving after the writer waits for the writer.
  zk::internal::Notification writer_in;
  absl::StatusOr<LockGuard> write_c = absl::UnknownError("not yet");
  rw_c->WriteLock().AsyncAcquire(std::chrono::seconds(10), [&](absl::StatusOr<LockGuard> g) {
    write_c = std::move(g);
    writer_in.Notify();
  });
  ASSERT_TRUE(WaitFor([&] { return LockNodes(*a) == 3; }, absl::Seconds(5)));
  auto late_reader = *ReadWriteLock::Create(*a, LockPath());
  auto busy = late_reader->ReadLock().TryAcquire();
  ASSERT_THAT(busy.status(), IsOk());
  EXPECT_FALSE(busy->has_value()) << "a reader must not overtake a queued writer";
  EXPECT_FALSE(writer_in.HasBeenNotified());
  ASSERT_THAT(read_a->Release(), IsOk());
  EXPECT_FALSE(writer_in.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  ASSERT_THAT(read_b->Release(), IsOk());
  ASSERT_TRUE(writer_in.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_THAT(write_c.status(), IsOk());
  EXPECT_THAT(std::string(BaseName(write_c->node_path())), ::testing::HasSubstr("-__WRIT__"));
  auto reader_again = rw_a->ReadLock().TryAcquire();
  ASSERT_THAT(reader_again.status(), IsOk());
  EXPECT_FALSE(reader_again->has_value());
  ASSERT_THAT(write_c->Release(), IsOk());
  EXPECT_THAT(rw_a->ReadLock().Acquire(std::chrono::seconds(5)).status(), IsOk());
}

TEST_P(LockTest, SemaphoreGrantsAtMostMaxLeases) {
  auto a = NewClient();
  auto b = NewClient();
  auto c = NewClient();
  const std::string path = JoinPath(Root(), "semaphore");
  auto sem_a = *Semaphore::Create(*a, path, 2);
  auto sem_b = *Semaphore::Create(*b, path, 2);
  auto sem_c = *Semaphore::Create(*c, path, 2);
  auto lease_a = sem_a->Acquire(std::chrono::seconds(5));
  auto lease_b = sem_b->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(lease_a.status(), IsOk());
  ASSERT_THAT(lease_b.status(), IsOk());
  EXPECT_THAT(sem_c->Acquire(std::chrono::milliseconds(300)).status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded, "no lease of 2"));
  // The timed-out waiter left nothing behind.
  ASSERT_TRUE(WaitFor([&] {
    auto leases = a->GetChildren(JoinPath(path, "leases"));
    return leases.ok() && leases->children.size() == 2;
  }, absl::Seconds(5)));
  std::thread release([&] { EXPECT_THAT(lease_a->Release(), IsOk()); });
  auto lease_c = sem_c->Acquire(std::chrono::seconds(10));
  release.join();
  ASSERT_THAT(lease_c.status(), IsOk());
  EXPECT_THAT(Semaphore::Create(*a, path, 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "max_leases"));
  EXPECT_THAT(sem_a->Acquire(std::chrono::milliseconds(0)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Threads sharing one Semaphore object queue for leases as processes do: a second Acquire while
// the first is still waiting must wait too, not fail.
TEST_P(LockTest, ThreadsShareOneSemaphore) {
  auto client = NewClient();
  const std::string path = JoinPath(Root(), "semaphore");
  auto semaphore = *Semaphore::Create(*client, path, 1);
  auto first = semaphore->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(first.status(), IsOk());
  absl::StatusOr<Lease> second = absl::UnknownError("not run");
  absl::StatusOr<Lease> third = absl::UnknownError("not run");
  std::thread second_waiter([&] { second = semaphore->Acquire(std::chrono::seconds(20)); });
  std::thread third_waiter;
  // However the test ends, the waiters get their leases (or time out) before the threads go.
  auto join_waiters = absl::MakeCleanup([&] {
    (void)first->Release();
    if (second_waiter.joinable()) second_waiter.join();
    if (second.ok()) (void)second->Release();
    if (third_waiter.joinable()) third_waiter.join();
  });
  // The second waiter holds the semaphore's mutex once its lease node exists.
  ASSERT_TRUE(WaitFor([&] {
    auto leases = client->GetChildren(JoinPath(path, "leases"));
    return leases.ok() && leases->children.size() == 2;
  }, absl::Seconds(10)));
  third_waiter = std::thread([&] { third = semaphore->Acquire(std::chrono::seconds(20)); });
  // The third queues behind it on the mutex (a Lock of its own, under <path>/locks).
  ASSERT_TRUE(WaitFor([&] {
    auto queued = client->GetChildren(JoinPath(path, "locks"));
    return queued.ok() && queued->children.size() == 2;
  }, absl::Seconds(10)));
  ASSERT_THAT(first->Release(), IsOk());
  second_waiter.join();
  ASSERT_THAT(second.status(), IsOk());
  ASSERT_THAT(second->Release(), IsOk());
  third_waiter.join();
  ASSERT_THAT(third.status(), IsOk());
  EXPECT_THAT(third->Release(), IsOk());
}

// Blocking calls are allowed on the dispatcher thread, Semaphore::Acquire among them: the watch
// on the lease count must reach the waiter without that thread's help.
TEST_P(LockTest, SemaphoreWaitsInsideADispatcherCallback) {
  auto holder_client = NewClient();
  auto client = NewClient();
  const std::string path = JoinPath(Root(), "semaphore");
  auto holder = *Semaphore::Create(*holder_client, path, 1);
  auto semaphore = *Semaphore::Create(*client, path, 1);
  auto held = holder->Acquire(std::chrono::seconds(5));
  ASSERT_THAT(held.status(), IsOk());
  absl::StatusOr<Lease> waited = absl::UnknownError("not run");
  zk::internal::Notification done;
  client->AsyncSync("/", [&](absl::Status) {
    waited = semaphore->Acquire(std::chrono::seconds(20));
    done.Notify();
  });
  // However the test ends, the callback is over before its captures go.
  auto wait_for_callback = absl::MakeCleanup([&] {
    (void)held->Release();
    done.WaitForNotification();
  });
  ASSERT_TRUE(WaitFor([&] {
    auto leases = client->GetChildren(JoinPath(path, "leases"));
    return leases.ok() && leases->children.size() == 2;
  }, absl::Seconds(10)));
  ASSERT_THAT(held->Release(), IsOk());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_THAT(waited.status(), IsOk());
}

ZK_INSTANTIATE_BACKEND_TEST(LockTest);

}  // namespace
}  // namespace zk::recipes
