// CallbackSlot: the shared state behind a zk::Watch or a session Subscription. It holds the
// user's callback and makes cancellation safe against a concurrent invocation.

#ifndef ZK_CLIENT_SRC_CALLBACK_SLOT_H_
#define ZK_CLIENT_SRC_CALLBACK_SLOT_H_

#include <functional>
#include <thread>
#include <variant>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "zk/internal/sync.h"
#include "zk/client.h"

namespace zk::internal {

// Thread-safe. Invocations of one slot never overlap (callers serialize them on one executor);
// Cancel() may race with them from any thread.
class CallbackSlot {
 public:
  using Callback = std::variant<WatchCallback, SessionCallback>;
  // `on_cancel` runs once, on the cancelling thread, after the first Cancel() (used to tell the
  // engine to drop its native watch); it must not block.
  // `on_loop`: the slot belongs to the client itself (persistent-watch emulation) and is invoked
  // on the event-loop thread instead of the callback executor.
  CallbackSlot(Callback callback, std::function<void()> on_cancel, bool on_loop = false);

  bool on_loop() const { return on_loop_; }

  // Calls the callback with `event` unless the slot is cancelled. Returns false if cancelled.
  bool Invoke(const WatchEvent& event);
  bool Invoke(const SessionEvent& event);
  // Runs `fn` under the same rules (for listeners whose callback lives elsewhere).
  bool Run(absl::FunctionRef<void()> fn);

  // Stops the slot: no invocation starts afterwards; waits for a running one on another thread
  // to finish. Idempotent.
  void Cancel();

  bool cancelled() const;

 private:
  template <typename Event>
  bool InvokeImpl(const Event& event);

  const bool on_loop_;
  mutable Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id running_thread_ ABSL_GUARDED_BY(mu_);
  bool cancelled_from_callback_ ABSL_GUARDED_BY(mu_) = false;
  // Touched only by the invoking thread while running_, or under mu_ when not running.
  Callback callback_;
  std::function<void()> on_cancel_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_CALLBACK_SLOT_H_
