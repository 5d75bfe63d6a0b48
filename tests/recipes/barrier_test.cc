// Tests of zk::recipes::DoubleBarrier and zk::recipes::Barrier on every backend.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "fault_injection.h"
#include "recipe_test.h"
#include "testing/backend_test.h"
#include "zk/client.h"
#include "zk/internal/sync.h"
#include "zk/path.h"
#include "zk/recipes/barrier.h"
#include "zk/recipes/double_barrier.h"

namespace zk::recipes {
namespace {

using zk::testing::IsOk;
using zk::testing::StatusIs;
using zk::testing::WaitFor;

class BarrierTest : public testing::RecipeTest {
 protected:
  std::string BarrierPath() const { return JoinPath(Root(), "barrier"); }
  std::vector<std::string> Children(Client& client, const std::string& path) {
    auto children = client.GetChildren(path);
    if (!children.ok()) return {};
    std::sort(children->children.begin(), children->children.end());
    return children->children;
  }
};

// --- DoubleBarrier ---------------------------------------------------------------------------

TEST_P(BarrierTest, DoubleBarrierHoldsUntilAllEnterAndUntilAllLeave) {
  constexpr int kMembers = 3;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<DoubleBarrier>> members;
  for (int i = 0; i < kMembers; ++i) {
    clients.push_back(NewClient());
    members.push_back(*DoubleBarrier::Create(*clients[i], BarrierPath(), kMembers));
  }
  std::atomic<int> entered{0};
  for (int i = 0; i < kMembers - 1; ++i) {
    members[i]->AsyncEnter(std::chrono::seconds(20), [&](absl::Status s) {
      EXPECT_THAT(s, IsOk());
      entered++;
    });
  }
  // Two of three are in: their nodes exist, nobody is through.
  ASSERT_TRUE(WaitFor([&] { return Children(*clients[0], BarrierPath()).size() == 2; },
                      absl::Seconds(10)));
  EXPECT_EQ(entered.load(), 0);
  const std::string name(BaseName(members[0]->member_path()));
  EXPECT_THAT(name, ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                            "[0-9a-f]{12}"));
  auto stat = clients[0]->Exists(members[0]->member_path());
  ASSERT_THAT(stat.status(), IsOk());
  ASSERT_TRUE(stat->has_value());
  EXPECT_NE((*stat)->ephemeral_owner, 0);
  ASSERT_THAT(members[2]->Enter(std::chrono::seconds(20)), IsOk());
  ASSERT_TRUE(WaitFor([&] { return entered.load() == kMembers - 1; }, absl::Seconds(10)));
  EXPECT_THAT(Children(*clients[0], BarrierPath()), ::testing::Contains("ready"));

  std::atomic<int> left{0};
  for (int i = 0; i < kMembers - 1; ++i) {
    members[i]->AsyncLeave(std::chrono::seconds(20), [&](absl::Status s) {
      EXPECT_THAT(s, IsOk());
      left++;
    });
  }
  // The third member's node is still there: nobody can be out (whatever the timing).
  EXPECT_EQ(left.load(), 0);
  ASSERT_THAT(members[2]->Leave(std::chrono::seconds(20)), IsOk());
  ASSERT_TRUE(WaitFor([&] { return left.load() == kMembers - 1; }, absl::Seconds(10)));
  // The last one out removed "ready": nothing is left.
  ASSERT_TRUE(WaitFor([&] { return Children(*clients[0], BarrierPath()).empty(); },
                      absl::Seconds(10)));
}

TEST_P(BarrierTest, DoubleBarrierEnterTimesOutAndRemovesItsNode) {
  auto client = NewClient();
  auto member = *DoubleBarrier::Create(*client, BarrierPath(), 2);
  EXPECT_THAT(member->Enter(std::chrono::milliseconds(300)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, "fewer than 2 members"));
  ASSERT_TRUE(WaitFor([&] { return Children(*client, BarrierPath()).empty(); },
                      absl::Seconds(10)));
  EXPECT_THAT(member->Leave(std::chrono::seconds(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not entered"));
}

TEST_P(BarrierTest, DoubleBarrierRejectsMisuse) {
  auto client = NewClient();
  EXPECT_THAT(DoubleBarrier::Create(*client, BarrierPath(), 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "member_count"));
  EXPECT_THAT(DoubleBarrier::Create(*client, "/", 2).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "root"));
  auto member = *DoubleBarrier::Create(*client, BarrierPath(), 1);
  EXPECT_THAT(member->Enter(std::chrono::milliseconds(0)),
              StatusIs(absl::StatusCode::kInvalidArgument, "timeout"));
  ASSERT_THAT(member->Enter(std::chrono::seconds(5)), IsOk());  // a barrier of one
  EXPECT_THAT(member->Enter(std::chrono::seconds(5)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "already entered"));
  ASSERT_THAT(member->Leave(std::chrono::seconds(5)), IsOk());
  EXPECT_TRUE(Children(*client, BarrierPath()).empty());
}

TEST_P(BarrierTest, DoubleBarrierDestroyedWhileWaitingCancelsAndLeavesNothing) {
  auto client = NewClient();
  auto member = *DoubleBarrier::Create(*client, BarrierPath(), 2);
  zk::internal::Notification done;
  member->AsyncEnter(std::chrono::seconds(30), [&](absl::Status s) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled));
    done.Notify();
  });
  ASSERT_TRUE(WaitFor([&] { return Children(*client, BarrierPath()).size() == 1; },
                      absl::Seconds(10)));
  member.reset();
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return Children(*client, BarrierPath()).empty(); },
                      absl::Seconds(10)));
}

// What one member recorded in one round: zxids of its own writes around the barrier calls, and
// its member node's czxid.
struct RoundLog {
  int64_t entering = 0;     // a write just before its first Enter
  int64_t member_czxid = 0; // its member node, if its first Enter attempt succeeded
  int64_t passed = 0;       // a write just after Enter returned OK
  int64_t leaving = 0;      // a write just before Leave
  int64_t left = 0;         // a write just after Leave returned OK
};

// Counts, over members that recorded both ends: passing Enter before another member began
// entering (or before its node was created), and leaving before another began leaving.
// Prints each violation found.
int CountBarrierViolations(const std::vector<RoundLog>& round) {
  int violations = 0;
  auto report = [&](const char* what, size_t x, size_t y, int64_t a, int64_t b) {
    std::printf("  violation: member %zu %s member %zu (zxid %lld < %lld)\n", x, what, y,
                static_cast<long long>(a), static_cast<long long>(b));
    violations++;
  };
  for (size_t i = 0; i < round.size(); ++i) {
    for (size_t j = 0; j < round.size(); ++j) {
      const RoundLog& x = round[i];
      const RoundLog& y = round[j];
      if (i == j) continue;
      if (x.passed != 0 && y.entering != 0 && x.passed < y.entering) {
        report("passed Enter before the start of Enter by", i, j, x.passed, y.entering);
      }
      if (x.passed != 0 && y.member_czxid != 0 && x.passed < y.member_czxid) {
        report("passed Enter before the member node of", i, j, x.passed, y.member_czxid);
      }
      if (x.left != 0 && y.leaving != 0 && x.left < y.leaving) {
        report("returned from Leave before the start of Leave by", i, j, x.left, y.leaving);
      }
    }
  }
  return violations;
}

TEST(BarrierCheckerTest, CountsEarlyPassesAndEarlyLeaves) {
  std::vector<RoundLog> good = {{1, 2, 10, 20, 30}, {3, 4, 11, 21, 31}};
  EXPECT_EQ(CountBarrierViolations(good), 0);
  std::vector<RoundLog> early_pass = {{1, 2, 3, 20, 30}, {4, 5, 11, 21, 31}};
  EXPECT_EQ(CountBarrierViolations(early_pass), 2);  // before 2nd began, and before its node
  std::vector<RoundLog> early_leave = {{1, 2, 10, 20, 21}, {3, 4, 11, 25, 31}};
  EXPECT_EQ(CountBarrierViolations(early_leave), 1);
}

// Rounds of N members on a fresh path each, for a few seconds, while sessions expire and
// connections drop or stall: no member may pass Enter before every member began entering, nor
// return from Leave before every member began leaving (checked on zxids the server assigned).
TEST_P(BarrierTest, DoubleBarrierHoldsOverManyRoundsUnderFaults) {
  constexpr int kMembers = 4;
  constexpr int kMaxRounds = 5000;
  const absl::Duration kRunFor = absl::Seconds(5);
  const std::string log_dir = JoinPath(Root(), "log");
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kMembers; ++i) clients.push_back(NewClient(std::chrono::milliseconds(2000)));
  ASSERT_THAT(clients[0]->EnsurePath(log_dir), IsOk());
  std::mutex mu;
  std::vector<std::vector<RoundLog>> logs(kMaxRounds, std::vector<RoundLog>(kMembers));
  // Every member plays the rounds below `round_limit`; at the end of the run it is set just
  // above the rounds begun, so that all stop after the same round.
  int round_limit = kMaxRounds;  // guarded by mu
  int rounds_begun = 0;          // guarded by mu
  std::atomic<int> failed_calls{0}, retried_enters{0}, finished{0};
  // A write whose zxid orders a moment (0 if it failed).
  auto mark = [&](Client& client, std::string name) -> int64_t {
    auto created = client.Create(JoinPath(log_dir, name), "");
    return created.ok() ? created->stat.czxid : 0;
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < kMembers; ++i) {
    workers.emplace_back([&, i] {
      Client& client = *clients[i];
      for (int round = 0;; ++round) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (round >= round_limit) break;
          rounds_begun = std::max(rounds_begun, round + 1);
        }
        const std::string path = JoinPath(Root(), absl::StrCat("round-", round));
        RoundLog log;
        log.entering = mark(client, absl::StrCat(round, "-entering-", i));
        std::unique_ptr<DoubleBarrier> member;
        absl::Status entered;
        for (int attempt = 0; attempt < 5; ++attempt) {
          member = *DoubleBarrier::Create(client, path, kMembers);
          entered = member->Enter(std::chrono::seconds(10));
          if (entered.ok()) {
            if (attempt == 0) {
              auto stat = client.Exists(member->member_path());
              if (stat.ok() && stat->has_value()) log.member_czxid = (*stat)->czxid;
            }
            break;
          }
          if (!absl::IsAborted(entered)) break;  // only a lost session is worth a new node
          retried_enters++;
        }
        if (entered.ok()) {
          log.passed = mark(client, absl::StrCat(round, "-passed-", i));
          log.leaving = mark(client, absl::StrCat(round, "-leaving-", i));
          absl::Status left = member->Leave(std::chrono::seconds(10));
          if (left.ok()) {
            log.left = mark(client, absl::StrCat(round, "-left-", i));
          } else {
            failed_calls++;
            // Aborted: the session was lost before it left, and its membership with it; the
            // others may leave without waiting for it.
            if (absl::IsAborted(left)) log.leaving = 0;
          }
        } else {
          failed_calls++;
        }
        std::lock_guard<std::mutex> lock(mu);
        logs[round][i] = log;
      }
      finished++;
    });
  }
  int faults = 0;
  std::mt19937 random(11);
  const absl::Time end = absl::Now() + kRunFor;
  while (finished.load() < kMembers) {
    if (absl::Now() >= end) {
      std::lock_guard<std::mutex> lock(mu);
      round_limit = std::min(round_limit, rounds_begun + 1);
    }
    absl::SleepFor(absl::Milliseconds(300));  // pacing of the fault injector, not a sync
    Client& victim = *clients[random() % kMembers];
    // No restarts: a real server's restart outlasts a round's deadlines. One expiry in six
    // faults: a member needs a second or so to notice one and enter again on a real server, and
    // expiries as frequent as that leave no round able to fill.
    const int pick = random() % 6;
    const testing::Fault fault = pick == 0  ? testing::Fault::kExpireSession
                                 : pick < 3 ? testing::Fault::kDropConnection
                                            : testing::Fault::kPause;
    if (testing::InjectFault(backend(), victim, fault)) {
      faults++;
    }
  }
  for (auto& w : workers) w.join();
  int violations = 0, complete_rounds = 0, checked_pairs = 0;
  logs.resize(round_limit);
  for (const auto& round : logs) {
    violations += CountBarrierViolations(round);
    if (std::all_of(round.begin(), round.end(), [](const RoundLog& l) { return l.left != 0; })) {
      complete_rounds++;
    }
    for (const RoundLog& l : round) checked_pairs += (l.passed != 0) + (l.left != 0);
  }
  std::printf("double barrier fault run (%s): %d rounds of %d members, %d complete, %d checked "
              "passes and leaves, %d failed calls, %d re-entries after a lost session, %d "
              "faults, %d violations\n",
              zk::testing::BackendName(kind()).c_str(), round_limit, kMembers, complete_rounds,
              checked_pairs, failed_calls.load(), retried_enters.load(), faults, violations);
  EXPECT_EQ(violations, 0);
  EXPECT_GT(faults, 0);
  EXPECT_GT(complete_rounds, round_limit / 2);  // the run did check something
}

// --- Barrier ---------------------------------------------------------------------------------

TEST_P(BarrierTest, BarrierHoldsWaitersUntilRemoved) {
  auto setter = NewClient();
  auto waiter_client = NewClient();
  auto set = *Barrier::Create(*setter, BarrierPath());
  auto wait = *Barrier::Create(*waiter_client, BarrierPath());
  EXPECT_THAT(wait->WaitOnBarrier(std::chrono::seconds(5)), IsOk());  // not set: at once
  ASSERT_THAT(set->SetBarrier(), IsOk());
  ASSERT_THAT(set->SetBarrier(), IsOk());  // idempotent
  EXPECT_THAT(wait->WaitOnBarrier(std::chrono::milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, "still set"));
  std::atomic<int> released{0};
  for (int i = 0; i < 3; ++i) {
    wait->AsyncWaitOnBarrier(std::chrono::seconds(30), [&](absl::Status s) {
      EXPECT_THAT(s, IsOk());
      released++;
    });
  }
  // A lost session does not lose the waits: they look again in the new one.
  ASSERT_THAT(backend().ExpireSession(waiter_client->session_id(),
                                      waiter_client->session_password()),
              IsOk());
  ASSERT_THAT(waiter_client->WaitUntilConnected(std::chrono::seconds(10)), IsOk());
  EXPECT_EQ(released.load(), 0);  // still set: nobody may be through
  ASSERT_THAT(set->RemoveBarrier(), IsOk());
  ASSERT_TRUE(WaitFor([&] { return released.load() == 3; }, absl::Seconds(10)));
  EXPECT_THAT(set->RemoveBarrier(), IsOk());  // not set: OK
}

TEST_P(BarrierTest, BarrierDestroyedCancelsWaitsAndRejectsBadInput) {
  auto client = NewClient();
  EXPECT_THAT(Barrier::Create(*client, "x").status(), StatusIs(absl::StatusCode::kInvalidArgument));
  auto barrier = *Barrier::Create(*client, BarrierPath());
  EXPECT_THAT(barrier->WaitOnBarrier(std::chrono::milliseconds(-1)),
              StatusIs(absl::StatusCode::kInvalidArgument, "timeout"));
  ASSERT_THAT(barrier->SetBarrier(), IsOk());
  zk::internal::Notification done;
  barrier->AsyncWaitOnBarrier(std::chrono::seconds(30), [&](absl::Status s) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kCancelled, "barrier " + BarrierPath()));
    done.Notify();
  });
  barrier.reset();
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(client->Exists(BarrierPath()), zk::testing::IsOkAndHolds(::testing::Ne(std::nullopt)));
}

ZK_INSTANTIATE_BACKEND_TEST(BarrierTest);

}  // namespace
}  // namespace zk::recipes
