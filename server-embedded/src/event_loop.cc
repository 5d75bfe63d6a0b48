#include "event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <utility>

#include <condition_variable>

namespace zk::testing::internal {

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

EventLoop::~EventLoop() {
  Shutdown();
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

absl::Status EventLoop::Start() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError("event loop: no epoll/eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_ = std::thread([this] { Loop(); });
  thread_id_ = thread_.get_id();
  return absl::OkStatus();
}

void EventLoop::Shutdown() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  thread_.join();
}

void EventLoop::Post(std::function<void()> task) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake = posted_.empty();
    posted_.push_back(std::move(task));
  }
  if (wake) {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }
}

void EventLoop::RunSync(const std::function<void()>& task) {
  if (InLoopThread() || !thread_.joinable()) {
    task();
    return;
  }
  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool done = false;
  Post([&] {
    task();
    std::lock_guard<std::mutex> lock(done_mutex);
    done = true;
    done_cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(done_mutex);
  done_cv.wait(lock, [&] { return done; });
}

uint64_t EventLoop::Watch(int fd, uint32_t events, FdHandler handler) {
  uint64_t token = next_token_++;
  handlers_[token] = std::move(handler);
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  return token;
}

void EventLoop::Modify(uint64_t token, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::Unwatch(uint64_t token, int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(token);
}

void EventLoop::RunAt(int64_t deadline_ms, std::function<void()> task) {
  timers_.emplace(deadline_ms, std::move(task));
}

void EventLoop::RunPostedTasks() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::Loop() {
  epoll_event events[64];
  while (true) {
    int timeout = -1;
    if (!timers_.empty()) {
      int64_t wait = timers_.begin()->first - SteadyNowMs();
      timeout = wait < 0 ? 0 : static_cast<int>(wait);
    }
    int n = epoll_wait(epoll_fd_, events, 64, timeout);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      uint64_t token = events[i].data.u64;
      if (token == 0) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
        continue;
      }
      auto it = handlers_.find(token);
      if (it == handlers_.end()) continue;
      FdHandler handler = it->second;  // the handler may unwatch itself
      handler(events[i].events);
    }
    int64_t now = SteadyNowMs();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      auto task = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      task();
    }
    RunPostedTasks();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ && posted_.empty()) break;
    }
  }
  RunPostedTasks();
}

}  // namespace zk::testing::internal
