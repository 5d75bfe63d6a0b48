#include "zk/recipes/node_cache.h"

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
struct NodeCache::State : std::enable_shared_from_this<NodeCache::State> {
  State(Client& client, std::string path, NodeCacheOptions options)
      : client(client), path(std::move(path)), options(options) {}
  Client& client;
  const std::string path;
  const NodeCacheOptions options;

  // loop
  bool stopped = false;
  uint64_t session_listener = 0;
  Watch watch;
  bool refreshing = false;
  bool dirty = false;
  int64_t last_mzxid = 0;  // of the last state delivered
  bool resync_scheduled = false;
  absl::Time last_resync = absl::InfinitePast();

  mutable zk::internal::Mutex mu;
  bool started ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;
  std::shared_ptr<const NodeData> current ABSL_GUARDED_BY(mu) = std::make_shared<NodeData>();
  CacheStatus status ABSL_GUARDED_BY(mu);
  internal::ListenerSet<NodeData> listeners;

  void Begin();
  void Stop();
  void Refresh();
  void OnGot(absl::StatusOr<Watched<GetResult>> got);
  void OnExists(absl::StatusOr<Watched<std::optional<Stat>>> exists);
  void EndRefresh();
  void Apply(NodeData now);
  void MarkSynced(bool loaded_now);
  void RequestResync();
  void OnSession(const SessionEvent& event);
  WatchCallback Trigger() {
    std::weak_ptr<State> weak = weak_from_this();
    return [weak](const WatchEvent& event) {
      auto self = weak.lock();
      // kNotWatching: the session ended; the reconnect resync re-arms.
      if (self && !self->stopped && event.type != WatchEventType::kNotWatching) self->Refresh();
    };
  }
};

void NodeCache::State::Begin() {
  {
    MutexLock lock(&mu);
    if (closed) return;
    status.connected = Live(client.state());
  }
  std::weak_ptr<State> weak = weak_from_this();
  session_listener = ClientAccess::AddSessionListener(client, [weak](const SessionEvent& e) {
    if (auto self = weak.lock()) self->OnSession(e);
  });
  Refresh();
}

void NodeCache::State::Stop() {
  if (stopped) return;
  stopped = true;
  if (session_listener != 0) ClientAccess::RemoveSessionListener(client, session_listener);
  watch.Cancel();
}

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
      current = next;
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

void NodeCache::State::RequestResync() {
  if (stopped || resync_scheduled) return;
  const absl::Time now = absl::Now();
  const absl::Time earliest = last_resync + absl::FromChrono(options.min_resync_interval);
  auto run = [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->stopped) return;
    self->resync_scheduled = false;
    self->last_resync = absl::Now();
    self->Refresh();
  };
  if (earliest <= now) return run();
  resync_scheduled = true;
  ClientAccess::RunAfter(client, absl::ToChronoMilliseconds(earliest - now), std::move(run));
}

void NodeCache::State::OnSession(const SessionEvent& event) {
  if (stopped) return;
  const bool live = Live(event.state);
  {
    MutexLock lock(&mu);
    status.connected = live;
    if (live) status.last_sync = absl::Now();
  }
  if (live) RequestResync();
}

absl::StatusOr<std::unique_ptr<NodeCache>> NodeCache::Create(Client& client, std::string_view path,
                                                             NodeCacheOptions options) {
  ZK_RETURN_IF_ERROR(ValidatePath("node_cache", path));
  if (options.min_resync_interval < std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError(
        absl::StrCat("node_cache ", Av(path), ": min_resync_interval is negative"));
  }
  return std::unique_ptr<NodeCache>(new NodeCache(client, std::string(path), options));
}

NodeCache::NodeCache(Client& client, std::string path, NodeCacheOptions options)
    : client_(client), path_(path), state_(std::make_shared<State>(client, path, options)) {}

NodeCache::~NodeCache() {
  {
    MutexLock lock(&state_->mu);
    state_->closed = true;
  }
  state_->listeners.Close();
  ClientAccess::RunOnLoopAndWait(client_, [this] { state_->Stop(); });
}

absl::Status NodeCache::Start() {
  {
    MutexLock lock(&state_->mu);
    if (state_->started) {
      return absl::FailedPreconditionError(absl::StrCat("node_cache ", path_, ": already started"));
    }
    state_->started = true;
  }
  if (!ClientAccess::RunOnLoop(client_, [state = state_] { state->Begin(); })) {
    return absl::CancelledError(absl::StrCat("node_cache ", path_, ": client is closed"));
  }
  return absl::OkStatus();
}

absl::Status NodeCache::WaitUntilLoaded(std::chrono::milliseconds timeout) {
  if (ClientAccess::OnLoopThread(client_)) {
    return absl::FailedPreconditionError(
        absl::StrCat("node_cache ", path_, ": blocking call from an inline callback"));
  }
  MutexLock lock(&state_->mu);
  if (!state_->started) {
    return absl::FailedPreconditionError(absl::StrCat("node_cache ", path_, ": not started"));
  }
  State* state = state_.get();
  if (!state_->mu.AwaitWithTimeout(
          [state]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return state->status.loaded; },
          absl::FromChrono(timeout))) {
    return absl::DeadlineExceededError(absl::StrCat("node_cache ", path_, ": not loaded within ",
                                                    timeout.count(), " ms"));
  }
  return absl::OkStatus();
}

std::shared_ptr<const NodeData> NodeCache::Current() const {
  MutexLock lock(&state_->mu);
  return state_->current;
}

CacheStatus NodeCache::status() const {
  MutexLock lock(&state_->mu);
  return state_->status;
}

Subscription NodeCache::AddListener(Listener listener) {
  return state_->listeners.Add(std::move(listener));
}

}  // namespace zk::recipes
