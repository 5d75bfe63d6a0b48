// IncrementRun: clients incrementing one DistributedAtomicLong concurrently until stopped, each
// result filed in an IncrementTally (fencing_checker.h). Shared by the single-server and the
// ensemble fault runs.

#ifndef ZKCPP_TESTS_RECIPES_INCREMENT_RUN_H_
#define ZKCPP_TESTS_RECIPES_INCREMENT_RUN_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fencing_checker.h"
#include "zk/client.h"
#include "zk/recipes/distributed_atomic_long.h"

namespace zk::recipes::testing {

// Thread-compatible: Start, Stop and Report from one thread.
class IncrementRun {
 public:
  // One worker per client, each with its own DistributedAtomicLong on `path`.
  IncrementRun(const std::vector<std::unique_ptr<Client>>& clients, const std::string& path) {
    for (const auto& client : clients) {
      workers_.emplace_back([this, client = client.get(), path] {
        auto counter =
            *DistributedAtomicLong::Create(*client, path, {.retry = {.max_attempts = 50}});
        while (!stop_.load()) {
          absl::StatusOr<AtomicResult> result = counter->Increment();
          std::lock_guard<std::mutex> lock(mu_);
          calls_++;
          RecordIncrement(tally_, result, IsUnknownOutcome);
        }
      });
    }
  }
  ~IncrementRun() { Stop(); }

  // Stops and joins the workers (after their call in progress).
  void Stop() {
    stop_.store(true);
    for (auto& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
  }

  // After Stop: the violations against `final_value`, printed with the volumes under `title`.
  int64_t Report(const std::string& title, int64_t final_value, int faults) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t violations = CountCounterViolations(tally_, final_value);
    std::printf("%s: %lld increments by %zu clients, %lld succeeded, %lld not applied, %lld "
                "unknown outcome, final %lld, %d faults, %lld violations\n",
                title.c_str(), static_cast<long long>(calls_), workers_.size(),
                static_cast<long long>(tally_.succeeded),
                static_cast<long long>(tally_.not_applied), static_cast<long long>(tally_.unknown),
                static_cast<long long>(final_value), faults, static_cast<long long>(violations));
    return violations;
  }
  IncrementTally tally() {
    std::lock_guard<std::mutex> lock(mu_);
    return tally_;
  }
  int64_t calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  IncrementTally tally_;
  int64_t calls_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace zk::recipes::testing

#endif  // ZKCPP_TESTS_RECIPES_INCREMENT_RUN_H_
