// Tests of the recipes' Metrics() snapshots and their Prometheus rendering
// (zk/recipes/prometheus.h), on every backend: real operations, then exact counts; times are
// only checked to be positive (never against a threshold).

#include <chrono>
#include <memory>
#include <numeric>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipe_test.h"
#include "testing/backend_test.h"
#include "zk/client.h"
#include "zk/internal/sync.h"
#include "zk/path.h"
#include "zk/prometheus.h"
#include "zk/recipes/children_cache.h"
#include "zk/recipes/leader_election.h"
#include "zk/recipes/lock.h"
#include "zk/recipes/node_cache.h"
#include "zk/recipes/prometheus.h"
#include "zk/recipes/service_cache.h"
#include "zk/recipes/service_registry.h"

namespace zk::recipes {
namespace {

using ::testing::HasSubstr;
using zk::testing::IsOk;
using zk::testing::StatusIs;
using zk::testing::WaitFor;

constexpr auto kWait = std::chrono::seconds(10);

uint64_t HistogramTotal(const DurationMetrics& d) {
  return std::accumulate(d.histogram.counts.begin(), d.histogram.counts.end(), uint64_t{0});
}

class RecipeMetricsTest : public testing::RecipeTest {
 protected:
  std::string Path(std::string_view name) const { return JoinPath(Root(), name); }
};

TEST_P(RecipeMetricsTest, LockCountsAcquisitionsFailuresWaitsAndHolds) {
  auto a = NewClient();
  auto b = NewClient();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Lock> lock_a, Lock::Create(*a, Path("lock")));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Lock> lock_b, Lock::Create(*b, Path("lock")));
  EXPECT_EQ(lock_a->Metrics().acquired, 0u);

  ZK_ASSERT_OK_AND_ASSIGN(LockGuard held, lock_a->Acquire(kWait));
  LockMetrics m = lock_a->Metrics();
  EXPECT_EQ(m.acquired, 1u);
  EXPECT_TRUE(m.held);
  EXPECT_EQ(m.hold.count, 0u);  // not released yet

  // b: a busy TryAcquire is not a failure; an Acquire whose deadline passes is.
  ZK_ASSERT_OK_AND_ASSIGN(std::optional<LockGuard> busy, lock_b->TryAcquire());
  EXPECT_FALSE(busy.has_value());
  EXPECT_THAT(lock_b->Acquire(std::chrono::milliseconds(50)).status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(lock_b->Metrics().failed, 1u);
  EXPECT_EQ(lock_b->Metrics().acquired, 0u);

  ASSERT_THAT(held.Release(), IsOk());
  ASSERT_THAT(held.Release(), IsOk());  // a second release records nothing more
  {
    ZK_ASSERT_OK_AND_ASSIGN(LockGuard again, lock_a->Acquire(kWait));
  }  // destroying the guard ends the hold too
  m = lock_a->Metrics();
  EXPECT_EQ(m.acquired, 2u);
  EXPECT_EQ(m.failed, 0u);
  EXPECT_FALSE(m.held);
  EXPECT_EQ(m.wait.count, 2u);
  EXPECT_EQ(HistogramTotal(m.wait), 2u);
  EXPECT_GT(m.wait.total.count(), 0);
  EXPECT_EQ(m.hold.count, 2u);
  EXPECT_EQ(HistogramTotal(m.hold), 2u);
  EXPECT_GT(m.hold.total.count(), 0);

  // Once a's guard is gone, b gets the lock.
  ZK_ASSERT_OK_AND_ASSIGN(LockGuard b_guard, lock_b->Acquire(kWait));
  EXPECT_EQ(lock_b->Metrics().acquired, 1u);
  EXPECT_TRUE(lock_b->Metrics().held);

  PrometheusText text;
  ASSERT_THAT(AppendMetrics(text, m, {{"lock", "a"}}), IsOk());
  ASSERT_THAT(AppendMetrics(text, lock_b->Metrics(), {{"lock", "b"}}), IsOk());
  const std::string out = text.Text();
  EXPECT_THAT(out, HasSubstr("zkcpp_lock_acquired_total{lock=\"a\"} 2\n"));
  EXPECT_THAT(out, HasSubstr("zkcpp_lock_failed_acquisitions_total{lock=\"b\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("zkcpp_lock_held{lock=\"b\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("zkcpp_lock_hold_seconds_count{lock=\"a\"} 2\n"));
  EXPECT_THAT(out, HasSubstr("zkcpp_lock_wait_seconds_bucket{lock=\"a\",le=\"+Inf\"} 2\n"));
  EXPECT_THAT(AppendMetrics(text, m, {{"lock", "a"}}),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_P(RecipeMetricsTest, ElectionCountsWinsAndLosses) {
  auto a_client = NewClient();
  auto b_client = NewClient();
  ASSERT_NE(a_client, nullptr);
  ASSERT_NE(b_client, nullptr);
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LeaderElection> a,
                          LeaderElection::Create(*a_client, Path("leader"), {.participant_id = "a"}));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LeaderElection> b,
                          LeaderElection::Create(*b_client, Path("leader"), {.participant_id = "b"}));
  ASSERT_THAT(a->Start(), IsOk());
  ASSERT_THAT(a->AwaitLeadership(kWait), IsOk());
  ASSERT_THAT(b->Start(), IsOk());
  // b's node is queued behind a's before a resigns (else a could requeue ahead of it).
  ASSERT_TRUE(WaitFor(
      [&] {
        auto participants = a->Participants();
        return participants.ok() && participants->size() == 2;
      },
      absl::Seconds(10)));
  EXPECT_EQ(a->Metrics().elected, 1u);
  EXPECT_EQ(a->Metrics().lost, 0u);
  EXPECT_TRUE(a->Metrics().leading);

  // a resigns: b wins, a has lost once and waits behind b.
  ASSERT_THAT(a->Resign(), IsOk());
  ASSERT_THAT(b->AwaitLeadership(kWait), IsOk());
  LeaderElectionMetrics am = a->Metrics();
  EXPECT_EQ(am.elected, 1u);
  EXPECT_EQ(am.lost, 1u);
  EXPECT_FALSE(am.leading);
  LeaderElectionMetrics bm = b->Metrics();
  EXPECT_EQ(bm.elected, 1u);
  EXPECT_EQ(bm.lost, 0u);
  EXPECT_TRUE(bm.leading);

  // b leaves: a wins again.
  b.reset();
  ASSERT_THAT(a->AwaitLeadership(kWait), IsOk());
  am = a->Metrics();
  EXPECT_EQ(am.elected, 2u);
  EXPECT_EQ(am.lost, 1u);

  PrometheusText text;
  ASSERT_THAT(AppendMetrics(text, am, {{"election", "a"}}), IsOk());
  ASSERT_THAT(AppendMetrics(text, bm, {{"election", "b"}}), IsOk());
  const std::string out = text.Text();
  EXPECT_THAT(out, HasSubstr("zkcpp_leader_elected_total{election=\"a\"} 2\n"
                             "zkcpp_leader_elected_total{election=\"b\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("zkcpp_leader_leading{election=\"a\"} 1\n"));
}

TEST_P(RecipeMetricsTest, SelectorReportsItsElection) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  zk::internal::Notification led;
  ZK_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<LeaderSelector> selector,
      LeaderSelector::Create(*client, Path("selector"),
                             {.election = {.participant_id = "s"}, .auto_requeue = false},
                             [&](const LeadershipContext&) { led.Notify(); }));
  ASSERT_THAT(selector->Start(), IsOk());
  ASSERT_TRUE(led.WaitForNotificationWithTimeout(absl::FromChrono(kWait)));
  EXPECT_EQ(selector->Metrics().elected, 1u);
}

TEST_P(RecipeMetricsTest, CachesReportSizeAndFreshness) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  const std::string dir = Path("dir");
  for (std::string child : {"a", "b", "c"}) {
    ASSERT_THAT(client->Create(JoinPath(dir, child), "x", {.create_parents = true}).status(),
                IsOk());
  }
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ChildrenCache> children,
                          ChildrenCache::Create(*client, dir));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<NodeCache> node,
                          NodeCache::Create(*client, Path("flag")));
  EXPECT_EQ(children->Metrics().entries, 0u);
  EXPECT_FALSE(children->Metrics().status.loaded);
  ASSERT_THAT(children->Start(), IsOk());
  ASSERT_THAT(node->Start(), IsOk());
  ASSERT_THAT(children->WaitUntilLoaded(kWait), IsOk());
  ASSERT_THAT(node->WaitUntilLoaded(kWait), IsOk());
  CacheMetrics m = children->Metrics();
  EXPECT_EQ(m.entries, 3u);
  EXPECT_TRUE(m.status.loaded);
  EXPECT_TRUE(m.status.connected);
  EXPECT_EQ(m.status.Staleness(), absl::ZeroDuration());
  EXPECT_GT(m.status.last_sync, absl::UnixEpoch());
  EXPECT_EQ(node->Metrics().entries, 0u);  // the node is missing

  ASSERT_THAT(client->Create(JoinPath(dir, "d"), "x").status(), IsOk());
  ASSERT_THAT(client->Create(Path("flag"), "on").status(), IsOk());
  EXPECT_TRUE(WaitFor([&] { return children->Metrics().entries == 4; }, absl::Seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return node->Metrics().entries == 1; }, absl::Seconds(10)));

  PrometheusText text;
  ASSERT_THAT(AppendMetrics(text, children->Metrics(), {{"cache", "dir"}}), IsOk());
  ASSERT_THAT(AppendMetrics(text, node->Metrics(), {{"cache", "flag"}}), IsOk());
  const std::string out = text.Text();
  EXPECT_THAT(out, HasSubstr("zkcpp_cache_entries{cache=\"dir\"} 4\n"
                             "zkcpp_cache_entries{cache=\"flag\"} 1\n"));
  EXPECT_THAT(out, HasSubstr("zkcpp_cache_staleness_seconds{cache=\"dir\"} 0\n"));
  EXPECT_THAT(out, HasSubstr("zkcpp_cache_loaded{cache=\"flag\"} 1\n"));
}

TEST_P(RecipeMetricsTest, RegistryCountsRestoresAfterSessionExpiry) {
  auto writer = NewClient(std::chrono::milliseconds(2000));
  auto reader = NewClient();
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  const std::string base = Path("services");
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ServiceRegistry> registry,
                          ServiceRegistry::Create(*writer, base));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ServiceCache> cache,
                          ServiceCache::Create(*reader, base, "api"));
  ASSERT_THAT(cache->Start(), IsOk());
  ASSERT_THAT(cache->WaitUntilLoaded(kWait), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(
      auto one, registry->Register({.name = "api", .id = "a-1", .address = "10.0.0.1", .port = 1}));
  ZK_ASSERT_OK_AND_ASSIGN(
      auto two, registry->Register({.name = "api", .id = "a-2", .address = "10.0.0.2", .port = 2}));
  EXPECT_EQ(registry->Metrics().registrations, 2u);
  EXPECT_EQ(registry->Metrics().restores, 0u);
  ASSERT_TRUE(WaitFor([&] { return cache->Metrics().entries == 2; }, absl::Seconds(10)));

  const int64_t old_session = writer->session_id();
  ASSERT_THAT(backend().ExpireSession(old_session, writer->session_password()), IsOk());
  ASSERT_TRUE(WaitFor([&] { return registry->Metrics().restores >= 2; }, absl::Seconds(20)));
  EXPECT_EQ(registry->Metrics().restores, 2u);
  EXPECT_NE(writer->session_id(), old_session);
  ZK_ASSERT_OK_AND_ASSIGN(GetResult node, reader->Get(one->path()));
  EXPECT_EQ(node.stat.ephemeral_owner, writer->session_id());
  ASSERT_TRUE(WaitFor([&] { return cache->Metrics().entries == 2; }, absl::Seconds(10)));

  ASSERT_THAT(two->Unregister(), IsOk());
  EXPECT_EQ(registry->Metrics().registrations, 1u);
  PrometheusText text;
  ASSERT_THAT(AppendMetrics(text, registry->Metrics(), {{"registry", "r"}}), IsOk());
  EXPECT_THAT(text.Text(), HasSubstr("zkcpp_registry_restores_total{registry=\"r\"} 2\n"));
  EXPECT_THAT(text.Text(), HasSubstr("zkcpp_registry_registrations{registry=\"r\"} 1\n"));
}

ZK_INSTANTIATE_BACKEND_TEST(RecipeMetricsTest);

}  // namespace
}  // namespace zk::recipes
