// zkcpp recipes — a service instance (what service discovery registers and finds) and its JSON.
//
// An instance is stored (by ServiceRegistry) as JSON in Curator's ServiceDiscovery layout, so
// Java services using Curator and C++ services using zkcpp discover each other:
//   {"name":"billing","id":"b-1","address":"10.0.0.7","port":8080,"sslPort":8443,
//    "payload":{"zone":"eu-1"},"registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC",
//    "enabled":true}
// (`payload` holds the metadata as a JSON object of strings, which a Curator consumer of payload
// class Map reads; an instance without metadata has `"payload":null`, which every Curator
// consumer reads, also one of payload class Void. Reading, the "@class" type id that Curator's
// Jackson puts in a Map payload is not metadata. A Void consumer of Curator fails on any
// instance that has metadata, Curator's own included: give metadata only to services whose
// Curator consumers use Map.)
//
// ServiceRegistry writes it, ServiceCache and ServiceProvider read it; the functions below let
// tools read and write the same layout without either.

#ifndef ZK_RECIPES_SERVICE_INSTANCE_H_
#define ZK_RECIPES_SERVICE_INSTANCE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zk::recipes {

// One instance of a service.
struct ServiceInstance {
  std::string name;     // the service: a path segment (no '/', not "." or "..")
  std::string id;       // unique within the service: a path segment
  std::string address;  // host name or IP; required
  int32_t port = 0;     // 0..65535
  std::optional<int32_t> tls_port;             // Curator's sslPort
  std::map<std::string, std::string> metadata;  // Curator's payload; key "@class" is reserved
  int64_t registration_time_ms = 0;  // ms since the Unix epoch; 0: set by Register()
  friend bool operator==(const ServiceInstance&, const ServiceInstance&) = default;
};

// Returns OK if `instance` can be registered, else InvalidArgument naming the problem.
absl::Status ValidateServiceInstance(const ServiceInstance& instance);
// Returns OK if `name` can be a service name (or instance id): a valid path segment.
absl::Status ValidateServiceName(std::string_view what, std::string_view name);
// Returns the instance's JSON (Curator's layout).
std::string ServiceInstanceToJson(const ServiceInstance& instance);
// Parses Curator-layout JSON. Errors: InvalidArgument for malformed JSON or missing/ill-typed
// fields (never throws, never crashes on any input).
absl::StatusOr<ServiceInstance> ParseServiceInstance(std::string_view json);

}  // namespace zk::recipes

#endif  // ZK_RECIPES_SERVICE_INSTANCE_H_
