// zkcpp recipes — the recipes' metrics in the Prometheus text format, through zk::PrometheusText
// (zk/prometheus.h).
//
// Overview. Each recipe object returns a cheap snapshot from Metrics(); AppendMetrics() writes
// one snapshot into a PrometheusText, every sample carrying `labels` (say, lock="orders"), so
// that several recipes, and the clients they run on, make one exposition.
//
//   zk::PrometheusText text;
//   ZK_RETURN_IF_ERROR(zk::AppendMetrics(text, client->Metrics(), {{"client", "orders"}}));
//   ZK_RETURN_IF_ERROR(zk::recipes::AppendMetrics(text, lock->Metrics(), {{"lock", "orders"}}));
//   ZK_RETURN_IF_ERROR(zk::recipes::AppendMetrics(text, cache->Metrics(), {{"cache", "billing"}}));
//   Respond("text/plain; version=0.0.4", text.Text());
//
// The families (histograms in LatencyHistogram's power-of-two buckets, 1 µs to ~4.2 s; longer
// times count in +Inf and in _sum):
//   zkcpp_lock_acquired_total, zkcpp_lock_failed_acquisitions_total   counters (LockMetrics)
//   zkcpp_lock_wait_seconds, zkcpp_lock_hold_seconds                  histograms
//   zkcpp_lock_held                                                   gauge, 1 while held
//   zkcpp_leader_elected_total, zkcpp_leader_lost_total               counters
//   zkcpp_leader_leading                                              gauge, 1 while leading
//   zkcpp_cache_entries, zkcpp_cache_loaded, zkcpp_cache_connected    gauges (CacheMetrics)
//   zkcpp_cache_staleness_seconds     gauge: CacheStatus::Staleness() now (0 while connected,
//                                     +Inf while disconnected before the first sync)
//   zkcpp_cache_last_sync_timestamp_seconds  gauge: Unix time of the last sync, 0 if none yet;
//                                     time() minus it in PromQL is the time since the refresh
//   zkcpp_registry_registrations                                      gauge
//   zkcpp_registry_restores_total                                     counter
//
// Errors of every AppendMetrics here: InvalidArgument (a bad label name in `labels`; "le" for a
// LockMetrics, which has histograms),
// AlreadyExists (a snapshot with the same labels already written); then nothing is written.
// Threading: as PrometheusText (one thread at a time per `out`).

#ifndef ZK_RECIPES_PROMETHEUS_H_
#define ZK_RECIPES_PROMETHEUS_H_

#include "absl/status/status.h"
#include "zk/prometheus.h"
#include "zk/recipes/leader_election.h"
#include "zk/recipes/lock.h"
#include "zk/recipes/node_cache.h"
#include "zk/recipes/service_registry.h"

namespace zk::recipes {

// Writes a Lock's snapshot (Lock::Metrics(); for a ReadWriteLock, each side's, told apart by a
// label such as mode="read").
absl::Status AppendMetrics(PrometheusText& out, const LockMetrics& metrics,
                           const PrometheusLabels& labels = {});
// Writes a LeaderElection's or LeaderSelector's snapshot.
absl::Status AppendMetrics(PrometheusText& out, const LeaderElectionMetrics& metrics,
                           const PrometheusLabels& labels = {});
// Writes a NodeCache's, ChildrenCache's or ServiceCache's snapshot; staleness as of now.
absl::Status AppendMetrics(PrometheusText& out, const CacheMetrics& metrics,
                           const PrometheusLabels& labels = {});
// Writes a ServiceRegistry's snapshot.
absl::Status AppendMetrics(PrometheusText& out, const ServiceRegistryMetrics& metrics,
                           const PrometheusLabels& labels = {});

}  // namespace zk::recipes

#endif  // ZK_RECIPES_PROMETHEUS_H_
