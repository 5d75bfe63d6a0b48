// zkcpp example: barriers (zk::recipes::Barrier and DoubleBarrier).
//
// A deploy coordinator sets a Barrier; three workers, each with its own client (as three
// processes would have), wait on it and go only once the coordinator removes it. The example
// checks that no worker passed before the removal.
//
// Then the three workers meet at a DoubleBarrier for a batch job: they arrive one by one, and
// none starts before all three have entered; none leaves before all three have finished. The
// example checks both with counters the workers update around the barrier calls.
//
// Run: zkcpp-example-barriers                     (an embedded server in-process)
//      zkcpp-example-barriers --connect=host:2181  (a real ensemble)

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "example_main.h"
#include "zk/recipes/barrier.h"
#include "zk/recipes/double_barrier.h"

namespace {

constexpr int kWorkers = 3;
constexpr std::chrono::seconds kTimeout(15);

// What the workers report, counted across threads.
struct Counts {
  std::atomic<bool> barrier_removed{false};
  std::atomic<int> passed_early{0};   // passed the Barrier before it was removed
  std::atomic<int> arrived{0};        // called DoubleBarrier::Enter
  std::atomic<int> started_early{0};  // left Enter while fewer than all had arrived
  std::atomic<int> finished{0};       // done with the batch, about to Leave
  std::atomic<int> left_early{0};     // left Leave while fewer than all had finished
};

absl::Status Worker(const zk_example::Env& env, int id, Counts& counts) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Barrier> deploy,
                      zk::recipes::Barrier::Create(*client, env.root() + "/deploy-hold"));
  ZK_RETURN_IF_ERROR(deploy->WaitOnBarrier(kTimeout));
  if (!counts.barrier_removed.load()) ++counts.passed_early;
  std::printf("  worker %d: the deploy barrier is gone, going\n", id);

  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::DoubleBarrier> batch,
                      zk::recipes::DoubleBarrier::Create(*client, env.root() + "/batch",
                                                         kWorkers));
  // Workers reach the batch one after another (their own start-up work).
  std::this_thread::sleep_for(std::chrono::milliseconds(100 * id));
  ++counts.arrived;
  ZK_RETURN_IF_ERROR(batch->Enter(kTimeout));
  if (counts.arrived.load() < kWorkers) ++counts.started_early;
  std::printf("  worker %d: all %d entered, batch starts\n", id, kWorkers);
  std::this_thread::sleep_for(std::chrono::milliseconds(50 * id));  // the batch work
  ++counts.finished;
  ZK_RETURN_IF_ERROR(batch->Leave(kTimeout));
  if (counts.finished.load() < kWorkers) ++counts.left_early;
  return absl::OkStatus();
}

absl::Status Run(const zk_example::Env& env) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> coordinator, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Barrier> deploy,
                      zk::recipes::Barrier::Create(*coordinator, env.root() + "/deploy-hold"));
  ZK_RETURN_IF_ERROR(deploy->SetBarrier());

  Counts counts;
  std::vector<absl::Status> results(kWorkers);
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&, i] { results[i] = Worker(env, i + 1, counts); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the coordinator's deploy
  std::printf("  coordinator: deploy done, removing the barrier\n");
  counts.barrier_removed = true;
  ZK_RETURN_IF_ERROR(deploy->RemoveBarrier());
  for (std::thread& worker : workers) worker.join();
  for (const absl::Status& result : results) ZK_RETURN_IF_ERROR(result);

  ZK_RETURN_IF_ERROR(zk_example::Claim(counts.passed_early.load() == 0,
                                       "no worker passed the barrier before its removal"));
  ZK_RETURN_IF_ERROR(zk_example::Claim(counts.started_early.load() == 0,
                                       "no worker started the batch before all had entered"));
  return zk_example::Claim(counts.left_early.load() == 0,
                           "no worker left the batch before all had finished");
}

}  // namespace

int main(int argc, char** argv) { return zk_example::RunExample(argc, argv, "barriers", Run); }
