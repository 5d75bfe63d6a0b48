// zkcpp services <base_path> [<service>] [--watch [--count=N]]: the service instances
// registered under a base path (zk::recipes::ServiceRegistry's Curator layout).
//
// Without --watch: one listing read directly (each service, then its instances sorted by id).
// With --watch: one zk::recipes::ServiceCache per service (new services are picked up as they
// appear), printing every added / removed / updated instance; the instances present at start
// come first, as "added".

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/event_stream.h"
#include "cli/format.h"
#include "cli/interrupt.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "cli/session.h"
#include "zk/path.h"
#include "zk/recipes/children_cache.h"
#include "zk/recipes/service_cache.h"
#include "zk/recipes/service_registry.h"

namespace zk::cli {
namespace {

using recipes::ServiceInstance;

// Reads the instances of service `name`, sorted by id. Malformed ones are noted and skipped;
// one deleted while we read is left out.
absl::StatusOr<std::vector<ServiceInstance>> ReadInstances(Client& client,
                                                           recipes::ServiceRegistry& registry,
                                                           const std::string& name, Output& out) {
  const std::string service_path = registry.ServicePath(name);
  ZK_ASSIGN_OR_RETURN(ChildrenResult children, client.GetChildren(service_path));
  std::sort(children.children.begin(), children.children.end());
  std::vector<ServiceInstance> instances;
  for (const std::string& id : children.children) {
    const std::string path = JoinPath(service_path, id);
    absl::StatusOr<GetResult> got = client.Get(path);
    if (IsNoNode(got.status())) continue;
    if (!got.ok()) return got.status();
    absl::StatusOr<ServiceInstance> instance = recipes::ParseServiceInstance(got->data);
    if (!instance.ok()) {
      out.Note(absl::StrCat("services ", path, ": skipped, not a service instance (",
                            instance.status().message(), ")"));
      continue;
    }
    instances.push_back(*std::move(instance));
  }
  return instances;
}

CommandResult ListServices(const Invocation& invocation, Client& client,
                           recipes::ServiceRegistry& registry, Output& out) {
  const bool one_service = invocation.args.size() > 1;
  std::vector<std::string> names;
  if (one_service) {
    names.push_back(invocation.args[1]);
  } else {
    ZK_ASSIGN_OR_RETURN(names, registry.ServiceNames());
    std::sort(names.begin(), names.end());
  }
  for (const std::string& name : names) {
    absl::StatusOr<std::vector<ServiceInstance>> instances =
        ReadInstances(client, registry, name, out);
    if (IsNoNode(instances.status()) && !one_service) continue;  // removed while we list
    if (!instances.ok()) return instances.status();
    Json list = Json::array();
    std::string text = name;
    for (const ServiceInstance& instance : *instances) {
      list.push_back(InstanceJson(instance));
      absl::StrAppend(&text, "\n  ", InstanceText(instance));
    }
    out.Emit({{"service", name}, {"instances", list}}, text);
  }
  return 0;
}

// The --watch mode: one ServiceCache per service, the printing of their deltas, and when to
// stop. Thread-safe.
class ServiceWatcher {
 public:
  ServiceWatcher(Client& client, const std::string& base_path, Output& out, int64_t count)
      : client_(client), base_path_(base_path), out_(out), stream_(out, count) {}

  // Starts watching service `name` (a no-op if already watched).
  void Watch(const std::string& name) {
    std::lock_guard<std::mutex> lock(caches_mu_);
    if (caches_.contains(name)) return;
    absl::StatusOr<std::unique_ptr<recipes::ServiceCache>> cache = recipes::ServiceCache::Create(
        client_, base_path_, name,
        {.on_warning = [this](std::string_view message) { out_.Note(message); }});
    if (!cache.ok()) {
      out_.Error(cache.status());
      return;
    }
    Entry& entry = caches_[name];
    entry.cache = *std::move(cache);
    entry.subscription = entry.cache->AddListener(
        [this, name](const recipes::ServiceDelta& delta) { Print(name, delta); });
    if (absl::Status started = entry.cache->Start(); !started.ok()) Fail(started);
  }
  void Stop() { stream_.Stop(); }
  void Fail(absl::Status status) { stream_.Fail(std::move(status)); }
  // Waits until stopped, `count` events were printed, or a failure (returned).
  absl::Status Wait() { return stream_.Wait(); }

 private:
  struct Entry {
    std::unique_ptr<recipes::ServiceCache> cache;
    Subscription subscription;  // destroyed first
  };

  void Print(const std::string& name, const recipes::ServiceDelta& delta) {
    for (const ServiceInstance& instance : delta.added) PrintOne("added", name, instance);
    for (const ServiceInstance& instance : delta.removed) PrintOne("removed", name, instance);
    for (const auto& [before, after] : delta.updated) PrintOne("updated", name, after);
  }
  void PrintOne(const char* event, const std::string& name, const ServiceInstance& instance) {
    stream_.Emit({{"event", event}, {"service", name}, {"instance", InstanceJson(instance)}},
                 absl::StrCat(event, " ", name, "/", InstanceText(instance)));
  }

  Client& client_;
  const std::string base_path_;
  Output& out_;
  EventStream stream_;
  std::mutex caches_mu_;  // never taken by a cache listener
  std::map<std::string, Entry> caches_;  // guarded by caches_mu_
};

CommandResult WatchServices(const Invocation& invocation, Client& client,
                            recipes::ServiceRegistry& registry, Output& out) {
  Subscription session = ReportSessionEvents(client, out);
  ServiceWatcher watcher(client, registry.base_path(), out, invocation.options.count);
  // Destroyed before `watcher`: no name arrives while the service caches go.
  std::unique_ptr<recipes::ChildrenCache> names;
  Subscription names_listener;
  if (invocation.args.size() > 1) {
    watcher.Watch(invocation.args[1]);
  } else {
    // The service names, as a cache whose listener is added before it starts: the names
    // present at start arrive as additions too, so that only this listener calls Watch.
    ZK_ASSIGN_OR_RETURN(
        names, recipes::ChildrenCache::Create(client, registry.base_path(), {.cache_data = false}));
    names_listener = names->AddListener([&](const recipes::ChildrenDelta& delta) {
      for (const recipes::ChildData& child : delta.added) watcher.Watch(child.name);
    });
    ZK_RETURN_IF_ERROR(names->Start());
  }
  InterruptScope interrupt([&](int) { watcher.Stop(); });
  out.Note(absl::StrCat("watching services under ", registry.base_path()));
  const absl::Status ended = watcher.Wait();
  names_listener.Cancel();
  names.reset();
  if (!ended.ok()) return ended;
  return 0;
}

}  // namespace

CommandResult RunServices(const Invocation& invocation, Client& client, Output& out) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<recipes::ServiceRegistry> registry,
                      recipes::ServiceRegistry::Create(client, invocation.args[0]));
  if (invocation.args.size() > 1) {
    ZK_RETURN_IF_ERROR(recipes::ValidateServiceName("service", invocation.args[1]));
  }
  if (invocation.options.watch) return WatchServices(invocation, client, *registry, out);
  if (invocation.options.count > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("services ", invocation.args[0], ": --count applies only with --watch"));
  }
  return ListServices(invocation, client, *registry, out);
}

}  // namespace zk::cli
