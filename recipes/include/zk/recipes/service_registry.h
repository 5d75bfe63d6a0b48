// zkcpp recipes — service registration (the writing half of service discovery).
//
// Overview. A service instance is an ephemeral node "<base>/<name>/<id>" holding its JSON in
// Curator's ServiceDiscovery layout (zk/recipes/service_instance.h), so Java services using
// Curator and C++ services using zkcpp discover each other.
//
// Register() returns an RAII Registration: the node exists while it lives. The registry keeps
// one desired-state map of its registrations and restores it after every reconnect: after a
// session loss the nodes are re-created in the new session; a node left by an older session of
// ours (recognised by its ephemeralOwner) is replaced. Update() changes the instance's data;
// destroying the Registration (or Unregister()) deletes the node.
//
//   ZK_ASSIGN_OR_RETURN(auto registry, zk::recipes::ServiceRegistry::Create(*client, "/services"));
//   ZK_ASSIGN_OR_RETURN(auto registration, registry->Register({.name = "billing", .id = "b-1",
//                                                              .address = "10.0.0.7",
//                                                              .port = 8080}));
//   ...  // serve; `registration` going out of scope unregisters
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client; Registrations must not
// outlive their registry.

#ifndef ZK_RECIPES_SERVICE_REGISTRY_H_
#define ZK_RECIPES_SERVICE_REGISTRY_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "zk/client.h"
#include "zk/recipes/children_cache.h"
#include "zk/recipes/service_instance.h"

namespace zk::recipes {

struct ServiceRegistryOptions {
  // Deadline of the blocking calls (Register, Update, Unregister). Default: the client's
  // negotiated session timeout, at least 5 s.
  std::optional<std::chrono::milliseconds> timeout;
};

// What a registry has done since it was created (ServiceRegistry::Metrics()).
struct ServiceRegistryMetrics {
  // Live Registrations (registered, not yet unregistered).
  size_t registrations = 0;
  // Times an instance's node was created again after it had existed: re-created in a new
  // session after a session loss, or after someone deleted it.
  uint64_t restores = 0;
};

// Registers service instances and keeps them registered. Thread-safe.
class ServiceRegistry {
 public:
  class Registration;

  // Creates the registry; no I/O. Errors: InvalidArgument (bad base path).
  static absl::StatusOr<std::unique_ptr<ServiceRegistry>> Create(
      Client& client, std::string_view base_path, ServiceRegistryOptions options = {});
  // Stops restoring registrations (their nodes stay until unregistered or the session ends).
  ~ServiceRegistry();
  ServiceRegistry(const ServiceRegistry&) = delete;
  ServiceRegistry& operator=(const ServiceRegistry&) = delete;

  // Creates the instance's node (and missing parents) and returns once it exists.
  // Errors: InvalidArgument (ValidateServiceInstance); AlreadyExists if this registry already
  // registers that name/id; DeadlineExceeded; the client's errors. On error nothing stays
  // registered. Threading: not from an inline callback (FailedPrecondition).
  absl::StatusOr<std::unique_ptr<Registration>> Register(ServiceInstance instance);

  // Returns the registered service names (the children of the base path). One round trip.
  absl::StatusOr<std::vector<std::string>> ServiceNames();
  // Returns a started cache of the service names (names only), kept current by a watch.
  absl::StatusOr<std::unique_ptr<ChildrenCache>> WatchServiceNames();

  const std::string& base_path() const { return base_path_; }
  // Returns "<base>/<name>" and "<base>/<name>/<id>".
  std::string ServicePath(std::string_view name) const;
  std::string InstancePath(std::string_view name, std::string_view id) const;

  // Returns the counts so far (zk/recipes/prometheus.h renders them). Cheap: no round trip.
  // Threading: any thread.
  ServiceRegistryMetrics Metrics() const;

 private:
  struct State;  // the registrations kept alive, shared with their restoring continuations
  ServiceRegistry(Client& client, std::string base_path, std::chrono::milliseconds timeout);

  Client& client_;
  const std::string base_path_;
  const std::chrono::milliseconds timeout_;
  std::shared_ptr<State> state_;
};

// One registered instance: its node exists (or is being restored) while this lives. Move-only
// through its unique_ptr. Thread-safe.
class ServiceRegistry::Registration {
 public:
  // Unregisters (deletes the node; waits for that at most the registry's timeout, and not at all
  // on an inline callback thread, where the delete goes on in the background).
  ~Registration();
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  // Replaces the instance's data (address, ports, metadata; name and id must not change) and
  // returns once the node holds it. Errors: InvalidArgument, FailedPrecondition (unregistered),
  // DeadlineExceeded, the client's errors.
  absl::Status Update(ServiceInstance instance);
  // Deletes the node now (a delete that ends in a connection loss or a missed deadline is sent
  // again), and stops restoring it. Idempotent. On an inline callback thread it returns OK at
  // once and the deletion goes on in the background.
  // Errors: DeadlineExceeded (deletion continues in the background), the client's errors.
  absl::Status Unregister();

  ServiceInstance instance() const;
  const std::string& path() const { return path_; }

 private:
  friend class ServiceRegistry;
  Registration(std::shared_ptr<State> state, std::string path, ServiceInstance instance,
               std::chrono::milliseconds timeout);

  struct Current;  // the instance as last updated, and whether it is still registered

  const std::shared_ptr<State> state_;
  const std::string path_;
  const std::chrono::milliseconds timeout_;
  const std::unique_ptr<Current> current_;
  // Set by Unregister before its removal is queued; an Update queued before it but run after
  // must not register the node again.
  const std::shared_ptr<std::atomic<bool>> unregistered_ =
      std::make_shared<std::atomic<bool>>(false);
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_SERVICE_REGISTRY_H_
