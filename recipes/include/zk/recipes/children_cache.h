// zkcpp recipes — a locally cached copy of one znode's children (and their data), kept current
// by watches.
//
// Overview. ChildrenCache lists a directory with a child watch and reads every child with a
// data watch (each in one call: GetChildrenAndWatch / GetAndWatch), so Snapshot() is answered
// from memory with no round trip. Listeners receive deltas: added, removed, updated children.
// Changes are told apart by zxids, not versions: a different czxid is a new node (a delete and
// re-create: removed + added), a higher mzxid of the same node an update; a read older than
// what is cached is ignored. A missing directory is an empty one (watched for its creation).
// After every reconnect (and a session loss) it re-reads everything, at most once per
// `min_resync_interval`; while disconnected it serves the last known children and status()
// tells how stale they may be. The building block under ServiceCache (Curator's
// PathChildrenCache).
//
//   ZK_ASSIGN_OR_RETURN(auto cache, zk::recipes::ChildrenCache::Create(*client, "/workers"));
//   zk::Subscription sub = cache->AddListener([](const zk::recipes::ChildrenDelta& d) { ... });
//   ZK_RETURN_IF_ERROR(cache->Start());
//   ZK_RETURN_IF_ERROR(cache->WaitUntilLoaded(std::chrono::seconds(5)));
//   for (const auto& [name, child] : *cache->Snapshot()) { ... }
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client; the destructor stops the
// cache, and no listener runs after it returns.

#ifndef ZK_RECIPES_CHILDREN_CACHE_H_
#define ZK_RECIPES_CHILDREN_CACHE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "zk/client.h"
#include "zk/recipes/node_cache.h"

namespace zk::recipes {

// One cached child.
struct ChildData {
  std::string name;  // the child's name
  std::string path;  // its full path
  std::string data;  // empty without cache_data
  Stat stat;         // zero without cache_data
};

// What changed in one step. `updated` holds (before, after) pairs.
struct ChildrenDelta {
  std::vector<ChildData> added;
  std::vector<ChildData> removed;
  std::vector<std::pair<ChildData, ChildData>> updated;
  bool empty() const { return added.empty() && removed.empty() && updated.empty(); }
};

using ChildrenSnapshot = std::map<std::string, ChildData>;  // by name

struct ChildrenCacheOptions {
  // Read and watch every child's data; without it only names are cached (one watch in all).
  bool cache_data = true;
  // Lower bound on the time between two full re-reads after reconnects.
  std::chrono::milliseconds min_resync_interval{250};
};

// A cached directory. Thread-safe.
class ChildrenCache {
 public:
  using Listener = std::function<void(const ChildrenDelta& delta)>;

  // Creates the cache; no I/O. Errors: InvalidArgument (bad path, negative interval).
  static absl::StatusOr<std::unique_ptr<ChildrenCache>> Create(Client& client,
                                                               std::string_view path,
                                                               ChildrenCacheOptions options = {});
  ~ChildrenCache();
  ChildrenCache(const ChildrenCache&) = delete;
  ChildrenCache& operator=(const ChildrenCache&) = delete;

  // Starts loading and watching (returns at once).
  // Errors: FailedPrecondition if already started; Cancelled if the client is closed.
  absl::Status Start();
  // Waits until the initial load (the listing and every child's data) completed. A child whose
  // data cannot be read (e.g. no READ permission) is left out of the snapshot rather than
  // holding the load back; it is read again after the next reconnect or change of the listing.
  // Errors: DeadlineExceeded; FailedPrecondition (not started, or on the loop thread).
  absl::Status WaitUntilLoaded(std::chrono::milliseconds timeout);

  // Returns the current children (never null). No round trip, and no mutex or write to memory
  // shared with other threads while the children did not change since this thread's last call:
  // it scales with reading threads. Successive calls on one thread never go back to an older
  // snapshot. Threading: any thread. Lifetime: the snapshot is immutable and lives as long as
  // the returned pointer (or a copy); besides, each thread keeps the last snapshot it read
  // alive until it reads a newer one, reads another cache that takes its per-thread slot, or
  // exits.
  std::shared_ptr<const ChildrenSnapshot> Snapshot() const;
  // Returns a number that grows every time Snapshot() changes (a version to compare, e.g. to
  // skip work derived from an unchanged snapshot; read it before Snapshot()). One atomic load;
  // no errors. Threading: any thread.
  uint64_t generation() const;
  CacheStatus status() const;
  // Returns the number of cached children and the status, read together
  // (zk/recipes/prometheus.h renders them). Cheap: no round trip. Threading: any thread.
  CacheMetrics Metrics() const;

  // Calls `listener` on the client's callback executor with every change, in order; the
  // initial load is reported as additions too (in one or more deltas).
  Subscription AddListener(Listener listener);

  const std::string& path() const { return path_; }

 private:
  struct State;
  ChildrenCache(Client& client, std::string path, ChildrenCacheOptions options);

  Client& client_;
  const std::string path_;
  std::shared_ptr<State> state_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_CHILDREN_CACHE_H_
