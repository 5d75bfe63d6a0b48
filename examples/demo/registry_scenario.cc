// zkcpp-demo, scenario 1: service registry and discovery.
//
// Three instances of an "inventory" service register their endpoints (ServiceRegistry: one
// ephemeral node each, Curator's JSON). The "checkout" service discovers them through a
// ServiceCache (a local list kept current by watches) and calls them round-robin
// (ServiceProvider), without a round trip per call. Then one inventory instance dies: its
// session ends, its node goes, and checkout's list shrinks while it runs: no restart, no
// polling, and no further call goes to the dead instance.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "demo/demo.h"
#include "zk/client.h"
#include "zk/recipes/service_cache.h"
#include "zk/recipes/service_provider.h"
#include "zk/recipes/service_registry.h"

namespace zkcpp_demo {

namespace {

using zk::recipes::ServiceCache;
using zk::recipes::ServiceDelta;
using zk::recipes::ServiceInstance;
using zk::recipes::ServiceProvider;
using zk::recipes::ServiceRegistry;

constexpr char kService[] = "inventory";
constexpr int kProviders = 3;

// One inventory instance: a process with its own session. Members are destroyed bottom-up:
// the registration before its registry, the registry before its client.
struct Provider {
  std::unique_ptr<zk::Client> client;
  std::unique_ptr<ServiceRegistry> registry;
  std::unique_ptr<ServiceRegistry::Registration> registration;
};

std::string Endpoint(const ServiceInstance& instance) {
  return absl::StrCat(instance.address, ":", instance.port);
}

void SayInstances(const char* who, const ServiceCache& cache) {
  std::shared_ptr<const std::vector<ServiceInstance>> instances = cache.Instances();
  Say("%s's cached list (%zu instances):", who, instances->size());
  for (const ServiceInstance& instance : *instances) {
    const auto zone = instance.metadata.find("zone");
    Say("  %-12s %-15s zone=%s", instance.id.c_str(), Endpoint(instance).c_str(),
        zone == instance.metadata.end() ? "?" : zone->second.c_str());
  }
}

// Makes `calls` calls through `provider`, prints which instance each one picked, and counts
// the picks per instance id.
absl::Status Call(ServiceProvider& provider, int first_call, int calls,
                  std::map<std::string, int>& picks) {
  for (int call = first_call; call < first_call + calls; ++call) {
    ZK_ASSIGN_OR_RETURN(ServiceInstance target, provider.Next());
    Say("call %2d -> %s (%s)", call, target.id.c_str(), Endpoint(target).c_str());
    ++picks[target.id];
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RunRegistryScenario(const DemoContext& context) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ScenarioRoot> root,
                      ScenarioRoot::Create(context, "registry"));
  const std::string services = root->Child("services");

  // 1. Three inventory instances come up and register themselves.
  const char* const zones[kProviders] = {"eu-1", "eu-2", "us-1"};
  std::vector<Provider> providers(kProviders);
  for (int i = 0; i < kProviders; ++i) {
    const std::string id = absl::StrCat(kService, "-", i + 1);
    Provider& provider = providers[i];
    ZK_ASSIGN_OR_RETURN(provider.client, ConnectClient(context, id));
    ZK_ASSIGN_OR_RETURN(provider.registry, ServiceRegistry::Create(*provider.client, services));
    ZK_ASSIGN_OR_RETURN(provider.registration,
                        provider.registry->Register({.name = kService,
                                                     .id = id,
                                                     .address = absl::StrCat("10.0.0.", 11 + i),
                                                     .port = 8080,
                                                     .metadata = {{"zone", zones[i]}}}));
    Say("%s registered %s (session %s)", id.c_str(),
        Endpoint(provider.registration->instance()).c_str(),
        Hex(provider.client->session_id()).c_str());
  }

  // 2. The checkout service starts and discovers them. Its listener keeps the set of ids the
  // cache reported, so the scenario can wait for a change instead of sleeping.
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> checkout, ConnectClient(context, "checkout"));
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ServiceCache> cache,
                      ServiceCache::Create(*checkout, services, kService));
  std::mutex mu;
  std::condition_variable cv;
  // Both guarded by mu.
  std::set<std::string> listed;
  std::map<std::string, std::chrono::steady_clock::time_point> removed_at;
  // Added before Start(), so the initial load arrives as additions too.
  zk::Subscription subscription = cache->AddListener([&](const ServiceDelta& delta) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu);
    for (const ServiceInstance& instance : delta.added) listed.insert(instance.id);
    for (const ServiceInstance& instance : delta.removed) {
      listed.erase(instance.id);
      removed_at.emplace(instance.id, now);
    }
    cv.notify_all();
  });
  ZK_RETURN_IF_ERROR(cache->Start());
  ZK_RETURN_IF_ERROR(cache->WaitUntilLoaded(kWaitTimeout));
  {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, kWaitTimeout, [&] { return listed.size() == kProviders; })) {
      return ClaimFailed(
          absl::StrCat("checkout discovers ", kProviders, " instances; it saw ", listed.size()));
    }
  }
  SayInstances("checkout", *cache);

  // 3. Calls go round-robin over the cached list: no ZooKeeper round trip per call.
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ServiceProvider> provider,
                      ServiceProvider::Create(*cache, {}));
  std::map<std::string, int> picks_before;
  ZK_RETURN_IF_ERROR(Call(*provider, 1, 2 * kProviders, picks_before));
  for (const Provider& p : providers) {
    const std::string& id = p.registration->instance().id;
    if (picks_before[id] != 2) {
      return ClaimFailed(absl::StrCat("round-robin gives each instance 2 of 6 calls; ", id, " got ",
                                      picks_before[id]));
    }
  }

  // 4. inventory-2 dies. Closing its client ends its session like a process exit would; its
  // ephemeral node goes with the session, and checkout's watch reports the removal.
  const std::string dead = providers[1].registration->instance().id;
  Say("%s dies (its process exits; its session ends with it)", dead.c_str());
  const auto killed = std::chrono::steady_clock::now();
  providers[1].client->Close();
  std::chrono::steady_clock::time_point removed;
  {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, kWaitTimeout, [&] { return removed_at.count(dead) > 0; })) {
      return ClaimFailed(absl::StrCat("checkout's cache drops ", dead, " by itself"));
    }
    removed = removed_at[dead];
  }
  Say("checkout's listener: %s removed, %.1f ms after the death", dead.c_str(),
      Millis(killed, removed));
  SayInstances("checkout", *cache);
  if (cache->Instances()->size() != kProviders - 1) {
    return ClaimFailed(absl::StrCat("the list shrinks to ", kProviders - 1, " instances; it has ",
                                    cache->Instances()->size()));
  }

  // 5. The same provider object goes on, now over the two live instances.
  constexpr int kCallsAfter = 4;
  std::map<std::string, int> picks_after;
  ZK_RETURN_IF_ERROR(Call(*provider, 2 * kProviders + 1, kCallsAfter, picks_after));
  if (picks_after.count(dead) > 0) {
    return ClaimFailed(absl::StrCat("no call goes to the dead ", dead));
  }
  if (picks_after.size() != kProviders - 1) {
    return ClaimFailed("the calls go round-robin over both live instances");
  }
  Say("ok: %d instances found; the list shrank %d -> %d without a restart; no call went to %s",
      kProviders, kProviders, kProviders - 1, dead.c_str());
  return absl::StrCat("list ", kProviders, " -> ", kProviders - 1, " in ",
                      absl::StrFormat("%.1f", Millis(killed, removed)),
                      " ms after a provider died; ", 2 * kProviders + kCallsAfter,
                      " calls round-robin, none to the dead one");
}

}  // namespace zkcpp_demo
