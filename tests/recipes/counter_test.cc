// Tests of zk::recipes::SharedCount and zk::recipes::DistributedAtomicLong on every backend.

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fault_injection.h"
#include "fencing_checker.h"
#include "increment_run.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipe_test.h"
#include "testing/backend_test.h"
#include "zk/client.h"
#include "zk/internal/sync.h"
#include "zk/path.h"
#include "zk/recipes/distributed_atomic_long.h"
#include "zk/recipes/shared_count.h"

namespace zk::recipes {
namespace {

using ::testing::HasSubstr;
using zk::testing::IsOk;
using zk::testing::IsOkAndHolds;
using zk::testing::StatusIs;
using zk::testing::WaitFor;

class CounterTest : public testing::RecipeTest {
 protected:
  std::string CountPath() const { return JoinPath(Root(), "count"); }
};

// --- encodings -------------------------------------------------------------------------------

TEST(CounterEncodingTest, AtomicLongIsEightBytesBigEndianAsCuratorWrites) {
  EXPECT_EQ(EncodeAtomicLong(1), std::string("\0\0\0\0\0\0\0\1", 8));
  EXPECT_EQ(EncodeAtomicLong(-2), std::string("\xff\xff\xff\xff\xff\xff\xff\xfe", 8));
  EXPECT_EQ(EncodeAtomicLong(0x0102030405060708), std::string("\1\2\3\4\5\6\7\x8", 8));
  for (int64_t v : {int64_t{0}, int64_t{-1}, INT64_MIN, INT64_MAX, int64_t{1} << 40}) {
    EXPECT_THAT(DecodeAtomicLong("/c", EncodeAtomicLong(v)), IsOkAndHolds(v));
  }
  EXPECT_THAT(DecodeAtomicLong("/c", ""), IsOkAndHolds(int64_t{0}));
  EXPECT_THAT(DecodeAtomicLong("/c", "abc").status(),
              StatusIs(absl::StatusCode::kDataLoss, "/c: node holds 3 bytes"));
}

TEST(CounterEncodingTest, SharedCountIsFourBytesBigEndianAsCuratorWrites) {
  EXPECT_EQ(EncodeSharedCount(258), std::string("\0\0\1\2", 4));
  EXPECT_EQ(EncodeSharedCount(-1), std::string("\xff\xff\xff\xff", 4));
  for (int32_t v : {0, 1, -5, INT32_MIN, INT32_MAX}) {
    EXPECT_THAT(DecodeSharedCount("/c", EncodeSharedCount(v)), IsOkAndHolds(v));
  }
  EXPECT_THAT(DecodeSharedCount("/c", "").status(), StatusIs(absl::StatusCode::kDataLoss));
}

// --- SharedCount -----------------------------------------------------------------------------

TEST_P(CounterTest, SharedCountStartCreatesSeedAndSecondStartKeepsValue) {
  auto client = NewClient();
  auto first = *SharedCount::Create(*client, CountPath(), 7);
  ASSERT_THAT(first->Start(std::chrono::seconds(5)), IsOk());
  EXPECT_THAT(first->GetCount(), IsOkAndHolds(7));
  EXPECT_EQ(client->Get(CountPath())->data, EncodeSharedCount(7));
  ASSERT_THAT(first->SetCount(9), IsOk());
  // Another participant with another seed sees the value, not its seed.
  auto second = *SharedCount::Create(*client, CountPath(), 100);
  ASSERT_THAT(second->Start(std::chrono::seconds(5)), IsOk());
  EXPECT_THAT(second->GetCount(), IsOkAndHolds(9));
  EXPECT_THAT(second->Start(std::chrono::seconds(5)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "already started"));
}

TEST_P(CounterTest, SharedCountTrySetWinsOnceAndLoserSeesTheWinner) {
  auto a = NewClient();
  auto b = NewClient();
  auto count_a = *SharedCount::Create(*a, CountPath(), 0);
  auto count_b = *SharedCount::Create(*b, CountPath(), 0);
  ASSERT_THAT(count_a->Start(std::chrono::seconds(5)), IsOk());
  ASSERT_THAT(count_b->Start(std::chrono::seconds(5)), IsOk());
  const VersionedCount seen_a = *count_a->GetVersionedCount();
  const VersionedCount seen_b = *count_b->GetVersionedCount();
  ASSERT_EQ(seen_a.version, seen_b.version);
  EXPECT_THAT(count_a->TrySetCount(1, seen_a), IsOkAndHolds(true));
  // Right after its own write, its known value is the written one (no wait for the watch).
  EXPECT_THAT(count_a->GetCount(), IsOkAndHolds(1));
  EXPECT_THAT(count_b->TrySetCount(2, seen_b), IsOkAndHolds(false));
  // The loser knows the winner's value at once, and wins with it.
  const VersionedCount fresh = *count_b->GetVersionedCount();
  EXPECT_EQ(fresh.value, 1);
  EXPECT_GT(fresh.version, seen_b.version);
  EXPECT_THAT(count_b->TrySetCount(2, fresh), IsOkAndHolds(true));
  EXPECT_EQ(a->Get(CountPath())->data, EncodeSharedCount(2));
}

TEST_P(CounterTest, SharedCountListenersHearEveryChangeInOrderAndAsyncForms) {
  auto a = NewClient();
  auto b = NewClient();
  auto watcher = *SharedCount::Create(*a, CountPath(), 0);
  auto writer = *SharedCount::Create(*b, CountPath(), 0);
  ASSERT_THAT(watcher->Start(std::chrono::seconds(5)), IsOk());
  ASSERT_THAT(writer->Start(std::chrono::seconds(5)), IsOk());
  std::mutex mu;
  std::vector<int32_t> heard;
  Subscription sub = watcher->AddListener([&](const SharedCountEvent& event) {
    if (event.type != SharedCountEventType::kCountChanged) return;
    std::lock_guard<std::mutex> lock(mu);
    heard.push_back(event.count.value);
  });
  for (int32_t v = 1; v <= 3; ++v) {
    zk::internal::Notification done;
    writer->AsyncSetCount(v, [&](absl::Status s) {
      EXPECT_THAT(s, IsOk());
      done.Notify();
    });
    done.WaitForNotification();
    // Each change is heard before the next is written (so none is coalesced).
    ASSERT_TRUE(WaitFor([&] {
      std::lock_guard<std::mutex> lock(mu);
      return !heard.empty() && heard.back() == v;
    }, absl::Seconds(10)));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(heard, (std::vector<int32_t>{1, 2, 3}));
  }
  zk::internal::Notification tried;
  watcher->AsyncTrySetCount(10, {.value = 0, .version = 0}, [&](absl::StatusOr<bool> won) {
    EXPECT_THAT(won, IsOkAndHolds(false));  // stale version
    tried.Notify();
  });
  tried.WaitForNotification();
  sub = Subscription();
  ASSERT_THAT(writer->SetCount(4), IsOk());
  EXPECT_TRUE(WaitFor([&] { return watcher->GetCount().value_or(0) == 4; }, absl::Seconds(10)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(heard.size(), 3u);  // nothing after the subscription ended
}

TEST_P(CounterTest, SharedCountSessionExpiryTellsListenersAndKeepsTheCount) {
  auto a = NewClient();
  auto b = NewClient();
  auto count = *SharedCount::Create(*a, CountPath(), 5);
  ASSERT_THAT(count->Start(std::chrono::seconds(5)), IsOk());
  std::atomic<int> lost{0}, reconnected{0}, changed_to_6{0};
  Subscription sub = count->AddListener([&](const SharedCountEvent& event) {
    if (event.type == SharedCountEventType::kLost) lost++;
    if (event.type == SharedCountEventType::kReconnected) reconnected++;
    if (event.type == SharedCountEventType::kCountChanged && event.count.value == 6) {
      changed_to_6++;
    }
  });
  ASSERT_THAT(backend().ExpireSession(a->session_id(), a->session_password()), IsOk());
  ASSERT_TRUE(WaitFor([&] { return lost.load() == 1 && reconnected.load() >= 1; },
                      absl::Seconds(15)));
  // Changed by another client meanwhile: the new session's resync reports it.
  ASSERT_THAT(b->Set(CountPath(), EncodeSharedCount(6)).status(), IsOk());
  ASSERT_TRUE(WaitFor([&] { return changed_to_6.load() == 1; }, absl::Seconds(10)));
  const VersionedCount now = *count->GetVersionedCount();
  EXPECT_EQ(now.value, 6);
  EXPECT_THAT(count->TrySetCount(7, now), IsOkAndHolds(true));
}

TEST_P(CounterTest, SharedCountReportsBadInputAndBadData) {
  auto client = NewClient();
  EXPECT_THAT(SharedCount::Create(*client, "relative", 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SharedCount::Create(*client, "/", 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "root"));
  auto count = *SharedCount::Create(*client, CountPath(), 0);
  EXPECT_THAT(count->GetCount().status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not started"));
  ASSERT_THAT(client->Create(CountPath(), "not an int", {.create_parents = true}).status(), IsOk());
  ASSERT_THAT(count->Start(std::chrono::seconds(5)), IsOk());
  EXPECT_THAT(count->GetCount().status(),
              StatusIs(absl::StatusCode::kDataLoss, "shared_count " + CountPath()));
}

// --- DistributedAtomicLong -------------------------------------------------------------------

TEST_P(CounterTest, AtomicLongOperationsFromAMissingNode) {
  auto client = NewClient();
  auto counter = *DistributedAtomicLong::Create(*client, CountPath());
  auto got = counter->Get();
  ASSERT_THAT(got.status(), IsOk());
  EXPECT_TRUE(got->succeeded);
  EXPECT_EQ(got->post, 0);
  EXPECT_THAT(client->Exists(CountPath()), IsOkAndHolds(::testing::Eq(std::nullopt)));

  auto first = counter->Increment();
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_TRUE(first->succeeded);
  EXPECT_EQ(first->pre, 0);
  EXPECT_EQ(first->post, 1);
  EXPECT_EQ(client->Get(CountPath())->data, EncodeAtomicLong(1));  // Curator's layout

  EXPECT_EQ(counter->Add(41)->post, 42);
  EXPECT_EQ(counter->Decrement()->post, 41);
  auto cas_miss = counter->CompareAndSet(40, 100);
  ASSERT_THAT(cas_miss.status(), IsOk());
  EXPECT_FALSE(cas_miss->succeeded);
  EXPECT_EQ(cas_miss->pre, 41);
  EXPECT_EQ(cas_miss->post, 41);
  auto cas_hit = counter->CompareAndSet(41, 100);
  EXPECT_TRUE(cas_hit->succeeded);
  EXPECT_EQ(cas_hit->post, 100);
  auto set = counter->TrySet(-7);
  EXPECT_TRUE(set->succeeded);
  EXPECT_EQ(set->pre, 100);
  EXPECT_EQ(counter->Get()->post, -7);
  EXPECT_EQ(client->Get(CountPath())->data, EncodeAtomicLong(-7));
  EXPECT_THAT(counter->Initialize(3), IsOkAndHolds(false));  // exists already
  EXPECT_EQ(counter->Get()->post, -7);
  // Curator's empty node reads as 0.
  ASSERT_THAT(client->Set(CountPath(), "").status(), IsOk());
  EXPECT_EQ(counter->Increment()->post, 1);
}

TEST_P(CounterTest, AtomicLongInitializeAndAsyncForms) {
  auto client = NewClient();
  auto counter = *DistributedAtomicLong::Create(*client, JoinPath(CountPath(), "deep"));
  EXPECT_THAT(counter->Initialize(10), IsOkAndHolds(true));
  EXPECT_THAT(counter->Initialize(20), IsOkAndHolds(false));
  zk::internal::Notification done;
  std::atomic<int> completions{0};
  counter->AsyncAdd(5, [&](absl::StatusOr<AtomicResult> r) {
    EXPECT_THAT(r.status(), IsOk());
    EXPECT_EQ(r->post, 15);
    completions++;
    counter->AsyncCompareAndSet(15, 16, [&](absl::StatusOr<AtomicResult> r) {
      EXPECT_TRUE(r->succeeded);
      completions++;
      counter->AsyncTrySet(1, [&](absl::StatusOr<AtomicResult> r) {
        EXPECT_EQ(r->pre, 16);
        completions++;
        counter->AsyncGet([&](absl::StatusOr<AtomicResult> r) {
          EXPECT_EQ(r->post, 1);
          // A blocking call from the callback executor works too.
          EXPECT_EQ(counter->Increment()->post, 2);
          completions++;
          done.Notify();
        });
      });
    });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(completions.load(), 4);
}

TEST_P(CounterTest, AtomicLongReportsBadInputAndBadData) {
  auto client = NewClient();
  EXPECT_THAT(DistributedAtomicLong::Create(*client, "/").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "root"));
  EXPECT_THAT(DistributedAtomicLong::Create(*client, CountPath(), {.retry = {.max_attempts = 0}})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "max_attempts"));
  EXPECT_THAT(DistributedAtomicLong::Create(
                  *client, CountPath(),
                  {.retry = {.base_backoff = std::chrono::milliseconds(10),
                             .max_backoff = std::chrono::milliseconds(1)}})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "max_backoff"));
  ASSERT_THAT(client->Create(CountPath(), "abc", {.create_parents = true}).status(), IsOk());
  auto counter = *DistributedAtomicLong::Create(*client, CountPath());
  EXPECT_THAT(counter->Increment().status(),
              StatusIs(absl::StatusCode::kDataLoss, "distributed_atomic_long " + CountPath()));
  EXPECT_EQ(client->Get(CountPath())->data, "abc");  // untouched
}

TEST_P(CounterTest, AtomicLongRunsOutOfAttemptsAsAResultNotAnError) {
  auto client = NewClient();
  auto other = NewClient();
  // One attempt, and a rival write between our read and our set every time: a client whose
  // requests are held back while another bumps the version cannot be arranged portably, so
  // race many single-attempt increments and require that failures are results, not errors.
  auto counter = *DistributedAtomicLong::Create(*client, CountPath(), {.retry = {.max_attempts = 1}});
  auto rival = *DistributedAtomicLong::Create(*other, CountPath(), {.retry = {.max_attempts = 1}});
  std::atomic<int64_t> succeeded{0}, failed{0};
  auto run = [&](DistributedAtomicLong& c) {
    for (int i = 0; i < 100; ++i) {
      auto r = c.Increment();
      ASSERT_THAT(r.status(), IsOk());
      (r->succeeded ? succeeded : failed)++;
      if (!r->succeeded) {
        EXPECT_EQ(r->pre, r->post);
      }
      EXPECT_LE(r->attempts, 1);
    }
  };
  std::thread t1([&] { run(*counter); });
  std::thread t2([&] { run(*rival); });
  t1.join();
  t2.join();
  EXPECT_EQ(succeeded.load() + failed.load(), 200);
  EXPECT_EQ(counter->Get()->post, succeeded.load());
  std::printf("single-attempt race: %lld succeeded, %lld ran out of attempts\n",
              static_cast<long long>(succeeded.load()), static_cast<long long>(failed.load()));
}

// N clients increment for a while (M increments each, M depending on load) while sessions
// expire, connections drop or stall and the server restarts. The checker (fencing_checker.h)
// counts lost and duplicated increments and posts claimed twice.
TEST_P(CounterTest, AtomicLongCountsExactlyUnderFaults) {
  constexpr int kClients = 4;
  const absl::Duration kRunFor = absl::Seconds(6);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(NewClient(std::chrono::milliseconds(2000)));
  testing::IncrementRun run(clients, CountPath());
  int faults = 0;
  std::mt19937 random(7);
  const absl::Time end = absl::Now() + kRunFor;
  while (absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(200));  // pacing of the fault injector, not a sync
    Client& victim = *clients[random() % kClients];
    if (testing::InjectFault(backend(), victim, static_cast<testing::Fault>(random() % 4))) {
      faults++;
    }
  }
  run.Stop();
  auto setup = NewClient();
  auto got = setup->Get(CountPath());
  ASSERT_THAT(got.status(), IsOk());
  const int64_t final_value = *DecodeAtomicLong(CountPath(), got->data);
  const int64_t violations = run.Report(
      "atomic long fault run (" + zk::testing::BackendName(kind()) + ")", final_value, faults);
  EXPECT_EQ(violations, 0);
  const testing::IncrementTally tally = run.tally();
  EXPECT_EQ(tally.succeeded + tally.not_applied + tally.unknown, run.calls());
  EXPECT_GT(faults, 2);  // a real server restart takes a second or more
  EXPECT_GT(tally.succeeded, 0);
}

TEST(CounterCheckerTest, CountsLostDuplicatedAndDoubleClaimedIncrements) {
  testing::IncrementTally clean{.succeeded = 3, .posts = {1, 2, 3}};
  EXPECT_EQ(testing::CountCounterViolations(clean, 3), 0);
  EXPECT_EQ(testing::CountCounterViolations(clean, 2), 2);  // one lost, post 3 above final
  EXPECT_EQ(testing::CountCounterViolations(clean, 4), 1);  // one duplicated
  testing::IncrementTally unknown{.succeeded = 3, .unknown = 1, .posts = {1, 2, 4}};
  EXPECT_EQ(testing::CountCounterViolations(unknown, 4), 0);
  testing::IncrementTally twice{.succeeded = 2, .posts = {1, 1}};
  EXPECT_EQ(testing::CountCounterViolations(twice, 2), 1);
}

ZK_INSTANTIATE_BACKEND_TEST(CounterTest);

}  // namespace
}  // namespace zk::recipes
