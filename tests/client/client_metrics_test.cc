// zkcpp client tests: the metrics hook (Client::Metrics() and ClientOptions::on_operation), on
// every backend. Counts are checked exactly; latencies only for consistency (never timing).

#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/wait_for.h"
#include "zk/client.h"
#include "zk/internal/sync.h"
#include "zk/metrics.h"
#include "zk/prometheus.h"

namespace zk::testing {
namespace {

class ClientMetricsTest : public ClientTest {};

uint64_t HistogramTotal(const OperationMetrics& op) {
  return std::accumulate(op.latency.counts.begin(), op.latency.counts.end(), uint64_t{0});
}

TEST(LatencyHistogramTest, BucketsArePowersOfTwoMicroseconds) {
  using std::chrono::microseconds;
  using std::chrono::nanoseconds;
  EXPECT_EQ(LatencyHistogram::BucketOf(nanoseconds(0)), 0);
  EXPECT_EQ(LatencyHistogram::BucketOf(nanoseconds(999)), 0);
  EXPECT_EQ(LatencyHistogram::BucketOf(microseconds(1)), 1);
  EXPECT_EQ(LatencyHistogram::BucketOf(microseconds(2)), 2);
  EXPECT_EQ(LatencyHistogram::BucketOf(microseconds(3)), 2);
  EXPECT_EQ(LatencyHistogram::BucketOf(microseconds(1024)), 11);
  EXPECT_EQ(LatencyHistogram::BucketOf(std::chrono::hours(1)), LatencyHistogram::kBuckets - 1);
  // A latency is below the upper bound of its bucket.
  for (int64_t us : {1, 5, 100, 70000}) {
    const int b = LatencyHistogram::BucketOf(microseconds(us));
    EXPECT_LT(microseconds(us), LatencyHistogram::UpperBound(b)) << us;
    EXPECT_GE(microseconds(us), LatencyHistogram::UpperBound(b - 1)) << us;
  }
}

TEST_P(ClientMetricsTest, CountsEachOperationAndItsErrors) {
  std::unique_ptr<Client> fresh = NewClient();
  ASSERT_NE(fresh, nullptr);
  const std::string path = P("counted");
  ASSERT_THAT(fresh->Create(path, "v"), IsOk());
  for (int i = 0; i < 5; ++i) ASSERT_THAT(fresh->Get(path), IsOk());
  for (int i = 0; i < 3; ++i) ASSERT_THAT(fresh->Get(P("missing")), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(fresh->Set(path, "w"), IsOk());

  const ClientMetrics m = fresh->Metrics();
  const OperationMetrics& gets = m.of(Operation::kGet);
  EXPECT_EQ(gets.count, 8u);
  EXPECT_EQ(gets.errors, 3u);
  EXPECT_EQ(HistogramTotal(gets), gets.count);
  EXPECT_GT(gets.total_latency.count(), 0);
  EXPECT_LE(gets.max_latency, gets.total_latency);
  EXPECT_EQ(m.of(Operation::kSet).count, 1u);
  EXPECT_EQ(m.of(Operation::kSet).errors, 0u);
  EXPECT_GE(m.of(Operation::kCreate).count, 1u);  // the fixture's root may be created too
  EXPECT_EQ(m.of(Operation::kMulti).count, 0u);
  EXPECT_EQ(m.connections, 1u);
  EXPECT_EQ(m.sessions, 1u);
}

TEST_P(ClientMetricsTest, OnOperationSeesEveryCompletionWithItsPathAndResult) {
  struct Seen {
    Operation operation;
    std::string path;
    ZooError result;
  };
  zk::internal::Mutex mu;
  std::vector<Seen> seen;
  ClientOptions options = Options();
  options.on_operation = [&](const OperationSample& sample) {
    zk::internal::MutexLock lock(&mu);
    seen.push_back({sample.operation, std::string(sample.path), sample.result});
  };
  std::unique_ptr<Client> observed = NewClient(options);
  ASSERT_NE(observed, nullptr);
  const std::string path = P("observed");
  ASSERT_THAT(observed->Create(path, ""), IsOk());
  ASSERT_THAT(observed->Delete(P("absent")), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(observed->Exists(path), IsOk());

  zk::internal::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].operation, Operation::kCreate);
  EXPECT_EQ(seen[0].path, path);
  EXPECT_EQ(seen[0].result, ZooError::kOk);
  EXPECT_EQ(seen[1].operation, Operation::kDelete);
  EXPECT_EQ(seen[1].path, P("absent"));
  EXPECT_EQ(seen[1].result, ZooError::kNoNode);
  EXPECT_EQ(seen[2].operation, Operation::kExists);
  EXPECT_EQ(OperationName(seen[2].operation), "exists");
}

TEST_P(ClientMetricsTest, WatchGaugesFollowHandlesAndEvents) {
  std::unique_ptr<Client> fresh = NewClient();
  ASSERT_NE(fresh, nullptr);
  const std::string path = P("watched");
  ASSERT_THAT(fresh->Create(path, "v"), IsOk());
  zk::internal::Notification fired_a, fired_b;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> a,
                          fresh->GetAndWatch(path, [&](const WatchEvent&) { fired_a.Notify(); }));
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> b,
                          fresh->GetAndWatch(path, [&](const WatchEvent&) { fired_b.Notify(); }));
  // Both handles share one server-side watch. Gauges are published once per loop turn.
  EXPECT_TRUE(WaitFor(
      [&] {
        const ClientMetrics m = fresh->Metrics();
        return m.native_watches == 1 && m.watch_handles == 2;
      },
      absl::Seconds(10)));
  ASSERT_THAT(client().Set(path, "w"), IsOk());
  ASSERT_TRUE(fired_a.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(fired_b.WaitForNotificationWithTimeout(absl::Seconds(10)));
  const ClientMetrics after = fresh->Metrics();
  EXPECT_EQ(after.watch_events, 2u);
  EXPECT_EQ(after.native_watches, 0);
  EXPECT_EQ(after.watch_handles, 0);
  EXPECT_EQ(after.in_flight, 0);
  EXPECT_EQ(after.parked, 0);
}

TEST_P(ClientMetricsTest, PrometheusTextCountsWhatTheClientDid) {
  std::unique_ptr<Client> fresh = NewClient();
  ASSERT_NE(fresh, nullptr);
  const std::string path = P("scraped");
  ASSERT_THAT(fresh->Create(path, "v"), IsOk());
  for (int i = 0; i < 4; ++i) ASSERT_THAT(fresh->Get(path), IsOk());
  ASSERT_THAT(fresh->Get(P("missing")), StatusIs(absl::StatusCode::kNotFound));

  PrometheusText text;
  ASSERT_THAT(AppendMetrics(text, fresh->Metrics(), {{"client", "fresh"}}), IsOk());
  const std::string out = text.Text();
  EXPECT_THAT(out, ::testing::HasSubstr(
                       "zkcpp_client_operations_total{client=\"fresh\",operation=\"get\"} 5\n"));
  EXPECT_THAT(out, ::testing::HasSubstr("zkcpp_client_operation_errors_total{client=\"fresh\","
                                        "operation=\"get\"} 1\n"));
  EXPECT_THAT(out, ::testing::HasSubstr("zkcpp_client_operation_duration_seconds_bucket{client="
                                        "\"fresh\",operation=\"get\",le=\"+Inf\"} 5\n"));
  EXPECT_THAT(out, ::testing::HasSubstr("zkcpp_client_sessions_total{client=\"fresh\"} 1\n"));
}

ZK_INSTANTIATE_BACKEND_TEST(ClientMetricsTest);

}  // namespace
}  // namespace zk::testing
