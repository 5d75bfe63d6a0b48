// zkcpp example: metrics a Prometheus server can scrape (zk/prometheus.h,
// zk/recipes/prometheus.h).
//
// A client takes and releases a lock a few times; then the client's and the lock's metrics are
// written into one exposition in the Prometheus text format and printed, as a /metrics handler
// of yours would return it (serving it over HTTP is left to your server of choice). It checks
// that the exposition counts what was done.
//
// Run: zkcpp-example-metrics                     (an embedded server in-process)
//      zkcpp-example-metrics --connect=host:2181  (a real ensemble)

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "example_main.h"
#include "zk/prometheus.h"
#include "zk/recipes/lock.h"
#include "zk/recipes/prometheus.h"

namespace {

constexpr int kCycles = 3;

absl::Status Run(const zk_example::Env& env) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Lock> lock,
                      zk::recipes::Lock::Create(*client, env.root() + "/orders-lock"));
  for (int i = 0; i < kCycles; ++i) {
    ZK_ASSIGN_OR_RETURN(zk::recipes::LockGuard guard, lock->Acquire(std::chrono::seconds(10)));
    ZK_RETURN_IF_ERROR(guard.Release());
  }

  // One exposition for everything this process exports; the labels tell the sources apart.
  zk::PrometheusText text;
  ZK_RETURN_IF_ERROR(zk::AppendMetrics(text, client->Metrics(), {{"client", "orders"}}));
  ZK_RETURN_IF_ERROR(zk::recipes::AppendMetrics(text, lock->Metrics(), {{"lock", "orders"}}));
  const std::string exposition = text.Text();
  std::printf("%s", exposition.c_str());

  const zk::recipes::LockMetrics m = lock->Metrics();
  ZK_RETURN_IF_ERROR(zk_example::Claim(m.acquired == kCycles && m.hold.count == kCycles,
                                       "the lock's metrics count every acquisition and release"));
  return zk_example::Claim(
      exposition.find("zkcpp_lock_acquired_total{lock=\"orders\"} " + std::to_string(kCycles) +
                      "\n") != std::string::npos,
      "the exposition says so");
}

}  // namespace

int main(int argc, char** argv) { return zk_example::RunExample(argc, argv, "metrics", Run); }
