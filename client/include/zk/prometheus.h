// zkcpp — metrics in the Prometheus text exposition format (version 0.0.4), for a scrape
// endpoint of your own.
//
// Overview. PrometheusText collects samples grouped in families (one metric name, one type,
// one help text) and renders them with Text(): each family's HELP and TYPE lines once, then all
// of its samples, whatever the order they were added in. So several clients (or recipes) can be
// written into one exposition, told apart by constant labels such as client="orders".
// AppendMetrics() writes a ClientMetrics snapshot; zk/recipes/prometheus.h does the same for
// the recipes' snapshots. The Add* calls are the building blocks for families of one's own.
//
//   zk::PrometheusText text;
//   ZK_RETURN_IF_ERROR(zk::AppendMetrics(text, orders->Metrics(), {{"client", "orders"}}));
//   ZK_RETURN_IF_ERROR(zk::AppendMetrics(text, billing->Metrics(), {{"client", "billing"}}));
//   Respond("text/plain; version=0.0.4", text.Text());
//
// Names follow Prometheus conventions: prefix zkcpp_, base units (seconds), counters end in
// _total. The client's families:
//   zkcpp_client_operations_total{operation}          counter: completed, successfully or not
//   zkcpp_client_operation_errors_total{operation}    counter: completed with an error
//   zkcpp_client_operation_duration_seconds{operation} histogram: latency (LatencyHistogram's
//                                                      power-of-two buckets, 1 µs to ~4.2 s)
//   zkcpp_client_{queued,in_flight,parked}_operations gauges: ClientMetrics' queue depths
//   zkcpp_client_native_watches, zkcpp_client_watch_handles   gauges
//   zkcpp_client_{watch_events,connections,sessions}_total    counters
//
// Thread-safety: PrometheusText is thread-compatible (one thread at a time, as a std::string).

#ifndef ZK_PROMETHEUS_H_
#define ZK_PROMETHEUS_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "zk/metrics.h"

namespace zk {

// A label: the name must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"; the value is
// any UTF-8 text (escaped when rendered).
struct PrometheusLabel {
  std::string name;
  std::string value;
};
using PrometheusLabels = std::vector<PrometheusLabel>;

// An exposition being built. Thread-compatible.
class PrometheusText {
 public:
  // Adds one sample of the counter family `name` (which should end in _total).
  // Errors (nothing is added): InvalidArgument for a bad metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
  // or label name, a label named twice, or `name` already used by a family of another type or
  // help text; AlreadyExists if this family already has a sample with these labels.
  absl::Status AddCounter(std::string_view name, std::string_view help,
                          const PrometheusLabels& labels, double value);
  // Adds one sample of the gauge family `name`. Errors: as AddCounter.
  absl::Status AddGauge(std::string_view name, std::string_view help,
                        const PrometheusLabels& labels, double value);
  // Adds one histogram of the family `name` (should end in _seconds): cumulative
  // name_bucket{le="..."} lines at each finite LatencyHistogram::UpperBound, in seconds, then
  // le="+Inf", name_sum (`sum`, in seconds) and name_count; +Inf and name_count both count
  // every sample in `histogram`. A bucket's bound is exclusive in LatencyHistogram and inclusive (≤) in
  // Prometheus: they differ only for a latency of exactly 2^i µs.
  // Errors: as AddCounter; also InvalidArgument for a label named "le".
  absl::Status AddHistogram(std::string_view name, std::string_view help,
                            const PrometheusLabels& labels, const LatencyHistogram& histogram,
                            std::chrono::nanoseconds sum);

  // Runs `write` on a copy of this exposition and keeps the copy only if `write` returns OK: a
  // group of samples (say, one client's) goes in whole or not at all. Returns what `write`
  // returned. Threading: `write` runs on the calling thread, before this returns.
  absl::Status AddAllOrNothing(absl::FunctionRef<absl::Status(PrometheusText&)> write);

  // Returns the exposition: every family in the order it was first added, its HELP and TYPE
  // lines and then its samples. Empty if nothing was added.
  std::string Text() const;

 private:
  struct Family {
    std::string name;
    std::string help;
    std::string type;
    std::string samples;           // rendered lines
    std::set<std::string> series;  // rendered label sets, to refuse a duplicate series
  };
  // AddCounter or AddGauge, by `type`.
  absl::Status AddScalar(std::string_view name, std::string_view help, std::string_view type,
                         const PrometheusLabels& labels, double value);
  // Checks a sample's names and finds (or creates) its family; sets `series` to the rendered
  // labels. Errors: as AddCounter (then nothing changes).
  absl::Status Prepare(std::string_view name, std::string_view help, std::string_view type,
                       const PrometheusLabels& labels, Family** family, std::string* series);

  std::vector<Family> families_;
  std::map<std::string, size_t, std::less<>> index_;  // family name → families_ index
};

// Writes a client's snapshot (families above) into `out`, each sample carrying `labels`.
// Errors: InvalidArgument (a bad label name, or "operation" or "le" among `labels`),
// AlreadyExists (a snapshot with the same labels already written); then nothing is written
// (AddAllOrNothing).
absl::Status AppendMetrics(PrometheusText& out, const ClientMetrics& metrics,
                           const PrometheusLabels& labels = {});

}  // namespace zk

#endif  // ZK_PROMETHEUS_H_
