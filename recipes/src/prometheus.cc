// AppendMetrics for the recipes' snapshots (zk/recipes/prometheus.h).

#include "zk/recipes/prometheus.h"

#include <initializer_list>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace zk::recipes {

namespace {

// One counter or gauge sample of a snapshot.
struct Scalar {
  const char* name;
  const char* help;
  bool counter;
  double value;
};

// Writes `scalars` with `labels`, all or nothing.
absl::Status AppendScalars(PrometheusText& out, const PrometheusLabels& labels,
                           std::initializer_list<Scalar> scalars) {
  return out.AddAllOrNothing([&](PrometheusText& staged) {
    for (const Scalar& s : scalars) {
      ZK_RETURN_IF_ERROR(s.counter ? staged.AddCounter(s.name, s.help, labels, s.value)
                                   : staged.AddGauge(s.name, s.help, labels, s.value));
    }
    return absl::OkStatus();
  });
}

double Flag(bool value) { return value ? 1 : 0; }

}  // namespace

absl::Status AppendMetrics(PrometheusText& out, const LockMetrics& metrics,
                           const PrometheusLabels& labels) {
  return out.AddAllOrNothing([&](PrometheusText& staged) {
    ZK_RETURN_IF_ERROR(AppendScalars(
        staged, labels,
        {{"zkcpp_lock_acquired_total", "Lock acquisitions that got the lock.", true,
          static_cast<double>(metrics.acquired)},
         {"zkcpp_lock_failed_acquisitions_total",
          "Lock acquisitions that ended without the lock (deadline, cancel, errors).", true,
          static_cast<double>(metrics.failed)},
         {"zkcpp_lock_held", "1 while a guard of this lock holds it.", false,
          Flag(metrics.held)}}));
    ZK_RETURN_IF_ERROR(staged.AddHistogram("zkcpp_lock_wait_seconds",
                                           "Time from an acquisition's call to its grant.",
                                           labels, metrics.wait.histogram, metrics.wait.total));
    return staged.AddHistogram("zkcpp_lock_hold_seconds",
                               "Time from a grant to the release of its guard.", labels,
                               metrics.hold.histogram, metrics.hold.total);
  });
}

absl::Status AppendMetrics(PrometheusText& out, const LeaderElectionMetrics& metrics,
                           const PrometheusLabels& labels) {
  return AppendScalars(
      out, labels,
      {{"zkcpp_leader_elected_total", "Times this participant became leader.", true,
        static_cast<double>(metrics.elected)},
       {"zkcpp_leader_lost_total", "Times this participant stopped leading.", true,
        static_cast<double>(metrics.lost)},
       {"zkcpp_leader_leading", "1 while this participant leads.", false,
        Flag(metrics.leading)}});
}

absl::Status AppendMetrics(PrometheusText& out, const CacheMetrics& metrics,
                           const PrometheusLabels& labels) {
  const CacheStatus& status = metrics.status;
  const double last_sync =
      status.last_sync == absl::InfinitePast() ? 0 : absl::ToDoubleSeconds(
                                                         status.last_sync - absl::UnixEpoch());
  return AppendScalars(
      out, labels,
      {{"zkcpp_cache_entries", "Entries the cache serves now.", false,
        static_cast<double>(metrics.entries)},
       {"zkcpp_cache_loaded", "1 once the cache's initial load completed.", false,
        Flag(status.loaded)},
       {"zkcpp_cache_connected", "1 while the cache's client is connected.", false,
        Flag(status.connected)},
       {"zkcpp_cache_staleness_seconds",
        "How stale the entries may be: 0 while connected, else time since the last sync.", false,
        absl::ToDoubleSeconds(status.Staleness())},
       {"zkcpp_cache_last_sync_timestamp_seconds",
        "Unix time of the cache's last sync with the server (0 before the first).", false,
        last_sync}});
}

absl::Status AppendMetrics(PrometheusText& out, const ServiceRegistryMetrics& metrics,
                           const PrometheusLabels& labels) {
  return AppendScalars(
      out, labels,
      {{"zkcpp_registry_registrations", "Live registrations of this registry.", false,
        static_cast<double>(metrics.registrations)},
       {"zkcpp_registry_restores_total",
        "Times a registered instance's node was created again after it had existed.", true,
        static_cast<double>(metrics.restores)}});
}

}  // namespace zk::recipes
