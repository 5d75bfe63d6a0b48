// zkcpp example: shared counters (zk::recipes::DistributedAtomicLong and SharedCount).
//
// Four workers, each with its own client (as four processes would have), count the orders they
// handle in one DistributedAtomicLong: 25 increments each, racing on the same node. Versioned
// writes retried after a lost race mean no increment is lost or counted twice; the example
// checks the final value is exactly 100 and that every `post` value was handed out once.
//
// Then a SharedCount holds the number of worker slots an operator allows; a worker watching it
// hears the operator's compare-and-set change it.
//
// Run: zkcpp-example-counters                     (an embedded server in-process)
//      zkcpp-example-counters --connect=host:2181  (a real ensemble)

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>
#include <vector>

#include "example_main.h"
#include "zk/recipes/distributed_atomic_long.h"
#include "zk/recipes/shared_count.h"

namespace {

constexpr int kWorkers = 4;
constexpr int kIncrementsEach = 25;

absl::Status CountOrders(const zk_example::Env& env,
                         zk_example::SharedState<std::set<int64_t>>& posts) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::DistributedAtomicLong> orders,
                      zk::recipes::DistributedAtomicLong::Create(
                          *client, env.root() + "/orders-handled",
                          {.retry = {.max_attempts = 100}}));
  for (int i = 0; i < kIncrementsEach; ++i) {
    ZK_ASSIGN_OR_RETURN(zk::recipes::AtomicResult result, orders->Increment());
    if (!result.succeeded) return absl::AbortedError("increment gave up after 100 attempts");
    posts.Update([&](std::set<int64_t>& seen) { seen.insert(result.post); });
  }
  return absl::OkStatus();
}

absl::Status Run(const zk_example::Env& env) {
  // 1. The atomic counter: four racing writers.
  zk_example::SharedState<std::set<int64_t>> posts;
  std::vector<absl::Status> results(kWorkers);
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&, i] { results[i] = CountOrders(env, posts); });
  }
  for (std::thread& worker : workers) worker.join();
  for (const absl::Status& result : results) ZK_RETURN_IF_ERROR(result);

  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::DistributedAtomicLong> orders,
                      zk::recipes::DistributedAtomicLong::Create(*client,
                                                                 env.root() + "/orders-handled"));
  ZK_ASSIGN_OR_RETURN(zk::recipes::AtomicResult total, orders->Get());
  std::printf("  %d workers x %d increments: the counter reads %lld\n", kWorkers,
              kIncrementsEach, static_cast<long long>(total.post));
  ZK_RETURN_IF_ERROR(zk_example::Claim(total.post == kWorkers * kIncrementsEach,
                                       "no increment lost or counted twice"));
  ZK_RETURN_IF_ERROR(zk_example::Claim(posts.Get().size() == kWorkers * kIncrementsEach,
                                       "every value 1..100 was handed to exactly one increment"));

  // 2. The shared count: an operator raises the slots, a worker hears it.
  const std::string slots_path = env.root() + "/worker-slots";
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> worker_client, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::SharedCount> worker_view,
                      zk::recipes::SharedCount::Create(*worker_client, slots_path, 2));
  zk_example::SharedState<int32_t> heard;
  zk::Subscription subscription =
      worker_view->AddListener([&heard](const zk::recipes::SharedCountEvent& event) {
        if (event.type == zk::recipes::SharedCountEventType::kCountChanged) {
          heard.Update([&](int32_t& value) { value = event.count.value; });
        }
      });
  ZK_RETURN_IF_ERROR(worker_view->Start(std::chrono::seconds(10)));

  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::SharedCount> operator_view,
                      zk::recipes::SharedCount::Create(*client, slots_path, 2));
  ZK_RETURN_IF_ERROR(operator_view->Start(std::chrono::seconds(10)));
  ZK_ASSIGN_OR_RETURN(zk::recipes::VersionedCount seen, operator_view->GetVersionedCount());
  ZK_ASSIGN_OR_RETURN(bool won, operator_view->TrySetCount(seen.value + 3, seen));
  ZK_RETURN_IF_ERROR(zk_example::Claim(won, "the operator's compare-and-set 2 -> 5 won"));
  // A second try with the old version must lose: someone (we) changed it since.
  ZK_ASSIGN_OR_RETURN(bool stale_won, operator_view->TrySetCount(100, seen));
  ZK_RETURN_IF_ERROR(zk_example::Claim(!stale_won, "a compare-and-set from a stale read loses"));
  const absl::Status heard_five =
      heard.WaitUntil("the worker hears 5 slots", [](const int32_t& value) { return value == 5; });
  std::printf("  the worker's listener last heard: %d slots\n", heard.Get());
  return zk_example::Claim(heard_five.ok(), "the worker's listener heard the new count, 5");
}

}  // namespace

int main(int argc, char** argv) { return zk_example::RunExample(argc, argv, "counters", Run); }
