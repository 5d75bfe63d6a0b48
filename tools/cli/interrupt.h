// zkcpp CLI — SIGINT and SIGTERM.
//
// InstallInterruptHandling() blocks both signals in every thread and starts one thread that
// receives them (sigwait). While an InterruptScope lives, the first signal runs the scope's
// action on that thread: end a watch, cancel a lock wait, forward the signal to a child
// command. A signal while no scope lives, and any signal after the first, kills the process
// at once, as the signal's default action would.
//
//   InterruptScope interrupt([&](int) { done.Notify(); });
//   done.WaitForNotification();

#ifndef ZKCPP_TOOLS_CLI_INTERRUPT_H_
#define ZKCPP_TOOLS_CLI_INTERRUPT_H_

#include <functional>

namespace zk::cli {

// Call first in main(), before any thread starts (threads inherit the blocked signals).
void InstallInterruptHandling();

// Sets the action of the first SIGINT / SIGTERM for its lifetime (restoring the previous one
// after). Thread-compatible; scopes nest like a stack.
class InterruptScope {
 public:
  explicit InterruptScope(std::function<void(int signal)> action);
  // Waits until the action is not running, then restores the previous one.
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  std::function<void(int)> previous_;
};

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_INTERRUPT_H_
