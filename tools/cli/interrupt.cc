#include "cli/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>


namespace zk::cli {
namespace {

struct InterruptState {
  std::mutex mu;
  std::condition_variable idle;  // notified when `running` turns false
  // Guarded by mu.
  std::function<void(int)> action;
  bool running = false;
  int signals = 0;
};

InterruptState& State() {
  static InterruptState* const state = new InterruptState();  // used until _exit: never freed
  return *state;
}

sigset_t InterruptSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Dies of `signal` as its default action would (so that a parent shell sees it), or exits with
// 128+signal should that fail.
[[noreturn]] void DieOf(int signal) {
  std::fflush(nullptr);
  ::signal(signal, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signal);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(signal);
  ::_exit(128 + signal);
}

void ReceiveSignals() {
  const sigset_t set = InterruptSignals();
  InterruptState& state = State();
  for (;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) continue;
    std::function<void(int)> action;
    {
      std::lock_guard<std::mutex> lock(state.mu);
      if (++state.signals > 1 || !state.action) DieOf(signal);
      action = state.action;
      state.running = true;
    }
    action(signal);
    std::lock_guard<std::mutex> lock(state.mu);
    state.running = false;
    state.idle.notify_all();
  }
}

}  // namespace

void InstallInterruptHandling() {
  const sigset_t set = InterruptSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(ReceiveSignals).detach();
}

InterruptScope::InterruptScope(std::function<void(int)> action) {
  InterruptState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  previous_ = std::exchange(state.action, std::move(action));
}

InterruptScope::~InterruptScope() {
  InterruptState& state = State();
  std::unique_lock<std::mutex> lock(state.mu);
  state.idle.wait(lock, [&] { return !state.running; });
  state.action = std::move(previous_);
}

}  // namespace zk::cli
