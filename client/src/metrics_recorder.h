// The loop thread's side of the metrics hook (zk/metrics.h): counters and gauges kept in
// relaxed atomics, so that Client::Metrics() reads them from any thread without a lock.
//
// Writers are the loop thread only. With one writer an increment needs no read-modify-write
// instruction: a relaxed load and store cost as much as plain integer arithmetic.

#ifndef ZKCPP_CLIENT_SRC_METRICS_RECORDER_H_
#define ZKCPP_CLIENT_SRC_METRICS_RECORDER_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "zk/metrics.h"

namespace zk::internal {

class MetricsRecorder {
 public:
  // Loop thread only.
  void RecordOperation(Operation operation, bool error, std::chrono::nanoseconds latency);
  void SetGauges(int64_t in_flight, int64_t parked, int64_t native_watches,
                 int64_t watch_handles);
  void CountWatchEvent() { Bump(watch_events_); }
  void CountConnection() { Bump(connections_); }
  void CountSession() { Bump(sessions_); }

  // Any thread. `queued` is the caller's reading of the submission queue.
  ClientMetrics Snapshot(int64_t queued) const;

 private:
  using Counter = std::atomic<uint64_t>;
  struct PerOperation {
    Counter count{0};
    Counter errors{0};
    Counter total_ns{0};
    Counter max_ns{0};
    std::array<Counter, LatencyHistogram::kBuckets> buckets{};
  };

  static void Bump(Counter& counter, uint64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<PerOperation, kOperationCount> operations_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> parked_{0};
  std::atomic<int64_t> native_watches_{0};
  std::atomic<int64_t> watch_handles_{0};
  Counter watch_events_{0};
  Counter connections_{0};
  Counter sessions_{0};
};

}  // namespace zk::internal

#endif  // ZKCPP_CLIENT_SRC_METRICS_RECORDER_H_
