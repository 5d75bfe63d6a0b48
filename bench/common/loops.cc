#include "loops.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace zkbench {

Measurement Pipeline::Run(int64_t total, int window, Issue issue) {
  Pipeline p(total, std::move(issue));
  const int64_t first = std::min<int64_t>(window, total);
  p.issued_.store(first);
  Measurement m;
  const CpuTime cpu0 = ProcessCpuTime();
  const int64_t t0 = NowNanos();
  for (int64_t i = 0; i < first; ++i) p.issue_(&p);
  {
    std::unique_lock<std::mutex> lock(p.mu_);
    if (!p.cv_.wait_for(lock, std::chrono::minutes(5), [&] { return p.done_; })) {
      std::fprintf(stderr, "driver: pipelined run timed out (%lld of %lld done)\n",
                   static_cast<long long>(p.completed_.load()), static_cast<long long>(total));
      std::_Exit(1);
    }
  }
  m.wall_ns = NowNanos() - t0;
  m.cpu = ProcessCpuTime() - cpu0;
  m.count = total;
  m.errors = p.errors_.load();
  return m;
}

void Pipeline::Done(bool ok) {
  if (!ok) errors_.fetch_add(1);
  if (issued_.fetch_add(1) < total_) issue_(this);
  if (completed_.fetch_add(1) + 1 == total_) {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
}

void Countdown::Reset(int expected) {
  std::lock_guard<std::mutex> lock(mu_);
  remaining_ = expected;
  at_ = 0;
}

void Countdown::Arrive() {
  const int64_t now = NowNanos();
  std::lock_guard<std::mutex> lock(mu_);
  if (remaining_ > 0 && --remaining_ == 0) {
    at_ = now;
    cv_.notify_all();
  }
}

int64_t Countdown::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return at_ != 0; });
  return at_;
}

}  // namespace zkbench
