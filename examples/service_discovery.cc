// zkcpp example: service discovery (zk::recipes::ServiceRegistry, ServiceCache, ServiceProvider).
//
// Two "billing" servers, each with its own client, register themselves; a consumer keeps the list
// of billing instances in a ServiceCache (a listener prints the changes) and picks one per call
// with a round-robin ServiceProvider. It checks that picks alternate between the two, that an
// instance reported failing is skipped, and that a server's unregistering reaches the consumer's
// cache.
//
// Run: zkcpp-example-service-discovery                     (an embedded server in-process)
//      zkcpp-example-service-discovery --connect=host:2181  (a real ensemble)

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "example_main.h"
#include "zk/recipes/service_cache.h"
#include "zk/recipes/service_provider.h"
#include "zk/recipes/service_registry.h"

namespace {

using zk::recipes::ServiceInstance;
using zk::recipes::ServiceRegistry;

absl::Status Run(const zk_example::Env& env) {
  const std::string base = env.root() + "/services";
  // The servers: each registers its instance; the Registration unregisters when destroyed.
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> server_1, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> server_2, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ServiceRegistry> registry_1,
                      ServiceRegistry::Create(*server_1, base));
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ServiceRegistry> registry_2,
                      ServiceRegistry::Create(*server_2, base));
  ZK_ASSIGN_OR_RETURN(
      auto registration_1,
      registry_1->Register({.name = "billing", .id = "b-1", .address = "10.0.0.1", .port = 8080}));
  ZK_ASSIGN_OR_RETURN(
      auto registration_2,
      registry_2->Register({.name = "billing", .id = "b-2", .address = "10.0.0.2", .port = 8080}));

  // The consumer: a cache of the billing instances and a provider picking from it.
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> consumer, env.Connect());
  ZK_ASSIGN_OR_RETURN(auto cache, zk::recipes::ServiceCache::Create(*consumer, base, "billing"));
  zk_example::SharedState<int> removed;
  zk::Subscription changes = cache->AddListener([&](const zk::recipes::ServiceDelta& delta) {
    for (const ServiceInstance& i : delta.added) std::printf("  [cache] + %s\n", i.id.c_str());
    for (const ServiceInstance& i : delta.removed) std::printf("  [cache] - %s\n", i.id.c_str());
    removed.Update([&](int& n) { n += static_cast<int>(delta.removed.size()); });
  });
  ZK_RETURN_IF_ERROR(cache->Start());
  ZK_RETURN_IF_ERROR(cache->WaitUntilLoaded(std::chrono::seconds(10)));
  ZK_ASSIGN_OR_RETURN(auto provider,
                      zk::recipes::ServiceProvider::Create(*cache, {.failures_to_mark_down = 2}));

  std::map<std::string, int> picks;
  for (int i = 0; i < 4; ++i) {
    ZK_ASSIGN_OR_RETURN(ServiceInstance target, provider->Next());
    ++picks[target.id];
  }
  std::printf("  4 picks: b-1 x%d, b-2 x%d\n", picks["b-1"], picks["b-2"]);
  ZK_RETURN_IF_ERROR(zk_example::Claim(picks["b-1"] == 2 && picks["b-2"] == 2,
                                       "round robin alternates between the two instances"));

  // Calls to b-1 fail twice: it is marked down and skipped.
  const ServiceInstance b1 = registration_1->instance();
  provider->ReportFailure(b1);
  provider->ReportFailure(b1);
  ZK_ASSIGN_OR_RETURN(ServiceInstance a, provider->Next());
  ZK_ASSIGN_OR_RETURN(ServiceInstance b, provider->Next());
  ZK_RETURN_IF_ERROR(zk_example::Claim(provider->IsDown(b1) && a.id == "b-2" && b.id == "b-2",
                                       "a failing instance is skipped"));

  // b-2 shuts down: its node goes, and the consumer's cache follows.
  std::printf("  b-2 unregisters\n");
  registration_2.reset();
  ZK_RETURN_IF_ERROR(removed.WaitUntil("the cache hears of it", [](int n) { return n == 1; }));
  ZK_RETURN_IF_ERROR(zk_example::Claim(cache->Instances()->size() == 1, "the cache saw b-2 leave"));
  absl::Status none = provider->Next().status();
  std::printf("  next pick, with b-1 down and b-2 gone: %s\n", none.ToString().c_str());
  return zk_example::Claim(absl::IsUnavailable(none), "no instance is handed out then");
}

}  // namespace

int main(int argc, char** argv) {
  return zk_example::RunExample(argc, argv, "service_discovery", Run);
}
