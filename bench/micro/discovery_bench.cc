// zkcpp_discovery_bench: the local side of service discovery — what a client pays per lookup of
// its cached address list, with no round trip (Google Benchmark). Issue 5's target: ≥ 10 M
// ServiceCache::Instances() lookups per second per thread; issue 16's: the same on 2 threads
// for Instances(), ServiceProvider::Next() and the caches' reads (NodeCache::Current(),
// ChildrenCache::Snapshot()).
//
// The cache is loaded from an embedded server in-process (10 instances of one service), then
// left alone: the server is idle while the lookups run.
//
// After Google Benchmark's own output a summary prints, per benchmark, the rate per thread on
// 1 and 2 threads — by wall-clock time and by CPU time (on a loaded machine a thread that is
// descheduled loses wall time but no CPU time) — and the 2-thread / 1-thread ratio of each
// (1.0: reads scale; well below: the threads contend). With --benchmark_repetitions the
// median of the repetitions is shown.
//
//   zkcpp_discovery_bench --benchmark_filter=Instances

#include <algorithm>
#include <map>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "zk/client.h"
#include "zk/recipes/children_cache.h"
#include "zk/recipes/node_cache.h"
#include "zk/recipes/service_cache.h"
#include "zk/recipes/service_provider.h"
#include "zk/recipes/service_registry.h"
#include "zk/testing/embedded_server.h"

namespace {

constexpr int kInstances = 10;

// One server, one registering client, one discovering client and its cache, for the process.
struct Fixture {
  std::unique_ptr<zk::testing::EmbeddedServer> server;
  std::unique_ptr<zk::Client> registering;
  std::unique_ptr<zk::recipes::ServiceRegistry> registry;
  std::vector<std::unique_ptr<zk::recipes::ServiceRegistry::Registration>> registrations;
  std::unique_ptr<zk::Client> discovering;
  std::unique_ptr<zk::recipes::ServiceCache> cache;
  std::unique_ptr<zk::recipes::NodeCache> node;          // of one instance's node
  std::unique_ptr<zk::recipes::ChildrenCache> children;  // of the service's directory
};

void Check(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "discovery_bench: %s: %s\n", what, status.ToString().c_str());
  std::abort();
}
template <typename T>
T Check(absl::StatusOr<T> value, const char* what) {
  Check(value.status(), what);
  return *std::move(value);
}

Fixture& Loaded() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    f->server = Check(zk::testing::EmbeddedServer::Start(), "start server");
    const zk::ClientOptions options{.connect_string = f->server->connect_string()};
    f->registering = Check(zk::Client::Connect(options), "connect");
    f->registry =
        Check(zk::recipes::ServiceRegistry::Create(*f->registering, "/services"), "registry");
    for (int i = 0; i < kInstances; ++i) {
      f->registrations.push_back(Check(
          f->registry->Register({.name = "billing",
                                 .id = "b-" + std::to_string(i),
                                 .address = "10.0.0." + std::to_string(i + 1),
                                 .port = 8080,
                                 .metadata = {{"zone", "eu-" + std::to_string(i % 3)}}}),
          "register"));
    }
    f->discovering = Check(zk::Client::Connect(options), "connect");
    f->cache = Check(zk::recipes::ServiceCache::Create(*f->discovering, "/services", "billing"),
                     "cache");
    Check(f->cache->Start(), "cache start");
    Check(f->cache->WaitUntilLoaded(std::chrono::seconds(10)), "cache load");
    f->node = Check(zk::recipes::NodeCache::Create(*f->discovering, "/services/billing/b-0"),
                    "node cache");
    Check(f->node->Start(), "node cache start");
    Check(f->node->WaitUntilLoaded(std::chrono::seconds(10)), "node cache load");
    f->children =
        Check(zk::recipes::ChildrenCache::Create(*f->discovering, "/services/billing"), "children");
    Check(f->children->Start(), "children cache start");
    Check(f->children->WaitUntilLoaded(std::chrono::seconds(10)), "children cache load");
    if (f->cache->Instances()->size() != kInstances) {
      std::fprintf(stderr, "discovery_bench: cache holds %zu instances\n",
                   f->cache->Instances()->size());
      std::abort();
    }
    return f;
  }();
  return *fixture;
}

// The lookup the issue targets: the immutable snapshot of the address list.
void BM_ServiceCacheInstances(benchmark::State& state) {
  const zk::recipes::ServiceCache& cache = *Loaded().cache;
  for (auto _ : state) {
    std::shared_ptr<const zk::recipes::ServiceInstances> all = cache.Instances();
    benchmark::DoNotOptimize(all->front().port);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServiceCacheInstances)->ThreadRange(1, 2)->UseRealTime();

// Picking one instance (round robin, down-instance policy on): a copy of the chosen instance.
zk::recipes::ServiceProvider& Provider() {
  static zk::recipes::ServiceProvider* provider =
      Check(zk::recipes::ServiceProvider::Create(*Loaded().cache, {}), "provider").release();
  return *provider;
}

void BM_ServiceProviderNext(benchmark::State& state) {
  zk::recipes::ServiceProvider& provider = Provider();
  for (auto _ : state) {
    absl::StatusOr<zk::recipes::ServiceInstance> picked = provider.Next();
    benchmark::DoNotOptimize(picked->port);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServiceProviderNext)->ThreadRange(1, 2)->UseRealTime();

// The same pick without the copy: a pointer into the cache's snapshot.
void BM_ServiceProviderNextShared(benchmark::State& state) {
  zk::recipes::ServiceProvider& provider = Provider();
  for (auto _ : state) {
    absl::StatusOr<std::shared_ptr<const zk::recipes::ServiceInstance>> picked =
        provider.NextShared();
    benchmark::DoNotOptimize((*picked)->port);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServiceProviderNextShared)->ThreadRange(1, 2)->UseRealTime();

void BM_NodeCacheCurrent(benchmark::State& state) {
  const zk::recipes::NodeCache& cache = *Loaded().node;
  for (auto _ : state) {
    std::shared_ptr<const zk::recipes::NodeData> now = cache.Current();
    benchmark::DoNotOptimize(now->stat.mzxid);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NodeCacheCurrent)->ThreadRange(1, 2)->UseRealTime();

void BM_ChildrenCacheSnapshot(benchmark::State& state) {
  const zk::recipes::ChildrenCache& cache = *Loaded().children;
  for (auto _ : state) {
    std::shared_ptr<const zk::recipes::ChildrenSnapshot> now = cache.Snapshot();
    benchmark::DoNotOptimize(now->size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChildrenCacheSnapshot)->ThreadRange(1, 2)->UseRealTime();

// Google Benchmark's console output, then the per-thread summary (see the top of the file).
class PerThreadSummary : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred || run.iterations == 0) continue;
      const double per_thread = static_cast<double>(run.iterations) / run.threads;
      Rates& rates = rates_[run.run_name.function_name][run.threads];
      rates.wall.push_back(per_thread / run.real_accumulated_time / 1e6);
      rates.cpu.push_back(static_cast<double>(run.iterations) / run.cpu_accumulated_time / 1e6);
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nM lookups/s per thread (median of the repetitions)\n");
    std::printf("%-40s  wall: 1 thr  2 thr   2/1  |  cpu: 1 thr  2 thr   2/1\n", "");
    for (auto& [name, by_threads] : rates_) {
      if (by_threads.count(1) == 0 || by_threads.count(2) == 0) continue;
      Rates& one = by_threads[1];
      Rates& two = by_threads[2];
      const double w1 = Median(one.wall), w2 = Median(two.wall);
      const double c1 = Median(one.cpu), c2 = Median(two.cpu);
      std::printf("%-40s       %6.1f %6.1f %5.2f  |       %6.1f %6.1f %5.2f\n", name.c_str(), w1, w2,
                  w2 / w1, c1, c2, c2 / c1);
    }
  }

 private:
  struct Rates {
    std::vector<double> wall;
    std::vector<double> cpu;
  };
  static double Median(std::vector<double>& v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  std::map<std::string, std::map<int64_t, Rates>> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  PerThreadSummary reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
