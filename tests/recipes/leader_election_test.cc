// Tests of zk::recipes::LeaderElection and LeaderSelector on every backend.

#include "zk/recipes/leader_election.h"
#include "zk/recipes/leader_selector.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

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

using zk::testing::IsOk;
using zk::testing::StatusIs;
using zk::testing::WaitFor;

class LeaderElectionTest : public testing::RecipeTest {
 protected:
  std::string ElectionPath() const { return JoinPath(Root(), "leader"); }
  // Number of participants, 0 if they cannot be listed.
  static size_t CountParticipants(LeaderElection& election) {
    auto participants = election.Participants();
    return participants.ok() ? participants->size() : 0;
  }
  std::unique_ptr<LeaderElection> Join(Client& client, std::string id) {
    auto election = LeaderElection::Create(client, ElectionPath(), {.participant_id = id});
    EXPECT_THAT(election.status(), IsOk());
    EXPECT_THAT((*election)->Start(), IsOk());
    return *std::move(election);
  }
};

TEST_P(LeaderElectionTest, SingleParticipantLeads) {
  auto client = NewClient();
  auto election = Join(*client, "a");
  ASSERT_THAT(election->AwaitLeadership(std::chrono::seconds(5)), IsOk());
  EXPECT_TRUE(election->IsLeader());
  EXPECT_GT(election->epoch(), 0);
  EXPECT_THAT(election->CurrentLeader(), zk::testing::IsOkAndHolds("a"));
  auto participants = election->Participants();
  ASSERT_THAT(participants.status(), IsOk());
  ASSERT_EQ(participants->size(), 1u);
  EXPECT_TRUE((*participants)[0].is_leader);
  auto children = client->GetChildren(ElectionPath());
  ASSERT_THAT(children.status(), IsOk());
  EXPECT_THAT(children->children[0], ::testing::MatchesRegex("_c_[0-9a-f-]{36}-latch-[0-9]{10}"));
}

TEST_P(LeaderElectionTest, StandbyTakesOverWhenActiveLeaves) {
  auto a = NewClient();
  auto b = NewClient();
  auto active = Join(*a, "active");
  ASSERT_THAT(active->AwaitLeadership(std::chrono::seconds(5)), IsOk());
  auto standby = Join(*b, "standby");
  std::vector<LeadershipEvent> events;
  std::mutex mu;
  Subscription sub = standby->AddListener([&](const LeadershipEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
  });
  ASSERT_TRUE(WaitFor([&] { return CountParticipants(*active) == 2; },
                      absl::Seconds(5)));
  EXPECT_FALSE(standby->IsLeader());
  const int64_t old_epoch = active->epoch();
  const absl::Time left = absl::Now();
  active.reset();  // the active server goes away
  ASSERT_THAT(standby->AwaitLeadership(std::chrono::seconds(5)), IsOk());
  std::printf("leader handoff (%s, graceful): %.2f ms\n", zk::testing::BackendName(kind()).c_str(),
              absl::ToDoubleMilliseconds(absl::Now() - left));
  EXPECT_GT(standby->epoch(), old_epoch);
  EXPECT_THAT(standby->CurrentLeader(), zk::testing::IsOkAndHolds("standby"));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !events.empty();
  }, absl::Seconds(5)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(events.front().is_leader);
  EXPECT_EQ(events.front().reason, LeadershipReason::kElected);
}

TEST_P(LeaderElectionTest, ResignHandsOverAndRequeues) {
  auto a = NewClient();
  auto b = NewClient();
  auto first = Join(*a, "a");
  ASSERT_THAT(first->AwaitLeadership(std::chrono::seconds(5)), IsOk());
  auto second = Join(*b, "b");
  ASSERT_TRUE(WaitFor([&] { return CountParticipants(*first) == 2; },
                      absl::Seconds(5)));
  ASSERT_THAT(first->Resign(), IsOk());
  EXPECT_FALSE(first->IsLeader());
  ASSERT_THAT(second->AwaitLeadership(std::chrono::seconds(5)), IsOk());
  ASSERT_TRUE(WaitFor([&] { return CountParticipants(*first) == 2; },
                      absl::Seconds(5)));
  auto participants = first->Participants();
  ASSERT_THAT(participants.status(), IsOk());
  EXPECT_EQ((*participants)[0].id, "b");
  EXPECT_EQ((*participants)[1].id, "a");
  EXPECT_FALSE(first->IsLeader());
}

TEST_P(LeaderElectionTest, SessionExpiryFailsOverAndOldLeaderRequeues) {
  const auto session_timeout = std::chrono::milliseconds(2000);
  auto a = NewClient(session_timeout);
  auto b = NewClient(session_timeout);
  auto first = Join(*a, "a");
  ASSERT_THAT(first->AwaitLeadership(std::chrono::seconds(5)), IsOk());
  auto second = Join(*b, "b");
  std::atomic<int> lost{0};
  Subscription sub = first->AddListener([&](const LeadershipEvent& e) {
    if (!e.is_leader) lost++;
  });
  ASSERT_TRUE(WaitFor([&] { return CountParticipants(*first) == 2; },
                      absl::Seconds(5)));
  const absl::Time expired = absl::Now();
  ASSERT_THAT(backend().ExpireSession(a->session_id(), a->session_password()), IsOk());
  // Leadership must move; how fast is a figure (the bound: session timeout + 1 s),
  // printed rather than asserted, since sanitizers and load stretch it.
  ASSERT_THAT(second->AwaitLeadership(session_timeout + std::chrono::seconds(10)), IsOk());
  std::printf("leader failover after expiry (%s): %.2f ms (bound: session timeout + 1 s = %lld ms)\n",
              zk::testing::BackendName(kind()).c_str(),
              absl::ToDoubleMilliseconds(absl::Now() - expired),
              static_cast<long long>((session_timeout + std::chrono::seconds(1)).count()));
  ASSERT_TRUE(WaitFor([&] { return lost.load() >= 1; }, absl::Seconds(10)));
  // The old leader joins again with a node of its new session, behind the new leader.
  ASSERT_TRUE(WaitFor([&] {
    auto p = second->Participants();
    return p.ok() && p->size() == 2 && (*p)[0].id == "b" && (*p)[1].id == "a";
  }, absl::Seconds(10)));
  // Only now is "not leader" certain. Before, a real server lets the old session's own client
  // win a reconnect race against the closeSession that expires it: its node is still the lowest,
  // so it leads again, until its client sees the session gone (ZooKeeper tells a client nothing
  // sooner). Its new node exists only after its loss was recorded, and it is second in line.
  EXPECT_FALSE(first->IsLeader());
  EXPECT_TRUE(second->IsLeader());
}

// An attempt that fails (here: no permission to create under the election path) must not drop
// the participant out for good: it joins again, and leads once the cause is gone.
TEST_P(LeaderElectionTest, ParticipantJoinsAgainAfterAFailedAttempt) {
  auto client = NewClient();
  ASSERT_THAT(client->Create(ElectionPath(), "", {.create_parents = true}).status(), IsOk());
  const AclList no_create = {{.perms = kPermAll & ~kPermCreate, .id = {"world", "anyone"}}};
  ASSERT_THAT(client->SetAcl(ElectionPath(), no_create), IsOk());
  auto election = Join(*client, "a");
  EXPECT_THAT(election->AwaitLeadership(std::chrono::milliseconds(300)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_THAT(client->SetAcl(ElectionPath(), OpenAclUnsafe()), IsOk());
  ASSERT_THAT(election->AwaitLeadership(std::chrono::seconds(10)), IsOk());
  EXPECT_THAT(election->CurrentLeader(), zk::testing::IsOkAndHolds("a"));
}

// Resign right after Start (and again) queues several joins before the loop has run the first:
// only the last may stay in, or an earlier node blocks the queue with nobody leading.
TEST_P(LeaderElectionTest, QuickResignsLeaveOneParticipant) {
  auto client = NewClient();
  auto election = LeaderElection::Create(*client, ElectionPath(), {.participant_id = "a"});
  ASSERT_THAT(election.status(), IsOk());
  ASSERT_THAT((*election)->Start(), IsOk());
  ASSERT_THAT((*election)->Resign(), IsOk());
  ASSERT_THAT((*election)->Resign(), IsOk());
  ASSERT_THAT((*election)->AwaitLeadership(std::chrono::seconds(10)), IsOk());
  EXPECT_TRUE(WaitFor([&] { return CountParticipants(**election) == 1; }, absl::Seconds(5)))
      << "participants: " << CountParticipants(**election);
}

// Closing the client ends its session and takes our node along: the leader must stop
// claiming leadership at once and say why, a waiting participant's AwaitLeadership ends with
// Cancelled instead of running out its timeout, and the next in line leads.
TEST_P(LeaderElectionTest, ClosingTheClientEndsLeadership) {
  auto a = NewClient();
  auto b = NewClient();
  auto c = NewClient();
  auto leader = Join(*a, "a");
  ASSERT_THAT(leader->AwaitLeadership(std::chrono::seconds(5)), IsOk());
  auto next = Join(*b, "b");
  // Queued in this order (Join returns before the node is made).
  ASSERT_TRUE(WaitFor([&] { return CountParticipants(*next) == 2; }, absl::Seconds(5)));
  auto last = Join(*c, "c");
  ASSERT_TRUE(WaitFor([&] { return CountParticipants(*next) == 3; }, absl::Seconds(5)));
  std::mutex mu;
  std::vector<LeadershipEvent> events;
  Subscription sub = leader->AddListener([&](const LeadershipEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
  });
  a->Close();
  EXPECT_FALSE(leader->IsLeader());
  EXPECT_EQ(leader->epoch(), 0);
  EXPECT_THAT(leader->Guard({}).status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(leader->AwaitLeadership(std::chrono::seconds(30)),
              StatusIs(absl::StatusCode::kCancelled, "client closed"));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !events.empty();
  }, absl::Seconds(5)));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_FALSE(events.back().is_leader);
    EXPECT_EQ(events.back().reason, LeadershipReason::kClientClosed);
  }
  ASSERT_THAT(next->AwaitLeadership(std::chrono::seconds(10)), IsOk());
  c->Close();
  EXPECT_THAT(last->AwaitLeadership(std::chrono::seconds(30)),
              StatusIs(absl::StatusCode::kCancelled, "client closed"));
  EXPECT_FALSE(last->IsLeader());
}

TEST_P(LeaderElectionTest, FailFastCallsTheFatalHook) {
  auto a = NewClient(std::chrono::milliseconds(2000));
  std::atomic<int> fatal{0};
  auto election = *LeaderElection::Create(*a, ElectionPath(),
                                          {.participant_id = "a",
                                           .fail_fast = true,
                                           .on_leadership_lost = [&] { fatal++; }});
  ASSERT_THAT(election->Start(), IsOk());
  ASSERT_THAT(election->AwaitLeadership(std::chrono::seconds(5)), IsOk());
  ASSERT_THAT(backend().ExpireSession(a->session_id(), a->session_password()), IsOk());
  ASSERT_TRUE(WaitFor([&] { return fatal.load() >= 1; }, absl::Seconds(10)));
}

TEST_P(LeaderElectionTest, SelectorRunsOneLeaderAtATimeAndRequeues) {
  auto a = NewClient();
  auto b = NewClient();
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::atomic<int> turns{0};
  auto take = [&](const LeadershipContext& context) {
    const int now = ++running;
    int seen = max_running.load();
    while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
    }
    EXPECT_TRUE(context.IsLeader());
    EXPECT_GT(context.epoch(), 0);
    turns++;
    --running;
  };
  auto s1 = *LeaderSelector::Create(*a, ElectionPath(), {.election = {.participant_id = "1"}}, take);
  auto s2 = *LeaderSelector::Create(*b, ElectionPath(), {.election = {.participant_id = "2"}}, take);
  ASSERT_THAT(s1->Start(), IsOk());
  ASSERT_THAT(s2->Start(), IsOk());
  ASSERT_TRUE(WaitFor([&] { return s1->leadership_count() >= 3 && s2->leadership_count() >= 3; },
                      absl::Seconds(20)));
  s1.reset();
  s2.reset();
  EXPECT_EQ(max_running.load(), 1);
}

TEST_P(LeaderElectionTest, BadInputIsRejectedClearly) {
  auto client = NewClient();
  EXPECT_THAT(LeaderElection::Create(*client, ElectionPath(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "participant_id is empty"));
  EXPECT_THAT(LeaderElection::Create(*client, "x/y", {.participant_id = "a"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "x/y"));
  auto election = *LeaderElection::Create(*client, ElectionPath(), {.participant_id = "a"});
  EXPECT_THAT(election->AwaitLeadership(std::chrono::seconds(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not started"));
  EXPECT_THAT(election->Resign(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(election->Start(), IsOk());
  EXPECT_THAT(election->Start(), StatusIs(absl::StatusCode::kFailedPrecondition, "already"));
  EXPECT_THAT(election->AwaitLeadership(std::chrono::milliseconds(0)),
              StatusIs(absl::StatusCode::kInvalidArgument, "timeout must be positive"));
  EXPECT_THAT(election->Guard({}).status(),
              ::testing::AnyOf(IsOk(), StatusIs(absl::StatusCode::kFailedPrecondition)));
}

// Three participants under faults. The checker is on the server: every "elected" event makes
// its participant write its epoch through Guard() (a check on its own node); the committed
// writes, in zxid order, must carry non-decreasing epochs, so two leaders never interleave.
TEST_P(LeaderElectionTest, ElectionUnderFaults) {
  constexpr int kParticipants = 3;
  const auto session_timeout = std::chrono::milliseconds(2000);
  const std::string marker = JoinPath(Root(), "leader-marker");
  auto setup = NewClient();
  ASSERT_THAT(setup->Create(marker, "", {.create_parents = true}).status(), IsOk());
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<LeaderElection>> elections;
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> writes;  // (mzxid, epoch)
  std::vector<Subscription> subs;
  std::atomic<int> elected{0};
  for (int i = 0; i < kParticipants; ++i) {
    clients.push_back(NewClient(session_timeout));
    elections.push_back(*LeaderElection::Create(*clients.back(), ElectionPath(),
                                                 {.participant_id = std::to_string(i)}));
  }
  for (int i = 0; i < kParticipants; ++i) {
    LeaderElection* election = elections[i].get();
    Client* client = clients[i].get();
    subs.push_back(election->AddListener([&, election, client](const LeadershipEvent& e) {
      if (!e.is_leader) return;
      elected++;
      // An event handed out before this participant lost and regained leadership is stale: the
      // guard below fences with the current node, so the write must be logged under the
      // current epoch, not the event's (the checker would count a regression that is none).
      if (election->epoch() != e.epoch) return;
      auto ops = election->Guard({op::Set{.path = marker, .data = std::to_string(e.epoch)}});
      if (!ops.ok()) return;
      auto written = client->Multi(*std::move(ops));
      if (written.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        writes.emplace_back(written->results[1].stat.mzxid, e.epoch);
      }
    }));
    ASSERT_THAT(election->Start(), IsOk());
  }
  std::mt19937 random(7);
  int faults = 0;
  std::vector<double> failovers_ms;
  const absl::Time end = absl::Now() + absl::Seconds(6);
  while (absl::Now() < end) {
    // Find the leader the tree names, expire its session, time the failover (a leader in
    // another session: possibly the same process again, re-queued in a new session). Sometimes
    // pause or restart the server instead.
    int leader = -1;
    ASSERT_TRUE(WaitFor([&] {
      auto id = setup->GetChildren(ElectionPath()).ok() ? elections[0]->CurrentLeader()
                                                        : absl::StatusOr<std::string>("");
      if (!id.ok() || id->empty()) return false;
      leader = std::stoi(*id);
      return elections[leader]->IsLeader();
    }, absl::Seconds(15)));
    const int fault = random() % 3;
    if (fault == 0) {
      const absl::Time start = absl::Now();
      const int64_t expired_session = clients[leader]->session_id();
      ASSERT_THAT(backend().ExpireSession(expired_session, clients[leader]->session_password()),
                  IsOk());
      faults++;
      ASSERT_TRUE(WaitFor([&] {
        for (int i = 0; i < kParticipants; ++i) {
          if (elections[i]->IsLeader() && clients[i]->session_id() != expired_session) return true;
        }
        return false;
      }, absl::FromChrono(session_timeout) + absl::Seconds(10)))
          << "no new leader after expiring session " << expired_session << " of " << leader;
      failovers_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    } else if (fault == 1) {
      ASSERT_THAT(backend().Pause(), IsOk());
      absl::SleepFor(absl::Milliseconds(100));  // pacing: the pause itself is the fault
      ASSERT_THAT(backend().Resume(), IsOk());
      faults++;
    } else {
      if (backend().Restart().ok()) faults++;
    }
  }
  // Settles with exactly one leader, the one the tree names.
  ASSERT_TRUE(WaitFor([&] {
    int leaders = 0;
    for (auto& e : elections) leaders += e->IsLeader() ? 1 : 0;
    return leaders == 1;
  }, absl::Seconds(15)));
  std::vector<std::pair<int64_t, int64_t>> committed;
  {
    std::lock_guard<std::mutex> lock(mu);  // listeners may still be appending
    committed = writes;
  }
  const int violations = testing::CountEpochRegressions(committed);
  std::sort(failovers_ms.begin(), failovers_ms.end());
  std::printf("election fault run (%s): %d faults, %d elections, %zu fenced writes, %d violations",
              zk::testing::BackendName(kind()).c_str(), faults, elected.load(), committed.size(),
              violations);
  if (!failovers_ms.empty()) {
    const double bound_ms =
        absl::ToDoubleMilliseconds(absl::FromChrono(session_timeout) + absl::Seconds(1));
    const auto over = std::count_if(failovers_ms.begin(), failovers_ms.end(),
                                    [bound_ms](double ms) { return ms > bound_ms; });
    std::printf("; failover after expiry p50 %.1f ms, max %.1f ms, %ld of %zu over the "
                "session timeout + 1 s bound",
                failovers_ms[failovers_ms.size() / 2], failovers_ms.back(),
                static_cast<long>(over), failovers_ms.size());
  }
  std::printf("\n");
  EXPECT_EQ(violations, 0);
  EXPECT_GT(faults, 0);
  EXPECT_GT(committed.size(), 0u);
  subs.clear();
  elections.clear();
  ASSERT_TRUE(WaitFor([&] {
    auto children = setup->GetChildren(ElectionPath());
    return children.ok() && children->children.empty();
  }, absl::Seconds(15)));
}

ZK_INSTANTIATE_BACKEND_TEST(LeaderElectionTest);

}  // namespace
}  // namespace zk::recipes
