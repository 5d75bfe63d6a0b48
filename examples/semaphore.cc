// zkcpp example: a counting semaphore (zk::recipes::Semaphore): at most N leases at a time.
//
// Five workers, each with its own client (as five processes would have), share a semaphore of
// two leases, say two licences of an expensive resource. Each takes a lease, works a little,
// and returns it. It checks that never more than two leases were held at once, and that every
// worker got its turn.
//
// Run: zkcpp-example-semaphore                     (an embedded server in-process)
//      zkcpp-example-semaphore --connect=host:2181  (a real ensemble)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "example_main.h"
#include "zk/recipes/semaphore.h"

namespace {

constexpr int kMaxLeases = 2;
constexpr int kWorkers = 5;

struct Usage {
  int held = 0;      // leases held right now
  int max_held = 0;  // the most ever held at once
  int done = 0;      // workers that had their turn
};

absl::Status Worker(const zk_example::Env& env, int id, zk_example::SharedState<Usage>& usage) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Semaphore> semaphore,
                      zk::recipes::Semaphore::Create(*client, env.root() + "/licences",
                                                     kMaxLeases));
  ZK_ASSIGN_OR_RETURN(zk::recipes::Lease lease, semaphore->Acquire(std::chrono::seconds(15)));
  int now = 0;
  usage.Update([&](Usage& u) {
    now = ++u.held;
    u.max_held = std::max(u.max_held, u.held);
  });
  std::printf("  worker %d got a lease (%d held)\n", id, now);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the work
  usage.Update([](Usage& u) {
    --u.held;
    ++u.done;
  });
  return lease.Release();
}

absl::Status Run(const zk_example::Env& env) {
  zk_example::SharedState<Usage> usage;
  std::vector<absl::Status> results(kWorkers);
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&, i] { results[i] = Worker(env, i + 1, usage); });
  }
  for (std::thread& worker : workers) worker.join();
  for (const absl::Status& result : results) ZK_RETURN_IF_ERROR(result);

  const Usage u = usage.Get();
  std::printf("  at most %d leases were held at once\n", u.max_held);
  ZK_RETURN_IF_ERROR(zk_example::Claim(u.max_held <= kMaxLeases,
                                       "never more than 2 leases held at once"));
  return zk_example::Claim(u.done == kWorkers, "every worker got a lease");
}

}  // namespace

int main(int argc, char** argv) { return zk_example::RunExample(argc, argv, "semaphore", Run); }
