// zkcpp — the metrics hook of zk::Client: counters and gauges to export to a monitoring system.
//
// Two ways in, use either or both:
//   - pull: Client::Metrics() returns a ClientMetrics snapshot (per-operation counts, errors and
//     a latency histogram; queue depths; live watches; connections and sessions). Cheap: it
//     reads relaxed atomics the loop thread keeps current, and takes no lock the loop holds
//     while it works. Call it from any thread, e.g. from a Prometheus collector.
//   - push: ClientOptions::on_operation sees every completed operation (kind, path, result,
//     latency), e.g. to feed one's own histograms labelled by path prefix.
//
// Example (pull):
//   zk::ClientMetrics m = client->Metrics();
//   const zk::OperationMetrics& gets = m.of(zk::Operation::kGet);
//   export_counter("zk_get_total", gets.count);
//   export_gauge("zk_in_flight", m.in_flight);
//
// For Prometheus, zk/prometheus.h renders a snapshot in its text exposition format.
//
// Latency is measured from the call that submitted the operation to the moment its result is
// known on the loop thread (before the callback is handed to the dispatcher thread).

#ifndef ZK_METRICS_H_
#define ZK_METRICS_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "zk/status.h"

namespace zk {

// The operations of zk::Client, as the metrics count them (a blocking call and its async form
// are the same operation; create_parents / protected creates count each request they send).
enum class Operation : uint8_t {
  kCreate, kDelete, kExists, kGet, kSet, kGetChildren, kGetAcl, kSetAcl, kMulti, kSync, kAddAuth,
  kWhoAmI, kGetEphemerals, kGetAllChildrenNumber, kMultiRead, kAddWatch,
};
inline constexpr size_t kOperationCount = 16;

// "create", "delete", "exists", "get", "set", "get_children", "get_acl", "set_acl", "multi",
// "sync", "add_auth", "who_am_i", "get_ephemerals", "get_all_children_number", "multi_read",
// "add_watch": the names errors use too.
std::string_view OperationName(Operation operation);

// Latencies in power-of-two buckets: bucket 0 counts latencies under 1 µs, bucket i (i ≥ 1) those
// in [2^(i-1), 2^i) µs, and the last bucket everything from 2^(kBuckets-2) µs (~4.2 s) up.
// Cumulative sums of `counts` with UpperBound() give a Prometheus-style histogram.
struct LatencyHistogram {
  static constexpr int kBuckets = 24;
  std::array<uint64_t, kBuckets> counts{};

  // Exclusive upper bound of bucket i (i < kBuckets - 1): 2^i µs. The last bucket is unbounded.
  static constexpr std::chrono::microseconds UpperBound(int i) {
    return std::chrono::microseconds(int64_t{1} << i);
  }
  // The bucket a latency falls in.
  static int BucketOf(std::chrono::nanoseconds latency);
};

// Durations of one kind of event (e.g. a recipe's lock waits): how many, their sum, and their
// distribution. Not thread-safe by itself: its owner guards it.
struct DurationMetrics {
  uint64_t count = 0;
  std::chrono::nanoseconds total{0};
  LatencyHistogram histogram;
  // Counts one event that lasted `duration` (negative counts as zero).
  void Record(std::chrono::nanoseconds duration);
};

struct OperationMetrics {
  uint64_t count = 0;   // completed, successfully or not
  uint64_t errors = 0;  // completed with a result other than ZooError::kOk
  std::chrono::nanoseconds total_latency{0};
  std::chrono::nanoseconds max_latency{0};
  LatencyHistogram latency;
};

struct ClientMetrics {
  std::array<OperationMetrics, kOperationCount> operations{};  // indexed by Operation
  const OperationMetrics& of(Operation operation) const {
    return operations[static_cast<size_t>(operation)];
  }

  // Gauges, as of the loop thread's last turn (except `queued`, read now): a callback sees
  // them at least as fresh as the turn that delivered it (dispatcher-thread callbacks).
  int64_t queued = 0;          // submitted, not yet taken by the loop thread
  int64_t in_flight = 0;       // taken by the loop and not yet answered (sent or parked)
  int64_t parked = 0;          // of those, waiting for a connection
  int64_t native_watches = 0;  // server-side watches this client has armed, per (path, kind)
  int64_t watch_handles = 0;   // live Watch handles (and persistent watchers) sharing them

  // Counters.
  uint64_t watch_events = 0;  // watch events handed to handles (kNotWatching included)
  uint64_t connections = 0;   // times the client became connected (first one and reconnects)
  uint64_t sessions = 0;      // sessions established: the first one plus new ones after a loss
};

// One completed operation, as ClientOptions::on_operation sees it.
struct OperationSample {
  Operation operation;
  // As given by the caller ("" for multi, multi_read, add_auth and who_am_i; the prefix for
  // get_ephemerals); valid during the call.
  std::string_view path;
  ZooError result;        // kOk, or the error (see ZooErrorToStatusCode)
  std::chrono::nanoseconds latency;
};

}  // namespace zk

#endif  // ZK_METRICS_H_
