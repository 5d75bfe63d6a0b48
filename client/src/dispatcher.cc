#include "dispatcher.h"

#include <atomic>
#include <thread>
#include <utility>

namespace zk::internal {

// Shared with the thread, so that a detached thread (destroyed from its own task) keeps it.
struct Dispatcher::State {
  std::function<void()> after_batch;
  Mutex mu;
  std::vector<Task> queue ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;
  // Set by the thread itself and cleared when it ends: a later thread may get the same id.
  std::atomic<std::thread::id> thread_id;
};

Dispatcher::Dispatcher(std::function<void()> after_batch) : state_(std::make_shared<State>()) {
  state_->after_batch = std::move(after_batch);
  MutexLock lock(&join_mu_);
  thread_ = std::thread(&Dispatcher::Run, state_);
}

bool Dispatcher::OnDispatcherThread() const {
  return std::this_thread::get_id() == state_->thread_id.load();
}

Dispatcher::~Dispatcher() {
  Stop();
  // Destroyed from one of its own tasks: the thread ends by itself once the queue is empty.
  MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.detach();
}

void Dispatcher::Stop() {
  {
    MutexLock lock(&state_->mu);
    state_->stopping = true;
  }
  if (OnDispatcherThread()) return;
  MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::Post(std::vector<Task> tasks) {
  if (tasks.empty()) return;
  state_->mu.Lock();
  if (state_->queue.empty()) {
    state_->queue = std::move(tasks);
  } else {
    for (Task& task : tasks) state_->queue.push_back(std::move(task));
  }
  // `state_` is co-owned by this object, so it outlives the wakeup.
  state_->mu.UnlockThenWake();
}

void Dispatcher::Run(std::shared_ptr<State> state) {
  state->thread_id.store(std::this_thread::get_id());
  std::vector<Task> batch;
  while (true) {
    {
      MutexLock lock(&state->mu);
      state->mu.Await([s = state.get()]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !s->queue.empty() || s->stopping;
      });
      if (state->queue.empty()) break;  // stopping, and everything ran
      batch.swap(state->queue);
    }
    for (Task& task : batch) std::move(task)();
    batch.clear();
    if (state->after_batch) state->after_batch();
  }
  state->thread_id.store(std::thread::id());
}

}  // namespace zk::internal
