// zkcpp recipes — choosing one instance of a service from a ServiceCache.
//
// Overview. ServiceProvider picks an instance from the cache's current snapshot (no round
// trip) round-robin, at random, or sticky (the same instance while it is listed and up). Its
// down-instance policy follows Curator's: an instance reported failing `failures_to_mark_down`
// times is skipped for `down_duration`; a success clears its count.
//
//   ZK_ASSIGN_OR_RETURN(auto provider, zk::recipes::ServiceProvider::Create(*cache, {}));
//   ZK_ASSIGN_OR_RETURN(zk::recipes::ServiceInstance target, provider->Next());
//   if (!Call(target).ok()) provider->ReportFailure(target);
//
// Thread-safety: thread-safe. Lifetime: must not outlive its ServiceCache.

#ifndef ZK_RECIPES_SERVICE_PROVIDER_H_
#define ZK_RECIPES_SERVICE_PROVIDER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "zk/recipes/service_cache.h"

namespace zk::recipes {

// kRoundRobin: in turn, per calling thread (see Next()); kRandom: uniformly; kSticky: the same
// instance while it is listed and up.
enum class ProviderStrategy { kRoundRobin, kRandom, kSticky };

struct ServiceProviderOptions {
  ProviderStrategy strategy = ProviderStrategy::kRoundRobin;
  // Failures (ReportFailure) after which an instance is skipped; 1 or more.
  int failures_to_mark_down = 3;
  // How long a marked instance is skipped.
  std::chrono::milliseconds down_duration{30000};
  // The clock (for tests). Default: absl::Now.
  std::function<absl::Time()> clock;
};

// Picks instances of one service. Thread-safe.
class ServiceProvider {
 public:
  // Errors: InvalidArgument (failures_to_mark_down < 1, negative down_duration).
  static absl::StatusOr<std::unique_ptr<ServiceProvider>> Create(const ServiceCache& cache,
                                                                 ServiceProviderOptions options);

  // Returns an instance by the strategy, skipping those marked down: a copy of the chosen one
  // (NextShared() picks the same way without copying).
  // kRoundRobin turns per calling thread (each thread's first pick starts one further than the
  // previous thread's), so that picking shares no lock or counter between threads; kRandom and
  // kSticky, and every strategy while an instance is marked down, take the provider's mutex.
  // Errors: NotFound (no instance listed), Unavailable (every instance is marked down).
  // Threading: any thread.
  absl::StatusOr<ServiceInstance> Next();
  // As Next(), without copying the instance: the pointer aliases the cache's immutable
  // snapshot (ServiceCache::Instances()). Lifetime: the instance stays valid and unchanged as
  // long as the returned pointer or a copy of it lives, even after the cache moved on to a
  // newer list or was destroyed (it keeps that whole snapshot alive). Errors: as Next().
  // Threading: any thread; with kRoundRobin and nothing marked down it takes no lock and
  // writes only memory private to the calling thread.
  absl::StatusOr<std::shared_ptr<const ServiceInstance>> NextShared();
  // Counts a failure of `instance` (by id); marks it down at the threshold.
  void ReportFailure(const ServiceInstance& instance);
  // Clears the failure count of `instance`.
  void ReportSuccess(const ServiceInstance& instance);
  // Returns true while `instance` is marked down.
  bool IsDown(const ServiceInstance& instance);

  ~ServiceProvider();
  ServiceProvider(const ServiceProvider&) = delete;
  ServiceProvider& operator=(const ServiceProvider&) = delete;

 private:
  struct State;  // the strategy's cursor and the health table, behind one mutex
  explicit ServiceProvider(std::unique_ptr<State> state);
  const std::unique_ptr<State> state_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_SERVICE_PROVIDER_H_
