// Dispatcher: the FIFO thread on which a client runs user callbacks by default
// (CallbackExecution::kDispatcherThread), so that a slow callback never stalls the event loop.

#ifndef ZK_CLIENT_SRC_DISPATCHER_H_
#define ZK_CLIENT_SRC_DISPATCHER_H_

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "zk/internal/sync.h"

namespace zk::internal {

using Task = absl::AnyInvocable<void() &&>;

// Thread-safe. Runs posted tasks one at a time, in posting order, on its own thread.
class Dispatcher {
 public:
  // `after_batch` (may be null) runs on the dispatcher thread after each batch of tasks: the
  // engine hands the requests those tasks submitted to its loop in one go there.
  explicit Dispatcher(std::function<void()> after_batch = nullptr);
  // Stop().
  ~Dispatcher();

  // Runs every task already posted, then ends the thread, and waits for that. Called on the
  // dispatcher thread itself it cannot wait: the thread goes on with the queue, and a later
  // Stop from another thread (or the destructor) waits. Idempotent.
  void Stop();

  // Appends `tasks` (in order) to the queue; one wakeup for the whole batch.
  void Post(std::vector<Task> tasks);

  bool OnDispatcherThread() const;

 private:
  struct State;
  static void Run(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
  Mutex join_mu_;  // one joiner at a time
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_DISPATCHER_H_
