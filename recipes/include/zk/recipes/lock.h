// zkcpp recipes — a distributed lock on ephemeral-sequential nodes.
//
// Overview. Every contender creates "<path>/_c_<uuid>-lock-<seq>" and holds the lock while its
// node is the lowest. A waiter watches only its predecessor, so a release wakes exactly one
// waiter. The layout is Curator's InterProcessMutex's (protected names, "lock-" marker, order by
// the sequence suffix), so Java services using Curator and C++ services using zkcpp exclude each
// other on the same path.
//
//   ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Lock> lock,
//                       zk::recipes::Lock::Create(*client, "/locks/orders"));
//   ZK_ASSIGN_OR_RETURN(zk::recipes::LockGuard guard, lock->Acquire(std::chrono::seconds(5)));
//   // Fencing: this write commits only while we still hold the lock.
//   ZK_RETURN_IF_ERROR(guard.GuardedMulti({zk::op::Set{.path = "/orders/next", .data = id}})
//                          .status());
//   ZK_RETURN_IF_ERROR(guard.Release());
//
// Reentrancy: not reentrant. One Lock object is one participant: while it holds or is acquiring,
// a second Acquire on it fails at once with FailedPrecondition (instead of deadlocking). Threads
// that must exclude each other use one Lock object each.
//
// Session: when the connection is suspended the lock is possibly lost: IsHeld() turns false and
// listeners hear kSuspended; on a reconnect to the same session with the node still present it
// is held again (kReconnected); when the session is lost, so is the lock (kLost) for good. A
// read-only server confirms nothing (it is cut off from the quorum): the lock stays suspended
// there. IsHeld() is also false once the server has not been heard from for two thirds of the
// negotiated session timeout (the client's read timeout), even before the client has noticed
// anything (a long process pause): the server expires a session only after the whole timeout,
// so a holder stops believing before anyone else can be granted the lock.
//
// Thread-safety: Lock is thread-safe; a LockGuard is used by one thread at a time (as a
// std::unique_lock is). Lifetime: both must not outlive the Client.

#ifndef ZK_RECIPES_LOCK_H_
#define ZK_RECIPES_LOCK_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "zk/client.h"
#include "zk/metrics.h"

namespace zk::recipes {

namespace internal {
class Contender;
template <typename Event>
class ListenerSet;
// Which nodes a Lock's participants are and what blocks one of them (see lock.cc).
struct LockKind;
// A Lock's LockMetrics, shared with its guards (which may outlive it; see lock.cc).
struct LockStats;
// A Lock's current acquisition or hold, behind a mutex (see lock.cc).
struct LockCurrent;
}

enum class LockEventType {
  kSuspended,    // connection lost: the lock may be lost; stop touching what it protects
  kReconnected,  // same session, node still there: held again
  kLost,         // session lost or client closed: the lock is gone
};
std::string_view LockEventTypeName(LockEventType type);

struct LockEvent {
  LockEventType type;
  std::string node_path;
};

// What one Lock object has done since it was created (Lock::Metrics()). Times are measured on
// this process's steady clock.
struct LockMetrics {
  // Acquisitions that got the lock (Acquire, AsyncAcquire, TryAcquire).
  uint64_t acquired = 0;
  // Acquisitions that ended without it: deadline passed, cancelled, the client's errors. Not
  // counted: a TryAcquire that found the lock busy, and calls refused before any I/O.
  uint64_t failed = 0;
  // Of the acquisitions that got the lock: from the call to the grant.
  DurationMetrics wait;
  // Of the guards released: from the grant to Release(), or to the destruction or
  // move-assignment of the guard that still held it. A lock lost with its session counts when
  // its guard is released too.
  DurationMetrics hold;
  // Whether a guard from this Lock holds the lock now (Lock::IsHeld()).
  bool held = false;
};

// Proof of holding the lock. Move-only; destroying it releases the lock (in the background).
// Thread-compatible: one thread at a time (Release must not race IsHeld or GuardedMulti).
class LockGuard {
 public:
  LockGuard() = default;
  LockGuard(LockGuard&&) noexcept;
  LockGuard& operator=(LockGuard&&) noexcept;
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  // Releases if still held, without waiting for the server.
  ~LockGuard();

  // Deletes the lock node and waits until it is gone. A delete that ends in a connection loss or
  // a missed operation deadline (the node's fate unknown) is sent again, until the node is gone
  // or the session ends; the wait is bounded by 5 minutes, after which the delete goes on in
  // the background. OK if already released or lost, or the client is closed (the node went with
  // the session). On an inline callback thread it does not wait: the release goes on in the
  // background and it returns OK.
  // Errors: DeadlineExceeded (the 5-minute bound), PermissionDenied and the client's other
  // errors once retries stop (e.g. after 100 connection losses).
  absl::Status Release();

  // True while the lock is held: acquired, not released, the session not suspended or lost, and
  // the server heard from within two thirds of the session timeout (see the overview).
  bool IsHeld() const;
  // A token that strictly increases from one holder to the next (the lock node's czxid): pass it
  // to the resources you protect so that they can reject a stale holder.
  int64_t fencing_token() const { return fencing_token_; }
  // The lock node ("" for an empty guard).
  const std::string& node_path() const { return node_path_; }

  // Returns `ops` preceded by a check that the lock node still exists: as a Multi, they commit
  // only while the lock is held by this guard.
  std::vector<Op> Guard(std::vector<Op> ops) const;
  // Runs Guard(ops) as a Multi and returns the results of `ops` (without the check).
  // Errors: NotFound with FailedOpIndex() == 0 when the lock is no longer held; else Multi's.
  absl::StatusOr<MultiResult> GuardedMulti(std::vector<Op> ops) const;

 private:
  friend class Lock;
  LockGuard(Client* client, std::shared_ptr<internal::Contender> contender, std::string node_path,
            int64_t fencing_token, std::shared_ptr<internal::LockStats> stats);
  // Records the hold time in the Lock's metrics (once per grant).
  void EndHold();
  Client* client_ = nullptr;
  std::shared_ptr<internal::Contender> contender_;
  std::string node_path_;
  int64_t fencing_token_ = 0;
  std::shared_ptr<internal::LockStats> stats_;  // null once the hold is recorded
  std::chrono::steady_clock::time_point granted_at_;
};

struct LockOptions {
  // Payload of the lock node (e.g. the holder's host name, for operators).
  std::string node_data;
};

// A distributed lock on `path`. Thread-safe.
class Lock {
 public:
  // Creates the recipe; no I/O. Errors: InvalidArgument for a bad path.
  static absl::StatusOr<std::unique_ptr<Lock>> Create(Client& client, std::string_view path,
                                                      LockOptions options = {});
  // Ends a pending acquisition with Cancelled (its node removed). A guard already handed out
  // stays valid. After it returns no listener of this Lock runs; a pending AsyncAcquire's
  // callback still runs once, with Cancelled, possibly after it returns.
  ~Lock();

  // Waits until the lock is held, at most `timeout` (> 0).
  // Errors: DeadlineExceeded (the node is removed), Cancelled (Cancel() or client closed),
  // FailedPrecondition (already holding or acquiring; or called on an inline callback thread),
  // InvalidArgument (timeout <= 0), and the client's errors.
  absl::StatusOr<LockGuard> Acquire(std::chrono::milliseconds timeout);
  // Takes the lock only if nobody holds it or waits for it now; nullopt if busy.
  absl::StatusOr<std::optional<LockGuard>> TryAcquire();
  // As Acquire; `done` runs once on the client's callback executor.
  void AsyncAcquire(std::chrono::milliseconds timeout, Callback<LockGuard> done);
  // Ends a pending acquisition with Cancelled and removes its node.
  void Cancel();

  // True while a guard from this Lock holds the lock.
  bool IsHeld() const;
  // Calls `listener` (on the callback executor) on kSuspended / kReconnected / kLost of a held
  // lock (kLost also when the client closes), until the subscription is destroyed.
  Subscription AddListener(std::function<void(const LockEvent&)> listener);
  // Returns this Lock's counts and times so far (zk/recipes/prometheus.h renders them). Cheap:
  // a copy under a mutex no I/O holds. Threading: any thread.
  LockMetrics Metrics() const;

  const std::string& path() const { return path_; }

 private:
  friend class ReadWriteLock;
  Lock(Client& client, std::string path, LockOptions options,
       std::shared_ptr<const internal::LockKind> kind);
  void Start(std::chrono::milliseconds timeout, bool try_only, Callback<LockGuard> done,
             bool deliver_on_loop);
  Client& client_;
  const std::string path_;
  const LockOptions options_;
  const std::shared_ptr<const internal::LockKind> kind_;
  std::shared_ptr<internal::ListenerSet<LockEvent>> listeners_;
  const std::shared_ptr<internal::LockStats> stats_;
  const std::unique_ptr<internal::LockCurrent> current_;
};

// A read/write lock on `path`: any number of readers, or one writer. Node layout of Curator's
// InterProcessReadWriteLock ("_c_<uuid>-__READ__<seq>", "_c_<uuid>-__WRIT__<seq>" in one
// queue). No writer starvation: a reader queued after a writer waits for that writer. Each side
// is a Lock with all of Lock's behaviour (guards, fencing, listeners, Metrics()). Thread-safe.
class ReadWriteLock {
 public:
  static absl::StatusOr<std::unique_ptr<ReadWriteLock>> Create(Client& client,
                                                               std::string_view path,
                                                               LockOptions options = {});
  // Readers share: through once no writer is queued before them (they watch the first writer
  // queued before them).
  Lock& ReadLock() { return *read_; }
  // Writers are exclusive: through once first in the queue (they watch their predecessor).
  Lock& WriteLock() { return *write_; }

 private:
  ReadWriteLock(std::unique_ptr<Lock> read, std::unique_ptr<Lock> write)
      : read_(std::move(read)), write_(std::move(write)) {}
  std::unique_ptr<Lock> read_;
  std::unique_ptr<Lock> write_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_LOCK_H_
