// CacheCore: what NodeCache and ChildrenCache share — following the session (connected or not,
// for CacheStatus), a resync after every reconnect rate-limited by min_resync_interval, and the
// start / close / wait-until-loaded plumbing of the public objects.
//
// A cache's State derives from CacheCore<State, Options> and provides, on the loop thread:
//   void Load();          // the first read, arming the watches
//   void Resync();        // read everything again (after a reconnect), re-arming watches
//   void StopWatches();   // cancel every watch
// and a `listeners` member (ListenerSet) that CloseCache closes. The snapshot readers see
// (NodeCache's `current`, ChildrenCache's `snapshot`) is replaced under `mu` with PublishLocked
// and read with ReadSnapshot (thread_snapshot.h: no mutex, no shared write while unchanged).

#ifndef ZK_RECIPES_SRC_CACHE_CORE_H_
#define ZK_RECIPES_SRC_CACHE_CORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "thread_snapshot.h"
#include "zk/client.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "zk/path.h"
#include "zk/recipes/node_cache.h"

namespace zk::recipes::internal {

inline bool LiveSession(SessionState state) {
  return state == SessionState::kConnected || state == SessionState::kReconnected ||
         state == SessionState::kReadOnly;
}

// Checks Create()'s arguments. Errors: InvalidArgument naming `kind` and `path`.
inline absl::Status ValidateCacheArgs(std::string_view kind, std::string_view path,
                                      std::chrono::milliseconds min_resync_interval) {
  if (absl::Status s = ValidatePath(kind, path); !s.ok()) return s;
  if (min_resync_interval < std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(kind), " ", std::string(path),
                                                   ": min_resync_interval is negative"));
  }
  return absl::OkStatus();
}

// Shared by a cache object and its loop-thread continuations (which never touch the cache
// object: it may be gone). Fields marked "loop" are used on the loop thread only.
template <typename Derived, typename Options>
struct CacheCore : std::enable_shared_from_this<Derived> {
  CacheCore(Client& client, std::string path, Options options, std::string_view kind)
      : client(client), path(std::move(path)), options(options), kind(kind) {}

  Client& client;
  const std::string path;
  const Options options;
  const std::string_view kind;  // "node_cache", "children_cache": names errors

  // loop
  bool stopped = false;
  uint64_t session_listener = 0;
  bool resync_scheduled = false;
  absl::Time last_resync = absl::InfinitePast();

  mutable zk::internal::Mutex mu;
  bool started ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;
  CacheStatus status ABSL_GUARDED_BY(mu);

  // The published snapshot's identity and version: `generation` grows (under mu) with every
  // replacement of the snapshot, and is read without mu by ReadSnapshot.
  const uint64_t publisher_id = NewPublisherId();
  std::atomic<uint64_t> generation{1};

  // Replaces `*slot` (a snapshot member guarded by mu) with `next`. Call with mu held.
  template <typename T>
  void PublishLocked(std::shared_ptr<const T>& slot, std::shared_ptr<const T> next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    slot = std::move(next);
    generation.fetch_add(1, std::memory_order_release);
  }

  // Returns the snapshot in `member` (never null) as of now or later. Any thread; no mutex
  // unless it changed since this thread's last read (thread_snapshot.h).
  template <typename T>
  std::shared_ptr<const T> ReadSnapshot(std::shared_ptr<const T> Derived::*member) {
    Derived& state = self();
    const uint64_t now = generation.load(std::memory_order_acquire);
    return ReadThreadSnapshot<T>(publisher_id, now, [&state, member](uint64_t* at) {
      zk::internal::MutexLock lock(&state.mu);
      *at = state.generation.load(std::memory_order_relaxed);
      return state.*member;
    });
  }

  // Loop thread: follow the session, then load.
  void Begin() {
    {
      zk::internal::MutexLock lock(&mu);
      if (closed) return;
      status.connected = LiveSession(client.state());
    }
    session_listener = zk::internal::ClientAccess::AddSessionListener(
        client, [weak = this->weak_from_this()](const SessionEvent& e) {
          if (auto self = weak.lock()) self->OnSession(e);
        });
    self().Load();
  }

  // Loop thread. Idempotent.
  void Stop() {
    if (stopped) return;
    stopped = true;
    if (session_listener != 0) {
      zk::internal::ClientAccess::RemoveSessionListener(client, session_listener);
    }
    self().StopWatches();
  }

  // Loop thread: runs Resync() now, or once min_resync_interval after the last one; at most
  // one is scheduled at a time.
  void RequestResync() {
    if (stopped || resync_scheduled) return;
    const absl::Time now = absl::Now();
    const absl::Time earliest = last_resync + absl::FromChrono(options.min_resync_interval);
    auto run = [weak = this->weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->stopped) return;
      self->resync_scheduled = false;
      self->last_resync = absl::Now();
      self->Resync();
    };
    if (earliest <= now) return run();
    resync_scheduled = true;
    zk::internal::ClientAccess::RunAfter(client, absl::ToChronoMilliseconds(earliest - now),
                                         std::move(run));
  }

  void OnSession(const SessionEvent& event) {
    if (stopped) return;
    const bool live = LiveSession(event.state);
    {
      zk::internal::MutexLock lock(&mu);
      status.connected = live;
      if (live) status.last_sync = absl::Now();
    }
    if (live) RequestResync();
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

// The public objects' side (any thread; the blocking calls not on an inline callback).

// Cache::Start(): begins loading on the loop thread, once.
// Errors: FailedPrecondition (already started), Cancelled (client closed).
template <typename State>
absl::Status StartCache(Client& client, const std::shared_ptr<State>& state) {
  {
    zk::internal::MutexLock lock(&state->mu);
    if (state->started) {
      return absl::FailedPreconditionError(
          absl::StrCat(std::string(state->kind), " ", state->path, ": already started"));
    }
    state->started = true;
  }
  if (!zk::internal::ClientAccess::RunOnLoop(client, [state] { state->Begin(); })) {
    return absl::CancelledError(
        absl::StrCat(std::string(state->kind), " ", state->path, ": client is closed"));
  }
  return absl::OkStatus();
}

// Cache::~Cache(): no listener runs after it returns, and the loop side is stopped.
template <typename State>
void CloseCache(Client& client, const std::shared_ptr<State>& state) {
  {
    zk::internal::MutexLock lock(&state->mu);
    state->closed = true;
  }
  state->listeners.Close();
  zk::internal::ClientAccess::RunOnLoopAndWait(client, [&state] { state->Stop(); });
}

// Cache::WaitUntilLoaded(). Errors: FailedPrecondition (not started, or called on an inline
// callback), DeadlineExceeded.
template <typename State>
absl::Status WaitUntilCacheLoaded(Client& client, const std::shared_ptr<State>& state,
                                  std::chrono::milliseconds timeout) {
  const std::string what = absl::StrCat(std::string(state->kind), " ", state->path);
  if (zk::internal::ClientAccess::OnLoopThread(client)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": blocking call from an inline callback"));
  }
  zk::internal::MutexLock lock(&state->mu);
  if (!state->started) return absl::FailedPreconditionError(absl::StrCat(what, ": not started"));
  State* raw = state.get();
  if (!state->mu.AwaitWithTimeout(
          [raw]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return raw->status.loaded; },
          absl::FromChrono(timeout))) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, ": not loaded within ", timeout.count(), " ms"));
  }
  return absl::OkStatus();
}

template <typename State>
CacheStatus CacheStatusOf(const std::shared_ptr<State>& state) {
  zk::internal::MutexLock lock(&state->mu);
  return state->status;
}

}  // namespace zk::recipes::internal

#endif  // ZK_RECIPES_SRC_CACHE_CORE_H_
