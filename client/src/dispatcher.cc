#include "dispatcher.h"

#include <utility>

namespace zk::internal {

// Shared with the thread, so that a detached thread (destroyed from its own task) keeps it.
struct Dispatcher::State {
  absl::Mutex mu;
  std::vector<Task> queue ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;
};

Dispatcher::Dispatcher() : state_(std::make_shared<State>()) {
  thread_ = std::thread(&Dispatcher::Run, state_);
}

Dispatcher::~Dispatcher() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->stopping = true;
  }
  if (OnDispatcherThread()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

void Dispatcher::Post(std::vector<Task> tasks) {
  if (tasks.empty()) return;
  absl::MutexLock lock(&state_->mu);
  if (state_->queue.empty()) {
    state_->queue = std::move(tasks);
  } else {
    for (Task& task : tasks) state_->queue.push_back(std::move(task));
  }
}

void Dispatcher::Run(std::shared_ptr<State> state) {
  std::vector<Task> batch;
  while (true) {
    {
      absl::MutexLock lock(&state->mu);
      state->mu.Await(absl::Condition(
          +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !s->queue.empty() || s->stopping; },
          state.get()));
      if (state->queue.empty()) return;  // stopping, and everything ran
      batch.swap(state->queue);
    }
    for (Task& task : batch) std::move(task)();
    batch.clear();
  }
}

}  // namespace zk::internal
