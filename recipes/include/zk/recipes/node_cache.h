// zkcpp recipes — a locally cached copy of one znode, kept current by watches.
//
// Overview. NodeCache reads a node and leaves a watch in the same call (GetAndWatch, or
// ExistsAndWatch while the node is missing), and reads again at every event, so Current() is
// answered from memory with no round trip. What it serves never goes backwards: a read whose
// mzxid is not above the last one seen is ignored, so a listener sees the node's versions in
// strictly increasing mzxid order (several quick changes may be coalesced into the last one).
// Deleting and re-creating the node are both seen. After every reconnect (and after a session
// loss, whose watches are gone) it reads again, at most once per `min_resync_interval`; while
// disconnected it serves the last known value and status() says how stale that may be.
// It is the building block under ConfigWatcher (Curator's NodeCache).
//
//   ZK_ASSIGN_OR_RETURN(auto cache, zk::recipes::NodeCache::Create(*client, "/app/flags"));
//   ZK_RETURN_IF_ERROR(cache->Start());
//   ZK_RETURN_IF_ERROR(cache->WaitUntilLoaded(std::chrono::seconds(5)));
//   std::shared_ptr<const zk::recipes::NodeData> now = cache->Current();
//   if (now->exists) Use(now->data);
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client; the destructor stops the
// cache, and no listener runs after it returns.

#ifndef ZK_RECIPES_NODE_CACHE_H_
#define ZK_RECIPES_NODE_CACHE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "zk/client.h"

namespace zk::recipes {

// One state of a cached node.
struct NodeData {
  bool exists = false;  // false before the first load and while the node is missing
  std::string data;
  Stat stat;            // zero while missing
  int32_t version() const { return stat.version; }
  int64_t mzxid() const { return stat.mzxid; }
};

// How current a cache is.
struct CacheStatus {
  bool loaded = false;     // the initial load completed
  bool connected = false;  // the client is connected (watches are live)
  // When the cache last heard from the server (a read it applied, or a resync). While
  // connected and loaded the cache is kept current by watches; while disconnected, it serves
  // what it knew at `last_sync`.
  absl::Time last_sync = absl::InfinitePast();
  // Returns zero while connected, else the time since last_sync.
  absl::Duration Staleness(absl::Time now = absl::Now()) const {
    return connected ? absl::ZeroDuration() : now - last_sync;
  }
};

// A cache's size and freshness (NodeCache, ChildrenCache and ServiceCache::Metrics()).
struct CacheMetrics {
  // What it serves now: children (ChildrenCache), well-formed instances (ServiceCache), or 1
  // while the node exists and 0 while it is missing (NodeCache).
  size_t entries = 0;
  // Loaded, connected, last sync; status.Staleness() is how stale the entries may be.
  CacheStatus status;
};

struct NodeCacheOptions {
  // Lower bound on the time between two full re-reads after reconnects.
  std::chrono::milliseconds min_resync_interval{250};
};

// A cached znode. Thread-safe.
class NodeCache {
 public:
  using Listener = std::function<void(const NodeData& now)>;

  // Creates the cache; no I/O. Errors: InvalidArgument (bad path, negative interval).
  static absl::StatusOr<std::unique_ptr<NodeCache>> Create(Client& client, std::string_view path,
                                                           NodeCacheOptions options = {});
  ~NodeCache();
  NodeCache(const NodeCache&) = delete;
  NodeCache& operator=(const NodeCache&) = delete;

  // Starts loading and watching (returns at once).
  // Errors: FailedPrecondition if already started; Cancelled if the client is closed.
  absl::Status Start();
  // Waits until the initial load completed, at most `timeout`. A read that fails for good
  // (e.g. no READ permission) is tried again only after the next reconnect: the load then stays
  // incomplete and this returns DeadlineExceeded.
  // Errors: DeadlineExceeded; FailedPrecondition (not started, or on the loop thread).
  absl::Status WaitUntilLoaded(std::chrono::milliseconds timeout);

  // Returns the current snapshot (never null). No round trip, and no mutex or write to memory
  // shared with other threads while the node did not change since this thread's last call: it
  // scales with reading threads. Successive calls on one thread never go back to an older
  // snapshot. Threading: any thread. Lifetime: the snapshot is immutable and lives as long as
  // the returned pointer (or a copy); besides, each thread keeps the last snapshot it read
  // alive until it reads a newer one, reads another cache that takes its per-thread slot, or
  // exits.
  std::shared_ptr<const NodeData> Current() const;
  CacheStatus status() const;
  // Returns the size and status, read together (zk/recipes/prometheus.h renders them). Cheap:
  // no round trip. Threading: any thread.
  CacheMetrics Metrics() const;

  // Calls `listener` on the client's callback executor with every new state (after the initial
  // load: every change; in strictly increasing mzxid order while the node exists).
  Subscription AddListener(Listener listener);

  const std::string& path() const { return path_; }

 private:
  struct State;
  NodeCache(Client& client, std::string path, NodeCacheOptions options);

  Client& client_;
  const std::string path_;
  std::shared_ptr<State> state_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_NODE_CACHE_H_
