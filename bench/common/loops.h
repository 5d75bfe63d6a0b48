// The measurement loops shared by the C++ drivers (zkcpp, libzookeeper_mt): a timed loop of
// blocking operations, a pipeline with a fixed window in flight whose completions issue the next
// operation, and a countdown that timestamps the last of N callbacks (watch workloads). Each
// loop charges the process's CPU time over the measured part (driver_common.h).

#ifndef ZKCPP_BENCH_COMMON_LOOPS_H_
#define ZKCPP_BENCH_COMMON_LOOPS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "driver_common.h"

namespace zkbench {

// Runs `once()` `total` times; it returns the latency of that event in ns, or < 0 on failure.
template <typename Once>
Measurement TimeEvents(int64_t total, Once&& once) {
  Measurement m;
  m.latencies_ns.reserve(total);
  const CpuTime cpu0 = ProcessCpuTime();
  const int64_t t0 = NowNanos();
  for (int64_t i = 0; i < total; ++i) {
    const int64_t latency = once();
    if (latency < 0) {
      ++m.errors;
    } else {
      m.latencies_ns.push_back(latency);
    }
  }
  m.wall_ns = NowNanos() - t0;
  m.cpu = ProcessCpuTime() - cpu0;
  m.count = total;
  return m;
}

// Runs `op()` `total` times; op returns true on success. Latency per op.
template <typename Op>
Measurement TimeSyncOps(int64_t total, Op&& op) {
  return TimeEvents(total, [&]() -> int64_t {
    const int64_t start = NowNanos();
    return op() ? NowNanos() - start : -1;
  });
}

// Runs `run(warmup_ops)` unmeasured (if any), then `run(ops)`, and reports the latter.
template <typename Run>
int WarmAndMeasure(const DriverConfig& config, Run&& run) {
  int64_t warm_errors = 0;
  if (config.warmup_ops > 0) warm_errors = run(config.warmup_ops).errors;
  return ReportResult(run(config.ops), warm_errors);
}

// `total` asynchronous ops, `window` in flight. `issue(pipeline)` starts one op; its completion
// (on whatever thread the client runs it) calls pipeline->Done(ok) exactly once, which issues
// the next one from inside the callback, as an application doing fan-out reads would.
class Pipeline {
 public:
  using Issue = std::function<void(Pipeline*)>;
  // Exits the process if the run stops making progress for minutes (server gone): completions
  // may still arrive, so unwinding would be unsafe.
  static Measurement Run(int64_t total, int window, Issue issue);

  void Done(bool ok);

 private:
  Pipeline(int64_t total, Issue issue) : total_(total), issue_(std::move(issue)) {}

  const int64_t total_;
  const Issue issue_;
  std::atomic<int64_t> issued_{0};
  std::atomic<int64_t> completed_{0};
  std::atomic<int64_t> errors_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

// Timestamps the moment the last of `expected` arrivals came (watch callbacks).
class Countdown {
 public:
  void Reset(int expected);
  void Arrive();
  // The steady-clock time of the last arrival, or 0 after `timeout`.
  int64_t Wait(std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int remaining_ = 0;
  int64_t at_ = 0;
};

}  // namespace zkbench

#endif  // ZKCPP_BENCH_COMMON_LOOPS_H_
