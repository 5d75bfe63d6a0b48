#include <bit>

#include "metrics_recorder.h"
#include "zk/metrics.h"

namespace zk {

std::string_view OperationName(Operation operation) {
  switch (operation) {
    case Operation::kCreate: return "create";
    case Operation::kDelete: return "delete";
    case Operation::kExists: return "exists";
    case Operation::kGet: return "get";
    case Operation::kSet: return "set";
    case Operation::kGetChildren: return "get_children";
    case Operation::kGetAcl: return "get_acl";
    case Operation::kSetAcl: return "set_acl";
    case Operation::kMulti: return "multi";
    case Operation::kSync: return "sync";
    case Operation::kAddAuth: return "add_auth";
    case Operation::kWhoAmI: return "who_am_i";
    case Operation::kGetEphemerals: return "get_ephemerals";
    case Operation::kGetAllChildrenNumber: return "get_all_children_number";
    case Operation::kMultiRead: return "multi_read";
    case Operation::kAddWatch: return "add_watch";
  }
  return "op";
}

int LatencyHistogram::BucketOf(std::chrono::nanoseconds latency) {
  const int64_t micros = latency.count() / 1000;
  if (micros <= 0) return 0;
  // micros in [2^(w-1), 2^w) falls in bucket w, where w is its bit width.
  const int width = std::bit_width(static_cast<uint64_t>(micros));
  return width < kBuckets - 1 ? width : kBuckets - 1;
}

void DurationMetrics::Record(std::chrono::nanoseconds duration) {
  if (duration < std::chrono::nanoseconds::zero()) duration = std::chrono::nanoseconds::zero();
  ++count;
  total += duration;
  ++histogram.counts[LatencyHistogram::BucketOf(duration)];
}

namespace internal {

void MetricsRecorder::RecordOperation(Operation operation, bool error,
                                      std::chrono::nanoseconds latency) {
  PerOperation& op = operations_[static_cast<size_t>(operation)];
  const uint64_t ns = latency.count() > 0 ? static_cast<uint64_t>(latency.count()) : 0;
  Bump(op.count);
  if (error) Bump(op.errors);
  Bump(op.total_ns, ns);
  if (ns > op.max_ns.load(std::memory_order_relaxed)) {
    op.max_ns.store(ns, std::memory_order_relaxed);
  }
  Bump(op.buckets[LatencyHistogram::BucketOf(latency)]);
}

void MetricsRecorder::SetGauges(int64_t in_flight, int64_t parked, int64_t native_watches,
                                int64_t watch_handles) {
  in_flight_.store(in_flight, std::memory_order_relaxed);
  parked_.store(parked, std::memory_order_relaxed);
  native_watches_.store(native_watches, std::memory_order_relaxed);
  watch_handles_.store(watch_handles, std::memory_order_relaxed);
}

ClientMetrics MetricsRecorder::Snapshot(int64_t queued) const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  ClientMetrics m;
  for (size_t i = 0; i < kOperationCount; ++i) {
    const PerOperation& from = operations_[i];
    OperationMetrics& to = m.operations[i];
    to.count = from.count.load(kRelaxed);
    to.errors = from.errors.load(kRelaxed);
    to.total_latency = std::chrono::nanoseconds(from.total_ns.load(kRelaxed));
    to.max_latency = std::chrono::nanoseconds(from.max_ns.load(kRelaxed));
    for (int b = 0; b < LatencyHistogram::kBuckets; ++b) {
      to.latency.counts[b] = from.buckets[b].load(kRelaxed);
    }
  }
  m.queued = queued;
  m.in_flight = in_flight_.load(kRelaxed);
  m.parked = parked_.load(kRelaxed);
  m.native_watches = native_watches_.load(kRelaxed);
  m.watch_handles = watch_handles_.load(kRelaxed);
  m.watch_events = watch_events_.load(kRelaxed);
  m.connections = connections_.load(kRelaxed);
  m.sessions = sessions_.load(kRelaxed);
  return m;
}

}  // namespace internal
}  // namespace zk
