// zkcpp_micro_bench: in-process costs that sit on every operation's path, so that a regression in
// one of them shows up without a server in the loop (Google Benchmark).
//
//   zkcpp_micro_bench --benchmark_filter=ValidatePath

#include <atomic>
#include <mutex>
#include <thread>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "benchmark/benchmark.h"
#include "dispatcher.h"  // zk::internal, from client/src: the callback hop we want to price
#include "zk/internal/sync.h"
#include "zk/path.h"
#include "zk/status.h"
#include "zk/types.h"

namespace {

// Every op validates its path before any I/O.
void BM_ValidatePathShort(benchmark::State& state) {
  const std::string path = "/services/app/config";
  for (auto _ : state) {
    benchmark::DoNotOptimize(zk::ValidatePath("get", path));
  }
}
BENCHMARK(BM_ValidatePathShort);

void BM_ValidatePathLongUtf8(benchmark::State& state) {
  std::string path;
  for (int i = 0; i < 20; ++i) path += "/s\xC3\xA9gment-" + std::to_string(i);
  for (auto _ : state) {
    benchmark::DoNotOptimize(zk::ValidatePath("get", path));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(path.size()));
}
BENCHMARK(BM_ValidatePathLongUtf8);

void BM_ValidatePathInvalid(benchmark::State& state) {
  const std::string path = "/a//b";
  for (auto _ : state) {
    benchmark::DoNotOptimize(zk::ValidatePath("get", path));
  }
}
BENCHMARK(BM_ValidatePathInvalid);

// The error path: NONODE is a normal answer for exists-style reads and recipes.
void BM_MakeZooStatusNoNode(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(zk::MakeZooStatus(zk::ZooError::kNoNode, "get", "/a/b/c"));
  }
}
BENCHMARK(BM_MakeZooStatusNoNode);

void BM_ZooErrorOf(benchmark::State& state) {
  const absl::Status status = zk::MakeZooStatus(zk::ZooError::kBadVersion, "set", "/a");
  for (auto _ : state) {
    benchmark::DoNotOptimize(zk::ZooErrorOf(status));
  }
}
BENCHMARK(BM_ZooErrorOf);

void BM_DigestId(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(zk::DigestId("user", "secret-password"));
  }
}
BENCHMARK(BM_DigestId);

void BM_JoinPath(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(zk::JoinPath("/services/app", "member-0000000042"));
  }
}
BENCHMARK(BM_JoinPath);

// The default executor's hop, per callback, when completions arrive in batches of `range(0)`
// (one Post per loop turn): the in-process part of the dispatcher's cost on pipelined ops.
void BM_DispatcherBatch(benchmark::State& state) {
  zk::internal::Dispatcher dispatcher;
  const int batch = static_cast<int>(state.range(0));
  std::atomic<int64_t> ran{0};
  for (auto _ : state) {
    absl::Notification done;
    std::vector<zk::internal::Task> tasks;
    tasks.reserve(batch);
    for (int i = 0; i < batch; ++i) {
      tasks.push_back([&ran, &done, last = i == batch - 1]() mutable {
        ran.fetch_add(1, std::memory_order_relaxed);
        if (last) done.Notify();
      });
    }
    dispatcher.Post(std::move(tasks));
    done.WaitForNotification();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_DispatcherBatch)->Arg(1)->Arg(16)->Arg(128)->UseRealTime();

// A wakeup between two threads through zk::internal::Mutex, as a blocking call's result or a
// dispatcher batch is handed over: a round trip is two hand-offs. Arg 0 wakes the waiter under
// the lock (Unlock); arg 1 after it (UnlockThenWake), so the woken thread does not sleep again
// on the mutex the waker still holds. Process CPU counts both threads.
struct HandOffChannel {
  zk::internal::Mutex mu;
  int64_t value = 0;
};
void HandOffSend(HandOffChannel& channel, int64_t value, bool wake_after_unlock) {
  channel.mu.Lock();
  channel.value = value;
  if (wake_after_unlock) {
    channel.mu.UnlockThenWake();
  } else {
    channel.mu.Unlock();
  }
}
void HandOffWait(HandOffChannel& channel, int64_t value) {
  zk::internal::MutexLock lock(&channel.mu);
  channel.mu.Await([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return channel.value >= value; });
}
void BM_HandOffRoundTrip(benchmark::State& state) {
  const bool after = state.range(0) == 1;
  HandOffChannel ping, pong;
  std::atomic<bool> stop{false};
  std::thread partner([&] {
    for (int64_t i = 1;; ++i) {
      HandOffWait(ping, i);
      if (stop.load()) return;
      HandOffSend(pong, i, after);
    }
  });
  int64_t round = 0;
  for (auto _ : state) {
    ++round;
    HandOffSend(ping, round, after);
    HandOffWait(pong, round);
  }
  stop.store(true);
  HandOffSend(ping, round + 1, after);
  partner.join();
  state.SetLabel(after ? "wake after unlock" : "wake under lock");
}
BENCHMARK(BM_HandOffRoundTrip)->Arg(0)->Arg(1)->UseRealTime()->MeasureProcessCPUTime();

// Debian builds Abseil without NDEBUG, so absl::Mutex runs its deadlock detector (a global graph
// behind a global lock) on every Lock/Unlock. These price that against the detector off and
// against std::mutex: the engine's submission queue and the dispatcher lock once per operation.
void BM_AbslMutexDefault(benchmark::State& state) {
  absl::Mutex mu;
  for (auto _ : state) {
    mu.Lock();
    mu.Unlock();
  }
}
BENCHMARK(BM_AbslMutexDefault);

void BM_AbslMutexNoDeadlockDetection(benchmark::State& state) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::Mutex mu;
  for (auto _ : state) {
    mu.Lock();
    mu.Unlock();
  }
}

void BM_StdMutex(benchmark::State& state) {
  std::mutex mu;
  for (auto _ : state) {
    mu.lock();
    mu.unlock();
  }
}
BENCHMARK(BM_StdMutex);
// Registered last: it switches the detector off for the rest of the process (Abseil has no
// getter to restore the previous mode with).
BENCHMARK(BM_AbslMutexNoDeadlockDetection);

}  // namespace

BENCHMARK_MAIN();
