#include "zk/recipes/node_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "cache_core.h"
#include "listener_set.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "zk/path.h"

namespace zk::recipes {

using zk::internal::ClientAccess;
using zk::internal::MutexLock;

// The loop side of a NodeCache (see cache_core.h).
struct NodeCache::State : internal::CacheCore<NodeCache::State, NodeCacheOptions> {
  State(Client& client, std::string path, NodeCacheOptions options)
      : CacheCore(client, std::move(path), options, "node_cache") {}

  // loop
  Watch watch;
  bool refreshing = false;
  bool dirty = false;
  int64_t last_mzxid = 0;  // of the last state delivered

  std::shared_ptr<const NodeData> current ABSL_GUARDED_BY(mu) = std::make_shared<NodeData>();
  internal::ListenerSet<NodeData> listeners;

  // CacheCore's hooks.
  void Load() { Refresh(); }
  void Resync() { Refresh(); }
  void StopWatches() { watch.Cancel(); }

  void Refresh();
  void OnGot(absl::StatusOr<Watched<GetResult>> got);
  void OnExists(absl::StatusOr<Watched<std::optional<Stat>>> exists);
  void EndRefresh();
  void Apply(NodeData now);
  void MarkSynced(bool loaded_now);
  WatchCallback Trigger() {
    std::weak_ptr<State> weak = weak_from_this();
    return [weak](const WatchEvent& event) {
      auto self = weak.lock();
      // kNotWatching: the session ended; the reconnect resync re-arms.
      if (self && !self->stopped && event.type != WatchEventType::kNotWatching) self->Refresh();
    };
  }
};

void NodeCache::State::Refresh() {
  if (stopped) return;
  if (refreshing) {
    dirty = true;
    return;
  }
  refreshing = true;
  ClientAccess::GetAndWatch(client, path, Trigger(),
                            [self = shared_from_this()](absl::StatusOr<Watched<GetResult>> got) {
                              self->OnGot(std::move(got));
                            });
}

void NodeCache::State::OnGot(absl::StatusOr<Watched<GetResult>> got) {
  if (stopped) return;
  if (IsNoNode(got.status())) {
    // Missing: watch for its creation, in the same call that checks again.
    ClientAccess::ExistsAndWatch(
        client, path, Trigger(),
        [self = shared_from_this()](absl::StatusOr<Watched<std::optional<Stat>>> exists) {
          self->OnExists(std::move(exists));
        });
    return;
  }
  if (!got.ok()) {
    // Connection loss, session loss, or closing: the reconnect resync reads again.
    EndRefresh();
    return;
  }
  watch = std::move(got->watch);
  Apply({.exists = true, .data = std::move(got->result.data), .stat = got->result.stat});
  EndRefresh();
}

void NodeCache::State::OnExists(absl::StatusOr<Watched<std::optional<Stat>>> exists) {
  if (stopped) return;
  if (exists.ok()) {
    watch = std::move(exists->watch);
    if (exists->result.has_value()) {
      dirty = true;  // created meanwhile: read it
    } else {
      Apply({});
    }
  }
  EndRefresh();
}

void NodeCache::State::EndRefresh() {
  refreshing = false;
  if (dirty && !stopped) {
    dirty = false;
    Refresh();
  }
}

void NodeCache::State::Apply(NodeData now) {
  std::shared_ptr<const NodeData> before;
  {
    MutexLock lock(&mu);
    before = current;
  }
  bool changed;
  if (now.exists) {
    // Never backwards: a re-created node's mzxid (= its czxid) is above everything before.
    changed = now.stat.mzxid > last_mzxid;
  } else {
    changed = before->exists;
  }
  const bool first = [&] {
    MutexLock lock(&mu);
    return !status.loaded;
  }();
  if (changed) {
    if (now.exists) last_mzxid = now.stat.mzxid;
    auto next = std::make_shared<const NodeData>(now);
    {
      MutexLock lock(&mu);
      PublishLocked(current, next);
    }
    if (!first) listeners.Notify(client, *next);
  }
  MarkSynced(first);
}

void NodeCache::State::MarkSynced(bool loaded_now) {
  MutexLock lock(&mu);
  status.last_sync = absl::Now();
  if (loaded_now) status.loaded = true;
}

absl::StatusOr<std::unique_ptr<NodeCache>> NodeCache::Create(Client& client, std::string_view path,
                                                             NodeCacheOptions options) {
  ZK_RETURN_IF_ERROR(internal::ValidateCacheArgs("node_cache", path, options.min_resync_interval));
  return std::unique_ptr<NodeCache>(new NodeCache(client, std::string(path), options));
}

NodeCache::NodeCache(Client& client, std::string path, NodeCacheOptions options)
    : client_(client), path_(path), state_(std::make_shared<State>(client, path, options)) {}

NodeCache::~NodeCache() { internal::CloseCache(client_, state_); }

absl::Status NodeCache::Start() { return internal::StartCache(client_, state_); }

absl::Status NodeCache::WaitUntilLoaded(std::chrono::milliseconds timeout) {
  return internal::WaitUntilCacheLoaded(client_, state_, timeout);
}

std::shared_ptr<const NodeData> NodeCache::Current() const {
  return state_->ReadSnapshot(&State::current);
}

CacheStatus NodeCache::status() const { return internal::CacheStatusOf(state_); }

CacheMetrics NodeCache::Metrics() const {
  MutexLock lock(&state_->mu);
  return {.entries = state_->current->exists ? size_t{1} : size_t{0}, .status = state_->status};
}

Subscription NodeCache::AddListener(Listener listener) {
  return state_->listeners.Add(std::move(listener));
}

}  // namespace zk::recipes
