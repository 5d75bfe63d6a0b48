// zkcpp_discovery_bench: the local side of service discovery — what a client pays per lookup of
// its cached address list, with no round trip (Google Benchmark). Issue 5's target: ≥ 10 M
// ServiceCache::Instances() lookups per second per thread.
//
// The cache is loaded from an embedded server in-process (10 instances of one service), then
// left alone: the server is idle while the lookups run.
//
//   zkcpp_discovery_bench --benchmark_filter=Instances

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "zk/client.h"
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
void BM_ServiceProviderNext(benchmark::State& state) {
  static zk::recipes::ServiceProvider* provider =
      Check(zk::recipes::ServiceProvider::Create(*Loaded().cache, {}), "provider").release();
  for (auto _ : state) {
    absl::StatusOr<zk::recipes::ServiceInstance> picked = provider->Next();
    benchmark::DoNotOptimize(picked->port);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServiceProviderNext)->ThreadRange(1, 2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
