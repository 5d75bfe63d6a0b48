// Lock, leader election, service discovery and config push on a real 3-node ZooKeeper ensemble
// while members are killed and revived (the clients fail over with their sessions).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fencing_checker.h"
#include "increment_run.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/wait_for.h"
#include "zk/client.h"
#include "zk/path.h"
#include "zk/recipes/config_watcher.h"
#include "zk/recipes/distributed_atomic_long.h"
#include "zk/recipes/leader_election.h"
#include "zk/recipes/lock.h"
#include "zk/recipes/service_cache.h"
#include "zk/recipes/service_registry.h"
#include "zk/testing/real_ensemble.h"

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
  }, absl::Seconds(30))) << [&] {
    std::string state = "not exactly one leader; IsLeader():";
    for (auto& e : elections) absl::StrAppend(&state, e->IsLeader() ? " yes" : " no");
    absl::StatusOr<ChildrenResult> nodes = setup->GetChildren(election_path);
    if (nodes.ok()) absl::StrAppend(&state, "; nodes: ", absl::StrJoin(nodes->children, " "));
    return state;
  }();
  std::lock_guard<std::mutex> lock(mu);
  const int violations = testing::CountEpochRegressions(writes);
  std::printf("election ensemble run: %d members killed and revived, %zu fenced writes, %d "
              "violations\n",
              faults, writes.size(), violations);
  EXPECT_EQ(violations, 0);
  EXPECT_GT(writes.size(), 0u);
}

// Registrations come and go on three clients while members are killed; two discovering clients'
// caches end at exactly the registered set (no phantom, none missing) once the faults stop.
TEST_F(RecipeEnsembleTest, DiscoveryCachesConvergeWhileMembersFail) {
  constexpr int kServices = 3;
  constexpr int kClients = 3;
  constexpr int kPerClient = 4;  // instances per service per client
  const std::string base = JoinPath(root_, "services");
  std::vector<std::unique_ptr<Client>> registering;
  std::vector<std::unique_ptr<ServiceRegistry>> registries;
  for (int c = 0; c < kClients; ++c) {
    registering.push_back(NewClient());
    registries.push_back(*ServiceRegistry::Create(*registering.back(), base));
  }
  // registrations[(client, service, k)]; null = unregistered right now.
  std::map<std::tuple<int, int, int>, std::unique_ptr<ServiceRegistry::Registration>> registered;
  auto instance = [](int c, int s, int k) {
    return ServiceInstance{.name = absl::StrCat("svc", s),
                           .id = absl::StrCat("c", c, "-", k),
                           .address = absl::StrCat("10.0.", c, ".", k),
                           .port = 8000 + s};
  };
  for (int c = 0; c < kClients; ++c) {
    for (int s = 0; s < kServices; ++s) {
      for (int k = 0; k < kPerClient; ++k) {
        auto r = registries[c]->Register(instance(c, s, k));
        ASSERT_THAT(r.status(), IsOk());
        registered[{c, s, k}] = *std::move(r);
      }
    }
  }
  std::vector<std::unique_ptr<Client>> discovering;
  std::vector<std::unique_ptr<ServiceCache>> caches;  // [client * kServices + service]
  for (int d = 0; d < 2; ++d) {
    discovering.push_back(NewClient());
    for (int s = 0; s < kServices; ++s) {
      caches.push_back(*ServiceCache::Create(*discovering.back(), base, absl::StrCat("svc", s)));
      ASSERT_THAT(caches.back()->Start(), IsOk());
      ASSERT_THAT(caches.back()->WaitUntilLoaded(std::chrono::seconds(20)), IsOk());
    }
  }

  // Churn: toggle instances (unregister / register again) while members fail.
  std::atomic<bool> stop{false};
  std::atomic<int> toggles{0};
  std::thread churn([&] {
    for (int i = 0; !stop.load(); i = (i + 1) % (kClients * kServices * kPerClient)) {
      const int c = i % kClients, s = (i / kClients) % kServices, k = i / (kClients * kServices);
      auto& slot = registered[{c, s, k}];
      if (slot != nullptr) {
        slot.reset();  // unregisters (the registry retries a delete lost to a failover)
      } else {
        auto r = registries[c]->Register(instance(c, s, k));
        if (!r.ok()) continue;  // a failover in the middle: the next round tries again
        slot = *std::move(r);
      }
      toggles++;
    }
  });
  const int faults = KillAndReviveMembers(absl::Now() + absl::Seconds(8));
  stop.store(true);
  churn.join();

  std::vector<std::set<std::string>> expected(kServices);
  for (const auto& [key, registration] : registered) {
    const auto [c, s, k] = key;
    if (registration != nullptr) expected[s].insert(instance(c, s, k).id);
  }
  for (size_t i = 0; i < caches.size(); ++i) {
    const int s = static_cast<int>(i % kServices);
    auto ids = [&] {
      std::set<std::string> seen;
      for (const ServiceInstance& x : *caches[i]->Instances()) seen.insert(x.id);
      return seen;
    };
    EXPECT_TRUE(WaitFor([&] { return ids() == expected[s]; }, absl::Seconds(30)))
        << "cache " << i << " holds " << ids().size() << " instances, expected "
        << expected[s].size();
  }
  std::printf("discovery ensemble run: %d members killed and revived, %d registration toggles, "
              "%zu caches converged\n",
              faults, toggles.load(), caches.size());
  EXPECT_GT(faults, 0);
  EXPECT_GT(toggles.load(), 0);
}

// One writer publishes while members are killed; every subscriber sees increasing mzxids and
// ends at the last value written.
TEST_F(RecipeEnsembleTest, ConfigPushIsMonotonicWhileMembersFail) {
  constexpr int kSubscribers = 6;
  const std::string path = JoinPath(root_, "config");
  auto writer = NewClient();
  ASSERT_THAT(writer->EnsurePath(root_), IsOk());
  ASSERT_THAT(ConfigWatcher::Publish(*writer, path, "init").status(), IsOk());
  struct Subscriber {
    std::unique_ptr<Client> client;
    std::unique_ptr<ConfigWatcher> watcher;
    Subscription subscription;
    std::mutex mu;
    std::vector<int64_t> mzxids;
    std::string last_data;
  };
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (int i = 0; i < kSubscribers; ++i) {
    auto sub = std::make_unique<Subscriber>();
    sub->client = NewClient();
    sub->watcher = *ConfigWatcher::Create(*sub->client, path);
    Subscriber* raw = sub.get();
    sub->subscription = sub->watcher->AddListener([raw](const ConfigValue& v) {
      if (!v.exists) return;
      std::lock_guard<std::mutex> lock(raw->mu);
      raw->mzxids.push_back(v.mzxid());
      raw->last_data = v.data;
    });
    ASSERT_THAT(sub->watcher->Start(), IsOk());
    ASSERT_THAT(sub->watcher->WaitUntilLoaded(std::chrono::seconds(20)), IsOk());
    subscribers.push_back(std::move(sub));
  }

  std::atomic<bool> stop{false};
  std::atomic<int> published{0};
  std::mutex last_mu;
  Stat last_stat;
  std::string last_data;
  std::thread publisher([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string data = absl::StrCat("v", i);
      absl::StatusOr<Stat> written = ConfigWatcher::Publish(*writer, path, data);
      if (!written.ok()) continue;  // lost to a failover: the next value supersedes it
      std::lock_guard<std::mutex> lock(last_mu);
      last_stat = *written;
      last_data = data;
      published++;
    }
  });
  const int faults = KillAndReviveMembers(absl::Now() + absl::Seconds(8));
  stop.store(true);
  publisher.join();
  // A write whose reply was lost may still have committed after the last acknowledged one:
  // one more acknowledged write fixes the final value.
  absl::StatusOr<Stat> final_write;
  ASSERT_TRUE(WaitFor([&] {
    final_write = ConfigWatcher::Publish(*writer, path, "final");
    return final_write.ok();
  }, absl::Seconds(30))) << final_write.status();

  for (auto& sub : subscribers) {
    EXPECT_TRUE(WaitFor([&] {
      std::lock_guard<std::mutex> lock(sub->mu);
      return !sub->mzxids.empty() && sub->mzxids.back() == final_write->mzxid;
    }, absl::Seconds(30))) << "a subscriber never saw the final value";
    std::lock_guard<std::mutex> lock(sub->mu);
    EXPECT_EQ(sub->last_data, "final");
    for (size_t j = 1; j < sub->mzxids.size(); ++j) {
      ASSERT_GT(sub->mzxids[j], sub->mzxids[j - 1]) << "at delivery " << j;
    }
  }
  std::printf("config ensemble run: %d members killed and revived, %d values published, %d "
              "subscribers monotonic and converged\n",
              faults, published.load(), kSubscribers);
  EXPECT_GT(faults, 0);
  EXPECT_GT(published.load(), 0);
}

// A member that lost the quorum serves reads only (read-only mode), cut off from the others. A
// lock holder's session cannot resume there: ZooKeeper 3.8 refuses to reconnect a global session
// in read-only mode ("Refusing global session reconnection in RO mode"), and without local
// sessions (the default) it answers no new session either. So the lock stays suspended, is lost
// with the session (the client's own loss timer), and is not held again once the quorum is back
// (the client then goes on with a new session).
TEST(RecipeReadOnlyEnsembleTest, ReadOnlyMemberNeverGivesTheLockBack) {
  auto ensemble = RealEnsemble::Start({.read_only_mode = true});
  ASSERT_THAT(ensemble.status(), IsOk());
  const int kept = 0;
  auto client = Client::Connect({.connect_string = (*ensemble)->member_connect_string(kept),
                                 .session_timeout = std::chrono::milliseconds(4000),
                                 .allow_read_only = true});
  ASSERT_THAT(client.status(), IsOk());
  ASSERT_THAT((*client)->WaitUntilConnected(std::chrono::seconds(20)), IsOk());
  const int64_t session_id = (*client)->session_id();
  auto lock = Lock::Create(**client, "/zkcpp-test/read-only-lock");
  ASSERT_THAT(lock.status(), IsOk());
  auto guard = (*lock)->Acquire(std::chrono::seconds(10));
  ASSERT_THAT(guard.status(), IsOk());
  std::mutex mu;
  std::vector<LockEventType> events;
  Subscription sub = (*lock)->AddListener([&](const LockEvent& e) {
    std::lock_guard<std::mutex> lock_events(mu);
    events.push_back(e.type);
  });
  const auto lost = [&] {
    std::lock_guard<std::mutex> lock_events(mu);
    return std::find(events.begin(), events.end(), LockEventType::kLost) != events.end();
  };

  for (int member = 0; member < (*ensemble)->size(); ++member) {
    if (member != kept) {
      ASSERT_THAT((*ensemble)->KillMember(member), IsOk());
    }
  }
  ASSERT_TRUE(WaitFor([&] { return (*ensemble)->MemberMode(kept).value_or("") == "read-only"; },
                      absl::Seconds(30)));
  bool held_again = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        held_again |= guard->IsHeld();
        return lost();
      },
      absl::Seconds(30)));
  EXPECT_FALSE(held_again) << "the lock was held again while only a read-only member served";
  {
    std::lock_guard<std::mutex> lock_events(mu);
    EXPECT_EQ(events, (std::vector<LockEventType>{LockEventType::kSuspended,
                                                   LockEventType::kLost}));
  }
  for (int member = 0; member < (*ensemble)->size(); ++member) {
    if (member != kept) {
      ASSERT_THAT((*ensemble)->ReviveMember(member), IsOk());
    }
  }
  ASSERT_THAT((*ensemble)->WaitForQuorum(absl::Now() + absl::Seconds(30)), IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*client)->state() == SessionState::kReconnected; },
                      absl::Seconds(30)));
  EXPECT_NE((*client)->session_id(), session_id);
  EXPECT_FALSE(guard->IsHeld());  // lost with its session, for good
}

// Increments from several clients while members are killed (a client connected to a killed
// member fails over with its session, its in-flight set of unknown outcome) and one session is
// expired: the counter checker (fencing_checker.h) must find no increment lost or doubled.
TEST_F(RecipeEnsembleTest, AtomicLongCountsExactlyWhileMembersFail) {
  constexpr int kClients = 3;
  const std::string counter_path = JoinPath(root_, "counter");
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(NewClient());
  testing::IncrementRun run(clients, counter_path);
  int faults = KillAndReviveMembers(absl::Now() + absl::Seconds(6));
  // One server-side session expiry besides, through a member that is up.
  auto expirer = NewClient();
  if (ensemble_->ExpireSession(clients[0]->session_id(), clients[0]->session_password()).ok()) {
    faults++;
  }
  faults += KillAndReviveMembers(absl::Now() + absl::Seconds(3));
  run.Stop();
  // A member's reads may lag the leader (one just revived above surely does): sync first, so
  // that the final value read is the last one committed, not an older one that successes
  // already passed.
  ASSERT_THAT(expirer->Sync(counter_path), IsOk());
  auto got = expirer->Get(counter_path);
  ASSERT_THAT(got.status(), IsOk());
  const int64_t final_value = *DecodeAtomicLong(counter_path, got->data);
  EXPECT_EQ(run.Report("atomic long ensemble run", final_value, faults), 0);
  EXPECT_GT(faults, 0);
  EXPECT_GT(run.tally().succeeded, 0);
}

}  // namespace
}  // namespace zk::recipes
