#include "zk/recipes/children_cache.h"

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

// The loop side of a ChildrenCache (see cache_core.h).
struct ChildrenCache::State : internal::CacheCore<ChildrenCache::State, ChildrenCacheOptions> {
  State(Client& client, std::string path, ChildrenCacheOptions options)
      : CacheCore(client, std::move(path), options, "children_cache") {}

  struct Entry {
    ChildData child;
    bool have = false;  // `child` holds a read
    Watch watch;
    bool fetching = false;
    bool dirty = false;
  };

  // loop
  Watch dir_watch;
  bool listing = false;
  bool list_dirty = false;
  bool listed_once = false;
  std::map<std::string, Entry> entries;

  std::shared_ptr<const ChildrenSnapshot> snapshot ABSL_GUARDED_BY(mu) =
      std::make_shared<const ChildrenSnapshot>();
  internal::ListenerSet<ChildrenDelta> listeners;

  // CacheCore's hooks.
  void Load() { List(); }
  void Resync();
  void StopWatches() {
    dir_watch.Cancel();
    entries.clear();  // cancels every child watch
  }

  void List();
  void OnListed(absl::StatusOr<Watched<ChildrenResult>> listed);
  void OnDirExists(absl::StatusOr<Watched<std::optional<Stat>>> exists);
  void EndList();
  void ApplyListing(const std::vector<std::string>& names);
  void Fetch(const std::string& name);
  void OnFetched(const std::string& name, absl::StatusOr<Watched<GetResult>> got);
  void Publish(ChildrenDelta delta);
  WatchCallback DirTrigger() {
    return [weak = weak_from_this()](const WatchEvent& event) {
      auto self = weak.lock();
      // kNotWatching: the session ended; the reconnect resync re-arms.
      if (self && !self->stopped && event.type != WatchEventType::kNotWatching) self->List();
    };
  }
  WatchCallback ChildTrigger(const std::string& name) {
    return [weak = weak_from_this(), name](const WatchEvent& event) {
      auto self = weak.lock();
      if (self && !self->stopped && event.type != WatchEventType::kNotWatching &&
          self->entries.count(name) != 0) {
        self->Fetch(name);
      }
    };
  }
};

void ChildrenCache::State::List() {
  if (stopped) return;
  if (listing) {
    list_dirty = true;
    return;
  }
  listing = true;
  ClientAccess::GetChildrenAndWatch(
      client, path, DirTrigger(),
      [self = shared_from_this()](absl::StatusOr<Watched<ChildrenResult>> listed) {
        self->OnListed(std::move(listed));
      });
}

void ChildrenCache::State::OnListed(absl::StatusOr<Watched<ChildrenResult>> listed) {
  if (stopped) return;
  if (IsNoNode(listed.status())) {
    // No directory: no children. Watch for its creation, in the call that checks again.
    ClientAccess::ExistsAndWatch(
        client, path, DirTrigger(),
        [self = shared_from_this()](absl::StatusOr<Watched<std::optional<Stat>>> exists) {
          self->OnDirExists(std::move(exists));
        });
    return;
  }
  if (listed.ok()) {
    dir_watch = std::move(listed->watch);
    ApplyListing(listed->result.children);
  }
  // Else: connection or session loss, or closing: the reconnect resync lists again.
  EndList();
}

void ChildrenCache::State::OnDirExists(absl::StatusOr<Watched<std::optional<Stat>>> exists) {
  if (stopped) return;
  if (exists.ok()) {
    dir_watch = std::move(exists->watch);
    if (exists->result.has_value()) {
      list_dirty = true;  // created meanwhile
    } else {
      ApplyListing({});
    }
  }
  EndList();
}

void ChildrenCache::State::EndList() {
  listing = false;
  if (list_dirty && !stopped) {
    list_dirty = false;
    List();
  }
}

void ChildrenCache::State::ApplyListing(const std::vector<std::string>& names) {
  listed_once = true;
  std::map<std::string, bool> listed;
  for (const std::string& name : names) listed.emplace(name, true);
  ChildrenDelta delta;
  for (auto it = entries.begin(); it != entries.end();) {
    if (listed.count(it->first) == 0) {
      if (it->second.have) delta.removed.push_back(std::move(it->second.child));
      it = entries.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [name, unused] : listed) {
    if (entries.count(name) != 0) continue;
    Entry& entry = entries[name];
    entry.child.name = name;
    entry.child.path = JoinPath(path, name);
    if (!options.cache_data) {
      entry.have = true;
      delta.added.push_back(entry.child);
    } else {
      Fetch(name);
    }
  }
  Publish(std::move(delta));
}

void ChildrenCache::State::Fetch(const std::string& name) {
  auto it = entries.find(name);
  if (stopped || it == entries.end() || !options.cache_data) return;
  Entry& entry = it->second;
  if (entry.fetching) {
    entry.dirty = true;
    return;
  }
  entry.fetching = true;
  ClientAccess::GetAndWatch(
      client, entry.child.path, ChildTrigger(name),
      [self = shared_from_this(), name](absl::StatusOr<Watched<GetResult>> got) {
        self->OnFetched(name, std::move(got));
      });
}

void ChildrenCache::State::OnFetched(const std::string& name,
                                     absl::StatusOr<Watched<GetResult>> got) {
  if (stopped) return;
  auto it = entries.find(name);
  if (it == entries.end()) return;  // removed by a listing meanwhile
  Entry& entry = it->second;
  entry.fetching = false;
  ChildrenDelta delta;
  if (IsNoNode(got.status())) {
    // Deleted (a listing will say so too; the directory's watch covers a re-creation).
    if (entry.have) delta.removed.push_back(std::move(entry.child));
    entries.erase(it);
    return Publish(std::move(delta));
  }
  if (!got.ok()) {
    // Connection or session loss: the reconnect resync reads it again.
    entry.dirty = false;
    return Publish(std::move(delta));  // the load may be complete without it
  }
  entry.watch = std::move(got->watch);
  const Stat& stat = got->result.stat;
  ChildData now = entry.child;
  now.data = std::move(got->result.data);
  now.stat = stat;
  if (!entry.have) {
    delta.added.push_back(now);
    entry.child = std::move(now);
    entry.have = true;
  } else if (stat.czxid > entry.child.stat.czxid) {
    // A new node under the same name.
    delta.removed.push_back(entry.child);
    delta.added.push_back(now);
    entry.child = std::move(now);
  } else if (stat.czxid == entry.child.stat.czxid && stat.mzxid > entry.child.stat.mzxid) {
    delta.updated.emplace_back(entry.child, now);
    entry.child = std::move(now);
  }
  // Else: not newer than what we hold.
  if (entry.dirty) {
    entry.dirty = false;
    Fetch(name);
  }
  Publish(std::move(delta));
}

void ChildrenCache::State::Publish(ChildrenDelta delta) {
  bool all_read = listed_once;
  for (const auto& [name, entry] : entries) all_read = all_read && (entry.have || !entry.fetching);
  const bool changed = !delta.empty();
  std::shared_ptr<const ChildrenSnapshot> next;
  if (changed) {
    auto snapshot = std::make_shared<ChildrenSnapshot>();
    for (const auto& [name, entry] : entries) {
      if (entry.have) snapshot->emplace(name, entry.child);
    }
    next = std::move(snapshot);
  }
  {
    MutexLock lock(&mu);
    if (next) PublishLocked(snapshot, std::move(next));
    status.last_sync = absl::Now();
    if (all_read) status.loaded = true;
  }
  if (changed) listeners.Notify(client, delta);
}

void ChildrenCache::State::Resync() {
  List();
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries) names.push_back(name);
  for (const std::string& name : names) Fetch(name);
}

absl::StatusOr<std::unique_ptr<ChildrenCache>> ChildrenCache::Create(
    Client& client, std::string_view path, ChildrenCacheOptions options) {
  ZK_RETURN_IF_ERROR(
      internal::ValidateCacheArgs("children_cache", path, options.min_resync_interval));
  return std::unique_ptr<ChildrenCache>(new ChildrenCache(client, std::string(path), options));
}

ChildrenCache::ChildrenCache(Client& client, std::string path, ChildrenCacheOptions options)
    : client_(client), path_(path), state_(std::make_shared<State>(client, path, options)) {}

ChildrenCache::~ChildrenCache() { internal::CloseCache(client_, state_); }

absl::Status ChildrenCache::Start() { return internal::StartCache(client_, state_); }

absl::Status ChildrenCache::WaitUntilLoaded(std::chrono::milliseconds timeout) {
  return internal::WaitUntilCacheLoaded(client_, state_, timeout);
}

std::shared_ptr<const ChildrenSnapshot> ChildrenCache::Snapshot() const {
  return state_->ReadSnapshot(&State::snapshot);
}

uint64_t ChildrenCache::generation() const {
  return state_->generation.load(std::memory_order_acquire);
}

CacheStatus ChildrenCache::status() const { return internal::CacheStatusOf(state_); }

CacheMetrics ChildrenCache::Metrics() const {
  MutexLock lock(&state_->mu);
  return {.entries = state_->snapshot->size(), .status = state_->status};
}

Subscription ChildrenCache::AddListener(Listener listener) {
  return state_->listeners.Add(std::move(listener));
}

}  // namespace zk::recipes
