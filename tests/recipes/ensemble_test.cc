// Lock and leader election on a real 3-node ZooKeeper ensemble while members are killed and
// revived (the clients fail over with their sessions).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "fencing_checker.h"
#include "testing/real_ensemble.h"
#include "testing/status_matchers.h"
#include "testing/wait_for.h"
#include "zk/client.h"
#include "zk/path.h"
#include "zk/recipes/leader_election.h"
#include "zk/recipes/lock.h"

namespace zk::recipes {
namespace {

using zk::testing::IsOk;
using zk::testing::RealEnsemble;
using zk::testing::WaitFor;

class RecipeEnsembleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RealEnsemble::Start({});
    if (started.ok()) ensemble_ = started->release();
  }
  static void TearDownTestSuite() {
    delete ensemble_;
    ensemble_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(ensemble_, nullptr) << "cannot start the ensemble";
    ASSERT_THAT(ensemble_->ReviveAll(), IsOk());
    ASSERT_THAT(ensemble_->WaitForQuorum(absl::Now() + absl::Seconds(30)), IsOk());
    root_ = std::string("/zkcpp-test/ensemble-") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  std::unique_ptr<Client> NewClient() {
    auto client = Client::Connect({.connect_string = ensemble_->connect_string(),
                                   .session_timeout = std::chrono::milliseconds(6000)});
    EXPECT_THAT(client.status(), IsOk());
    EXPECT_THAT((*client)->WaitUntilConnected(std::chrono::seconds(20)), IsOk());
    return *std::move(client);
  }
  // Kills one member (keeping a quorum), then revives it, until `end`; returns the count.
  int KillAndReviveMembers(absl::Time end) {
    int faults = 0;
    for (int member = 0; absl::Now() < end; member = (member + 1) % ensemble_->size()) {
      if (!ensemble_->KillMember(member).ok()) continue;
      faults++;
      absl::SleepFor(absl::Milliseconds(700));  // pacing: the member stays down a while
      EXPECT_THAT(ensemble_->ReviveMember(member), IsOk());
      EXPECT_THAT(ensemble_->WaitForQuorum(absl::Now() + absl::Seconds(30)), IsOk());
    }
    return faults;
  }

  static RealEnsemble* ensemble_;
  std::string root_;
};

RealEnsemble* RecipeEnsembleTest::ensemble_ = nullptr;

// The checker is the one of the single-server fault run: guarded writes at the start and end
// of every critical section must form disjoint zxid intervals ordered by fencing token.
TEST_F(RecipeEnsembleTest, LockExcludesWhileMembersFail) {
  constexpr int kWorkers = 3;
  const std::string lock_path = JoinPath(root_, "lock");
  const std::string data_path = JoinPath(root_, "data");
  auto setup = NewClient();
  ASSERT_THAT(setup->Create(data_path, "", {.create_parents = true}).status(), IsOk());
  std::mutex mu;
  std::vector<testing::FencedSection> sections;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kWorkers; ++i) clients.push_back(NewClient());
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&, i] {
      auto lock = *Lock::Create(*clients[i], lock_path);
      while (!stop.load()) {
        auto guard = lock->Acquire(std::chrono::seconds(10));
        if (!guard.ok()) continue;
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
  const int faults = KillAndReviveMembers(absl::Now() + absl::Seconds(8));
  stop.store(true);
  for (auto& w : workers) w.join();
  const int overlaps = testing::CountOverlaps(sections);
  std::printf("lock ensemble run: %zu checked sections, %d members killed and revived, %d "
              "overlaps\n",
              sections.size(), faults, overlaps);
  EXPECT_EQ(overlaps, 0);
  EXPECT_GT(faults, 0);
  EXPECT_GT(sections.size(), 0u);  // the run did check something; how much depends on load
}

// Killing the member the leader is connected to moves the leader's session to another member:
// it keeps leading (same epoch) or, if suspended too long, another participant takes over —
// never two at once, as the fenced writes show.
TEST_F(RecipeEnsembleTest, ElectionSurvivesMemberFailures) {
  constexpr int kParticipants = 3;
  const std::string election_path = JoinPath(root_, "leader");
  const std::string marker = JoinPath(root_, "marker");
  auto setup = NewClient();
  ASSERT_THAT(setup->Create(marker, "", {.create_parents = true}).status(), IsOk());
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<LeaderElection>> elections;
  std::vector<Subscription> subs;
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> writes;
  for (int i = 0; i < kParticipants; ++i) {
    clients.push_back(NewClient());
    elections.push_back(*LeaderElection::Create(*clients.back(), election_path,
                                                 {.participant_id = std::to_string(i)}));
  }
  for (int i = 0; i < kParticipants; ++i) {
    LeaderElection* election = elections[i].get();
    Client* client = clients[i].get();
    subs.push_back(election->AddListener([&, election, client](const LeadershipEvent& e) {
      if (!e.is_leader) return;
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
  const int faults = KillAndReviveMembers(absl::Now() + absl::Seconds(8));
  ASSERT_TRUE(WaitFor([&] {
    int leaders = 0;
    for (auto& e : elections) leaders += e->IsLeader() ? 1 : 0;
    return leaders == 1;
  }, absl::Seconds(30)));
  std::lock_guard<std::mutex> lock(mu);
  const int violations = testing::CountEpochRegressions(writes);
  std::printf("election ensemble run: %d members killed and revived, %zu fenced writes, %d "
              "violations\n",
              faults, writes.size(), violations);
  EXPECT_EQ(violations, 0);
  EXPECT_GT(writes.size(), 0u);
}

}  // namespace
}  // namespace zk::recipes
