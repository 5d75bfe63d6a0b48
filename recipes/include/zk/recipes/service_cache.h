// zkcpp recipes — a locally cached address list of one service (the reading half of service
// discovery).
//
// Overview. ServiceCache watches "<base>/<name>" (a child watch on the directory and a data
// watch per instance, through ChildrenCache) and serves Instances() — an immutable snapshot —
// from memory with no round trip. Listeners receive added / removed / updated instances (told
// apart by czxid / mzxid). After a reconnect it re-reads everything (rate limited); while
// disconnected it serves the last known list and status() tells how stale it may be. An
// instance whose JSON is malformed (written by someone else) is skipped and reported once
// through `on_warning`, never a crash. Pair it with ServiceProvider to pick an instance.
//
//   ZK_ASSIGN_OR_RETURN(auto cache,
//                       zk::recipes::ServiceCache::Create(*client, "/services", "billing"));
//   ZK_RETURN_IF_ERROR(cache->Start());
//   ZK_RETURN_IF_ERROR(cache->WaitUntilLoaded(std::chrono::seconds(5)));
//   for (const zk::recipes::ServiceInstance& i : *cache->Instances()) Connect(i.address, i.port);
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client; no listener runs after
// the destructor returns.

#ifndef ZK_RECIPES_SERVICE_CACHE_H_
#define ZK_RECIPES_SERVICE_CACHE_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "zk/client.h"
#include "zk/recipes/children_cache.h"
#include "zk/recipes/service_instance.h"

namespace zk::recipes {

// What changed in one step. `updated` holds (before, after) pairs.
struct ServiceDelta {
  std::vector<ServiceInstance> added;
  std::vector<ServiceInstance> removed;
  std::vector<std::pair<ServiceInstance, ServiceInstance>> updated;
  bool empty() const { return added.empty() && removed.empty() && updated.empty(); }
};

using ServiceInstances = std::vector<ServiceInstance>;  // sorted by id

struct ServiceCacheOptions {
  ChildrenCacheOptions cache;
  // Receives warnings (e.g. a skipped malformed instance), on the thread that noticed.
  // Default: stderr.
  std::function<void(std::string_view message)> on_warning;
};

// The cached instances of one service. Thread-safe.
class ServiceCache {
 public:
  using Listener = std::function<void(const ServiceDelta& delta)>;

  // Creates the cache of service `name` under `base_path`; no I/O.
  // Errors: InvalidArgument (bad base path or service name).
  static absl::StatusOr<std::unique_ptr<ServiceCache>> Create(Client& client,
                                                              std::string_view base_path,
                                                              std::string_view name,
                                                              ServiceCacheOptions options = {});
  ~ServiceCache();

  // Starts loading and watching (returns at once). Errors: as ChildrenCache::Start.
  absl::Status Start();
  // Waits until the initial load completed. Errors: as ChildrenCache::WaitUntilLoaded.
  absl::Status WaitUntilLoaded(std::chrono::milliseconds timeout);

  // Returns the current instances (never null), without a round trip. Malformed instances are
  // left out. No mutex or write to memory shared with other threads while the instances did
  // not change since this thread's last call (the first call after a change parses them,
  // once per change for all threads): it scales with reading threads. Successive calls on one
  // thread never go back to an older list. Threading: any thread. Lifetime: the list is
  // immutable and lives as long as the returned pointer (or a copy); besides, each thread
  // keeps the last list it read alive until it reads a newer one, reads another cache that
  // takes its per-thread slot, or exits.
  std::shared_ptr<const ServiceInstances> Instances() const;
  // Loaded? connected? how stale?
  CacheStatus status() const;
  // Returns the number of instances Instances() serves and the status (zk/recipes/prometheus.h
  // renders them). No round trip; parses the instances if they changed since the last
  // Instances() call (as Instances() does). Threading: any thread.
  CacheMetrics Metrics() const;
  // Calls `listener` on the client's callback executor with every change, in order (the
  // initial load as additions).
  Subscription AddListener(Listener listener);

  const std::string& name() const;

 private:
  struct State;  // the children cache, the converted snapshot and the warnings already given
  explicit ServiceCache(std::unique_ptr<State> state);
  const std::unique_ptr<State> state_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_SERVICE_CACHE_H_
