// zkcpp — internal: what zkcpp's own recipes need of a Client beyond its public API. Not for
// applications: names and behaviour may change without notice.
//
// Recipes run their internals as non-blocking continuations on the client's event-loop thread
// (design.md §3): no thread hop per step, and no lock of their own needed for state that only
// continuations touch. Every callback given here runs on the loop thread and must not block.

#ifndef ZK_INTERNAL_CLIENT_ACCESS_H_
#define ZK_INTERNAL_CLIENT_ACCESS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "zk/client.h"

namespace zk::internal {

using LoopTask = absl::AnyInvocable<void() &&>;

class CallbackSlot;

class ClientAccess {
 public:
  // A listener registration: `handle` goes to the user; RunListener(slot, fn) runs fn unless
  // the handle was cancelled, with Watch's guarantee (not running once Cancel() returns).
  struct Listener {
    Watch handle;
    std::shared_ptr<CallbackSlot> slot;
  };
  static Listener NewListener();
  // Cancels a listener as its handle would (waits for a running call on another thread).
  static void CancelListener(const std::shared_ptr<CallbackSlot>& slot);
  static bool RunListener(const std::shared_ptr<CallbackSlot>& slot, absl::FunctionRef<void()> fn);
  // True once the listener's handle was cancelled or destroyed: it will never run again.
  static bool ListenerCancelled(const std::shared_ptr<CallbackSlot>& slot);

  // The Client::AsyncX operations, completing on the loop thread. Called on the loop thread,
  // requests go out in call order (pipelining: a read submitted after a write sees it).
  static void Create(Client& client, std::string_view path, std::string_view data,
                     CreateOptions options, Callback<CreateResult> done);
  static void Delete(Client& client, std::string_view path,
                     std::optional<int32_t> expected_version, StatusCallback done);
  static void Exists(Client& client, std::string_view path, Callback<std::optional<Stat>> done);
  static void Get(Client& client, std::string_view path, Callback<GetResult> done);
  static void Set(Client& client, std::string_view path, std::string_view data,
                  std::optional<int32_t> expected_version, Callback<Stat> done);
  static void GetChildren(Client& client, std::string_view path, Callback<ChildrenResult> done);
  static void Multi(Client& client, std::vector<Op> ops, Callback<MultiResult> done);
  // Watched reads whose watch callback also runs on the loop thread.
  static void ExistsAndWatch(Client& client, std::string_view path, WatchCallback on_event,
                             Callback<Watched<std::optional<Stat>>> done);
  static void GetAndWatch(Client& client, std::string_view path, WatchCallback on_event,
                          Callback<Watched<GetResult>> done);
  static void GetChildrenAndWatch(Client& client, std::string_view path, WatchCallback on_event,
                                  Callback<Watched<ChildrenResult>> done);

  // Runs `task` on the loop thread; returns false (task dropped) if the client is closed.
  static bool RunOnLoop(Client& client, LoopTask task);
  // Runs `task` on the loop thread and returns once it has run: in place when called on the
  // loop thread, else queued after everything posted before it. Does nothing once the client
  // is closed. For recipe destructors and cancellations that must be settled on return.
  static void RunOnLoopAndWait(Client& client, absl::FunctionRef<void()> task);
  // From the loop thread: runs `task` on the client's callback executor, in order with the
  // completions and events delivered there.
  static void DeliverToUser(Client& client, LoopTask task);
  // Loop thread only: runs `task` on the loop thread after `delay` (at the latest when the
  // client closes). The returned handle cancels it (CancelTimer); it may be ignored.
  struct LoopTimer {
    absl::Time when;
    uint64_t id = 0;  // 0: no timer
  };
  static LoopTimer RunAfter(Client& client, std::chrono::milliseconds delay, LoopTask task);
  // Loop thread only: drops a timer that has not run yet; a no-op if it ran, was cancelled, or
  // `timer` is the default value.
  static void CancelTimer(Client& client, LoopTimer timer);
  // True on the client's event-loop thread.
  static bool OnLoopThread(const Client& client);
  // Any thread: connected, and the server heard from within two thirds of the negotiated
  // session timeout. Ownership answers (IsHeld, IsLeader) require it, so that a process
  // resuming from a long pause is not told "held" before its loop has noticed the loss.
  static bool ServerContactFresh(const Client& client);
  // Loop thread only: session events, synchronously on the loop, before user subscribers see
  // them. Returns an id for RemoveSessionListener.
  static uint64_t AddSessionListener(Client& client,
                                     std::function<void(const SessionEvent&)> listener);
  static void RemoveSessionListener(Client& client, uint64_t id);
};

}  // namespace zk::internal

#endif  // ZK_INTERNAL_CLIENT_ACCESS_H_
