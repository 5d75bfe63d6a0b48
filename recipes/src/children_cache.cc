#include "zk/recipes/children_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "listener_set.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "zk/path.h"

namespace zk::recipes {

using zk::internal::ClientAccess;
using zk::internal::MutexLock;

namespace {
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
bool Live(SessionState state) {
  return state == SessionState::kConnected || state == SessionState::kReconnected ||
         state == SessionState::kReadOnly;
}
}  // namespace

// Shared by the cache object and its loop-thread continuations (which never touch the cache
// object: it may be gone). Fields marked "loop" are used on the loop thread only.
struct ChildrenCache::State : std::enable_shared_from_this<ChildrenCache::State> {
  State(Client& client, std::string path, ChildrenCacheOptions options)
      : client(client), path(std::move(path)), options(options) {}
  Client& client;
  const std::string path;
  const ChildrenCacheOptions options;

  struct Entry {
    ChildData child;
    bool have = false;  // `child` holds a read
    Watch watch;
    bool fetching = false;
    bool dirty = false;
  };

  // loop
  bool stopped = false;
  uint64_t session_listener = 0;
  Watch dir_watch;
  bool listing = false;
  bool list_dirty = false;
  bool listed_once = false;
  std::map<std::string, Entry> entries;
  bool resync_scheduled = false;
  absl::Time last_resync = absl::InfinitePast();

  mutable zk::internal::Mutex mu;
  bool started ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;
  std::shared_ptr<const ChildrenSnapshot> snapshot ABSL_GUARDED_BY(mu) =
      std::make_shared<const ChildrenSnapshot>();
  CacheStatus status ABSL_GUARDED_BY(mu);
  internal::ListenerSet<ChildrenDelta> listeners;

  void Begin();
  void Stop();
  void List();
  void OnListed(absl::StatusOr<Watched<ChildrenResult>> listed);
  void OnDirExists(absl::StatusOr<Watched<std::optional<Stat>>> exists);
  void EndList();
  void ApplyListing(const std::vector<std::string>& names);
  void Fetch(const std::string& name);
  void OnFetched(const std::string& name, absl::StatusOr<Watched<GetResult>> got);
  void Publish(ChildrenDelta delta);
  void RequestResync();
  void OnSession(const SessionEvent& event);
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

void ChildrenCache::State::Begin() {
  {
    MutexLock lock(&mu);
    if (closed) return;
    status.connected = Live(client.state());
  }
  session_listener = ClientAccess::AddSessionListener(
      client, [weak = weak_from_this()](const SessionEvent& e) {
        if (auto self = weak.lock()) self->OnSession(e);
      });
  List();
}

void ChildrenCache::State::Stop() {
  if (stopped) return;
  stopped = true;
  if (session_listener != 0) ClientAccess::RemoveSessionListener(client, session_listener);
  dir_watch.Cancel();
  entries.clear();  // cancels every child watch
}

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
    if (next) snapshot = std::move(next);
    status.last_sync = absl::Now();
    if (all_read) status.loaded = true;
  }
  if (changed) listeners.Notify(client, delta);
}

void ChildrenCache::State::RequestResync() {
  if (stopped || resync_scheduled) return;
  const absl::Time now = absl::Now();
  const absl::Time earliest = last_resync + absl::FromChrono(options.min_resync_interval);
  auto run = [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->stopped) return;
    self->resync_scheduled = false;
    self->last_resync = absl::Now();
    self->List();
    std::vector<std::string> names;
    for (const auto& [name, entry] : self->entries) names.push_back(name);
    for (const std::string& name : names) self->Fetch(name);
  };
  if (earliest <= now) return run();
  resync_scheduled = true;
  ClientAccess::RunAfter(client, absl::ToChronoMilliseconds(earliest - now), std::move(run));
}

void ChildrenCache::State::OnSession(const SessionEvent& event) {
  if (stopped) return;
  const bool live = Live(event.state);
  {
    MutexLock lock(&mu);
    status.connected = live;
    if (live) status.last_sync = absl::Now();
  }
  if (live) RequestResync();
}

absl::StatusOr<std::unique_ptr<ChildrenCache>> ChildrenCache::Create(
    Client& client, std::string_view path, ChildrenCacheOptions options) {
  ZK_RETURN_IF_ERROR(ValidatePath("children_cache", path));
  if (options.min_resync_interval < std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError(
        absl::StrCat("children_cache ", Av(path), ": min_resync_interval is negative"));
  }
  return std::unique_ptr<ChildrenCache>(new ChildrenCache(client, std::string(path), options));
}

ChildrenCache::ChildrenCache(Client& client, std::string path, ChildrenCacheOptions options)
    : client_(client), path_(path), state_(std::make_shared<State>(client, path, options)) {}

ChildrenCache::~ChildrenCache() {
  {
    MutexLock lock(&state_->mu);
    state_->closed = true;
  }
  state_->listeners.Close();
  ClientAccess::RunOnLoopAndWait(client_, [this] { state_->Stop(); });
}

absl::Status ChildrenCache::Start() {
  {
    MutexLock lock(&state_->mu);
    if (state_->started) {
      return absl::FailedPreconditionError(
          absl::StrCat("children_cache ", path_, ": already started"));
    }
    state_->started = true;
  }
  if (!ClientAccess::RunOnLoop(client_, [state = state_] { state->Begin(); })) {
    return absl::CancelledError(absl::StrCat("children_cache ", path_, ": client is closed"));
  }
  return absl::OkStatus();
}

absl::Status ChildrenCache::WaitUntilLoaded(std::chrono::milliseconds timeout) {
  if (ClientAccess::OnLoopThread(client_)) {
    return absl::FailedPreconditionError(
        absl::StrCat("children_cache ", path_, ": blocking call from an inline callback"));
  }
  MutexLock lock(&state_->mu);
  if (!state_->started) {
    return absl::FailedPreconditionError(absl::StrCat("children_cache ", path_, ": not started"));
  }
  State* state = state_.get();
  if (!state_->mu.AwaitWithTimeout(
          [state]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return state->status.loaded; },
          absl::FromChrono(timeout))) {
    return absl::DeadlineExceededError(absl::StrCat(
        "children_cache ", path_, ": not loaded within ", timeout.count(), " ms"));
  }
  return absl::OkStatus();
}

std::shared_ptr<const ChildrenSnapshot> ChildrenCache::Snapshot() const {
  MutexLock lock(&state_->mu);
  return state_->snapshot;
}

CacheStatus ChildrenCache::status() const {
  MutexLock lock(&state_->mu);
  return state_->status;
}

Subscription ChildrenCache::AddListener(Listener listener) {
  return state_->listeners.Add(std::move(listener));
}

}  // namespace zk::recipes
