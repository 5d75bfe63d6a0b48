// zkcpp-demo, scenario 2: a distributed lock around an order-id generator.
//
// Four order workers (each its own process: its own client and Lock) create order ids with a
// read-increment-write of one counter node, which is only correct if no two workers run it at
// once. Each takes the Lock first, so createId() runs strictly one at a time across the
// "processes". The demo checks that: an in-critical-section counter catches any overlap, the
// ids come out 1..N without a gap or a duplicate, and the fencing token (the lock node's czxid)
// grows from one holder to the next. The counter write itself is fenced: it commits only while
// the writer's lock node still exists (LockGuard::GuardedMulti).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "demo/demo.h"
#include "zk/client.h"
#include "zk/recipes/lock.h"

namespace zkcpp_demo {

namespace {

using zk::recipes::Lock;
using zk::recipes::LockGuard;

constexpr int kWorkers = 4;
constexpr int kOrdersPerWorker = 3;

// One order worker: a process with its own session. The lock goes before its client.
struct Worker {
  std::string name;
  std::unique_ptr<zk::Client> client;
  std::unique_ptr<Lock> lock;
};

// One grant of the lock, recorded while it was held (so the records are in grant order).
struct Acquisition {
  int worker = 0;
  int64_t fencing_token = 0;
  int64_t order_id = 0;
};

// What the workers share. The lock is what keeps createId() exclusive; the atomics only
// observe whether it did.
struct Shared {
  std::string counter_path;
  std::atomic<int> in_critical_section{0};
  std::atomic<int> overlaps{0};
  std::mutex mu;
  std::vector<Acquisition> acquisitions;  // guarded by mu
  absl::Status error;                     // the first worker error; guarded by mu
};

// Creates the next order id: reads the counter, writes counter + 1. Two of these running at
// once would hand out one id twice, which is what the lock prevents (and what the overlap
// counter would catch).
absl::StatusOr<int64_t> CreateId(Shared& shared, zk::Client& client, const LockGuard& guard) {
  if (shared.in_critical_section.fetch_add(1) != 0) shared.overlaps.fetch_add(1);
  absl::Cleanup leave = [&shared] { shared.in_critical_section.fetch_sub(1); };
  ZK_ASSIGN_OR_RETURN(zk::GetResult counter, client.Get(shared.counter_path));
  int64_t last = 0;
  if (!absl::SimpleAtoi(counter.data, &last)) {
    return absl::InternalError(
        absl::StrCat("counter ", shared.counter_path, " holds \"", counter.data, "\""));
  }
  const int64_t next = last + 1;
  // Fenced: the set commits only while our lock node exists (and, by its version, only if
  // nobody wrote the counter since we read it).
  ZK_RETURN_IF_ERROR(guard
                         .GuardedMulti({zk::op::Set{.path = shared.counter_path,
                                                    .data = absl::StrCat(next),
                                                    .expected_version = counter.stat.version}})
                         .status());
  return next;
}

absl::Status RunWorker(Shared& shared, Worker& worker, int index) {
  for (int order = 0; order < kOrdersPerWorker; ++order) {
    ZK_ASSIGN_OR_RETURN(LockGuard guard, worker.lock->Acquire(kWaitTimeout));
    ZK_ASSIGN_OR_RETURN(int64_t id, CreateId(shared, *worker.client, guard));
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      shared.acquisitions.push_back(
          {.worker = index, .fencing_token = guard.fencing_token(), .order_id = id});
    }
    // Printed while the lock is held, so the lines come out in grant order.
    Say("%s holds the lock  token %-12s -> createId() = %lld", worker.name.c_str(),
        Hex(guard.fencing_token()).c_str(), static_cast<long long>(id));
    ZK_RETURN_IF_ERROR(guard.Release());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RunOrderLockScenario(const DemoContext& context) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ScenarioRoot> root, ScenarioRoot::Create(context, "lock"));
  Shared shared;
  shared.counter_path = root->Child("orders/next-id");
  const std::string lock_path = root->Child("locks/orders");

  std::vector<Worker> workers(kWorkers);
  for (int i = 0; i < kWorkers; ++i) {
    Worker& worker = workers[i];
    worker.name = absl::StrCat("order-worker-", i + 1);
    ZK_ASSIGN_OR_RETURN(worker.client, ConnectClient(context, worker.name));
    // The node data names the holder, for an operator looking at the lock with zkCli.
    ZK_ASSIGN_OR_RETURN(worker.lock,
                        Lock::Create(*worker.client, lock_path, {.node_data = worker.name}));
  }
  ZK_RETURN_IF_ERROR(
      workers[0].client->Create(shared.counter_path, "0", {.create_parents = true}).status());
  Say("%d workers x %d orders each; lock %s", kWorkers, kOrdersPerWorker, lock_path.c_str());

  // All workers start together, so they really contend for the lock.
  std::latch go(1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWorkers; ++i) {
    threads.emplace_back([&shared, &workers, &go, i] {
      go.wait();
      absl::Status status = RunWorker(shared, workers[i], i);
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(shared.mu);
        if (shared.error.ok()) {
          shared.error = absl::Status(
              status.code(), absl::StrCat(workers[i].name, ": ", std::string(status.message())));
        }
      }
    });
  }
  go.count_down();
  for (std::thread& thread : threads) thread.join();

  std::lock_guard<std::mutex> lock(shared.mu);
  ZK_RETURN_IF_ERROR(shared.error);
  const std::vector<Acquisition>& grants = shared.acquisitions;
  const int overlaps = shared.overlaps.load();
  // Each grant produced the next id, and each holder's token is above its predecessor's.
  int increasing_tokens = 0;
  bool ids_in_sequence = true;
  for (size_t i = 0; i < grants.size(); ++i) {
    if (i > 0 && grants[i].fencing_token > grants[i - 1].fencing_token) ++increasing_tokens;
    if (grants[i].order_id != static_cast<int64_t>(i) + 1) ids_in_sequence = false;
  }
  const bool tokens_ok =
      !grants.empty() && increasing_tokens == static_cast<int>(grants.size()) - 1;
  Say("ids created: %zu (expected %d), %s", grants.size(), kWorkers * kOrdersPerWorker,
      ids_in_sequence ? "1..N, no gap, no duplicate" : "NOT 1..N");
  Say("fencing tokens strictly increasing over %zu acquisitions: %s", grants.size(),
      tokens_ok ? "yes" : "NO");
  Say("overlaps: %d", overlaps);
  if (overlaps != 0) {
    return ClaimFailed(
        absl::StrCat("createId() never runs twice at once; ", overlaps, " overlaps seen"));
  }
  if (grants.size() != kWorkers * kOrdersPerWorker || !ids_in_sequence) {
    return ClaimFailed("every order gets the next id, once");
  }
  if (!tokens_ok) return ClaimFailed("fencing tokens strictly increase from holder to holder");
  Say("ok: createId() ran %zu times, one at a time, fenced", grants.size());
  return absl::StrCat(grants.size(), " ids from ", kWorkers,
                      " workers, tokens strictly increasing, overlaps: 0");
}

}  // namespace zkcpp_demo
