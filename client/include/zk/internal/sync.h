// zkcpp — internal: a mutex, scoped lock and notification on the standard library, annotated
// for clang's -Wthread-safety like absl::Mutex.
//
// Why not absl::Mutex: Debian's Abseil is not built with ThreadSanitizer, so the
// happens-before edges of absl::Mutex and absl::Notification are invisible to TSan, which then
// reports races that do not exist. std::mutex is intercepted by TSan. The API mirrors the parts
// of absl::Mutex zkcpp uses (Lock, Unlock, Await, AwaitWithTimeout): like absl::Mutex, every
// Unlock lets waiters re-check their condition, so no explicit signalling is needed.

#ifndef ZK_INTERNAL_SYNC_H_
#define ZK_INTERNAL_SYNC_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace zk::internal {

// Thread-safe.
class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    // Notify before unlocking: once unlocked, a woken waiter may destroy this Mutex (e.g. a
    // Notification on its stack), so nothing of it may be touched after the unlock.
    if (waiters_ > 0) cv_.notify_all();
    mu_.unlock();
  }
  // As Unlock, but wakes the waiters after the mutex is released. A waiter woken under the
  // lock can at once sleep again on the mutex the waker still holds: a second sleep and wakeup.
  // Measured here on busy cores: 9–11 µs of CPU per two-thread round trip instead of 5–7; on
  // idle cores the wakeup itself dominates and the two differ by a few % (zkcpp_micro_bench
  // BM_HandOffRoundTrip). Only for a Mutex that outlives this call whatever the waiters do
  // next, e.g. one the caller co-owns through a shared_ptr.
  void UnlockThenWake() ABSL_UNLOCK_FUNCTION() {
    const bool wake = waiters_ > 0;
    mu_.unlock();
    if (wake) cv_.notify_all();
  }
  // Waits, with the mutex held, until `condition()` is true.
  template <typename Condition>
  void Await(Condition condition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    ++waiters_;
    cv_.wait(lock, condition);
    --waiters_;
    lock.release();
  }
  // As Await, for at most `timeout`; returns the condition's final value.
  template <typename Condition>
  bool AwaitWithTimeout(Condition condition, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    ++waiters_;
    const bool result = cv_.wait_until(
        lock, std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout), condition);
    --waiters_;
    lock.release();
    return result;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiters_ = 0;  // guarded by mu_
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A one-shot event. Thread-safe.
class Notification {
 public:
  void Notify() {
    MutexLock lock(&mu_);
    notified_ = true;
  }
  // As Notify, for a notifier that co-owns this Notification (e.g. through a shared_ptr), so
  // that it outlives the call whatever the waiter does: wakes the waiter after the mutex is
  // released (Mutex::UnlockThenWake).
  void NotifyFromOwner() {
    mu_.Lock();
    notified_ = true;
    mu_.UnlockThenWake();
  }
  bool HasBeenNotified() {
    MutexLock lock(&mu_);
    return notified_;
  }
  void WaitForNotification() {
    MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return notified_; });
  }
  bool WaitForNotificationWithTimeout(absl::Duration timeout) {
    MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return notified_; },
                                timeout);
  }

 private:
  Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace zk::internal

#endif  // ZK_INTERNAL_SYNC_H_
