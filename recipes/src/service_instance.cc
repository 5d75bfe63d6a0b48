// ServiceInstance's validation and its JSON in Curator's ServiceDiscovery layout
// (zk/recipes/service_instance.h).

#include "zk/recipes/service_instance.h"

#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "recipe_status.h"
#include "zk/path.h"

namespace zk::recipes {

using internal::Av;

namespace {

// Curator writes its payload with Jackson's type id in it: a Map payload reads
// {"@class":"java.util.LinkedHashMap","zone":"eu-1"}.
constexpr char kPayloadTypeIdKey[] = "@class";

}  // namespace

absl::Status ValidateServiceName(std::string_view what, std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat("service ", Av(what), " is empty"));
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("service ", Av(what), " \"", Av(name), "\": ", Av(why)));
  };
  if (name.find('/') != std::string_view::npos) return bad("must not contain '/'");
  if (name == "." || name == "..") return bad("must not be \".\" or \"..\"");
  if (name == "zookeeper") return bad("\"zookeeper\" is reserved");
  const std::string as_path = absl::StrCat("/", Av(name));
  if (absl::Status s = ValidatePath("register", as_path); !s.ok()) {
    return bad(std::string_view(s.message().data(), s.message().size()));
  }
  return absl::OkStatus();
}

absl::Status ValidateServiceInstance(const ServiceInstance& instance) {
  ZK_RETURN_IF_ERROR(ValidateServiceName("name", instance.name));
  ZK_RETURN_IF_ERROR(ValidateServiceName("id", instance.id));
  const std::string who = absl::StrCat("service instance ", instance.name, "/", instance.id);
  if (instance.address.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": address is empty"));
  }
  if (instance.port < 0 || instance.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, ": port ", instance.port, " is outside 0..65535"));
  }
  if (instance.tls_port && (*instance.tls_port < 0 || *instance.tls_port > 65535)) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, ": tls_port ", *instance.tls_port, " is outside 0..65535"));
  }
  if (instance.metadata.count(kPayloadTypeIdKey) != 0) {
    // Curator would take it for the payload's Java class.
    return absl::InvalidArgumentError(absl::StrCat(
        who, ": metadata key \"", kPayloadTypeIdKey, "\" is reserved (Curator's payload type id)"));
  }
  return absl::OkStatus();
}

std::string ServiceInstanceToJson(const ServiceInstance& instance) {
  nlohmann::json json = nlohmann::json::object();
  json["name"] = instance.name;
  json["id"] = instance.id;
  json["address"] = instance.address;
  json["port"] = instance.port;
  json["sslPort"] = instance.tls_port ? nlohmann::json(*instance.tls_port) : nlohmann::json();
  // No metadata: null, as Curator writes a null payload. A Curator consumer of payload class
  // Void casts whatever it reads to Void; an empty object would read as a Map and fail it.
  // With metadata: the plain object, without Jackson's "@class" type id (a Curator consumer of
  // payload class Map reads an object without one as a LinkedHashMap).
  if (instance.metadata.empty()) {
    json["payload"] = nullptr;
  } else {
    nlohmann::json payload = nlohmann::json::object();
    for (const auto& [key, value] : instance.metadata) payload[key] = value;
    json["payload"] = std::move(payload);
  }
  json["registrationTimeUTC"] = instance.registration_time_ms;
  json["serviceType"] = "DYNAMIC";
  json["uriSpec"] = nullptr;
  json["enabled"] = true;
  // Invalid UTF-8 is replaced rather than thrown about.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<ServiceInstance> ParseServiceInstance(std::string_view text) {
  const nlohmann::json json =
      nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError("service instance: malformed JSON");
  if (!json.is_object()) {
    return absl::InvalidArgumentError("service instance: JSON is not an object");
  }
  auto string_field = [&](const char* key, std::string& out) -> absl::Status {
    auto it = json.find(key);
    if (it == json.end() || !it->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("service instance: \"", key, "\" is missing or not a string"));
    }
    out = it->get<std::string>();
    return absl::OkStatus();
  };
  auto port_field = [&](const char* key, std::optional<int32_t>& out) -> absl::Status {
    auto it = json.find(key);
    if (it == json.end() || it->is_null()) return absl::OkStatus();
    if (!it->is_number_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat("service instance: \"", key, "\" is not an integer"));
    }
    const int64_t value = it->is_number_unsigned()
                              ? static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), 1u << 20))
                              : it->get<int64_t>();
    if (value < 0 || value > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("service instance: \"", key, "\" is outside 0..65535"));
    }
    out = static_cast<int32_t>(value);
    return absl::OkStatus();
  };
  ServiceInstance instance;
  ZK_RETURN_IF_ERROR(string_field("name", instance.name));
  ZK_RETURN_IF_ERROR(string_field("id", instance.id));
  ZK_RETURN_IF_ERROR(string_field("address", instance.address));
  std::optional<int32_t> port;
  ZK_RETURN_IF_ERROR(port_field("port", port));
  instance.port = port.value_or(0);
  ZK_RETURN_IF_ERROR(port_field("sslPort", instance.tls_port));
  if (auto it = json.find("payload"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) {
      return absl::InvalidArgumentError("service instance: \"payload\" is not an object");
    }
    for (auto field = it->begin(); field != it->end(); ++field) {
      if (field.key() == kPayloadTypeIdKey) continue;  // Jackson's type id, not metadata
      instance.metadata[field.key()] =
          field->is_string() ? field->get<std::string>()
                             : field->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  if (auto it = json.find("registrationTimeUTC"); it != json.end() && it->is_number_integer()) {
    instance.registration_time_ms =
        it->is_number_unsigned()
            ? static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX))
            : it->get<int64_t>();
  }
  return instance;
}

}  // namespace zk::recipes
