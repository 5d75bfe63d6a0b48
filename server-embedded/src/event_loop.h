// EventLoop: a single-threaded epoll loop with an eventfd wakeup and timers.

#ifndef ZK_SERVER_EMBEDDED_SRC_EVENT_LOOP_H_
#define ZK_SERVER_EMBEDDED_SRC_EVENT_LOOP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <unordered_map>
#include <vector>

#include <mutex>

#include "absl/status/status.h"

namespace zk::testing::internal {

// Returns a monotonic clock reading in milliseconds.
int64_t SteadyNowMs();

// Runs fd handlers, posted tasks and timers on one thread of its own.
//
// Thread-safe for Post(), RunSync() and Shutdown(); every other method must
// be called on the loop thread.
class EventLoop {
 public:
  using FdHandler = std::function<void(uint32_t epoll_events)>;

  EventLoop() = default;
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the epoll and eventfd descriptors and starts the loop thread.
  // Errors: Internal if a descriptor cannot be created.
  absl::Status Start();
  // Stops the loop thread after running the tasks already posted.
  void Shutdown();

  // Queues a task for the loop thread.
  void Post(std::function<void()> task);
  // Runs a task on the loop thread and waits for it; runs it inline when
  // called on the loop thread.
  void RunSync(const std::function<void()>& task);
  bool InLoopThread() const { return std::this_thread::get_id() == thread_id_; }

  // Loop thread only: watches an fd; returns a token for Modify/Unwatch.
  uint64_t Watch(int fd, uint32_t events, FdHandler handler);
  void Modify(uint64_t token, int fd, uint32_t events);
  void Unwatch(uint64_t token, int fd);
  // Loop thread only: runs `task` once at steady time `deadline_ms`.
  void RunAt(int64_t deadline_ms, std::function<void()> task);

 private:
  void Loop();
  void RunPostedTasks();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::thread::id thread_id_;
  // A std::mutex rather than absl::Mutex: Debian's libabsl is not built with
  // ThreadSanitizer, so TSan cannot see absl::Mutex's synchronization and
  // reports false races; std::mutex goes through intercepted pthreads.
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;  // guarded by mutex_
  bool stopping_ = false;                      // guarded by mutex_
  // Loop-thread state.
  uint64_t next_token_ = 1;
  std::unordered_map<uint64_t, FdHandler> handlers_;
  std::multimap<int64_t, std::function<void()>> timers_;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_EVENT_LOOP_H_
