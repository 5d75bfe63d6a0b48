#include "cli/format.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace zk::cli {
namespace {

absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string TimeText(int64_t ms) {
  return absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone()), " (",
      ms, ")");
}

}  // namespace

Json StatJson(const Stat& stat) {
  return {
      {"czxid", stat.czxid},
      {"mzxid", stat.mzxid},
      {"pzxid", stat.pzxid},
      {"ctime", stat.ctime},
      {"mtime", stat.mtime},
      {"version", stat.version},
      {"cversion", stat.cversion},
      {"aversion", stat.aversion},
      {"ephemeral_owner", stat.ephemeral_owner},
      {"data_length", stat.data_length},
      {"num_children", stat.num_children},
  };
}

std::string StatText(const Stat& stat) {
  return absl::StrFormat(
      "czxid = 0x%x\nmzxid = 0x%x\npzxid = 0x%x\nctime = %s\nmtime = %s\nversion = %d\n"
      "cversion = %d\naversion = %d\nephemeral_owner = 0x%x\ndata_length = %d\n"
      "num_children = %d",
      stat.czxid, stat.mzxid, stat.pzxid, TimeText(stat.ctime), TimeText(stat.mtime), stat.version,
      stat.cversion, stat.aversion, stat.ephemeral_owner, stat.data_length, stat.num_children);
}

Json WatchEventJson(const WatchEvent& event) {
  Json object = {{"event", WatchEventTypeName(event.type)}, {"path", event.path}};
  if (!event.reason.ok()) object["reason"] = std::string(event.reason.message());
  return object;
}

std::string WatchEventText(const WatchEvent& event) {
  std::string text = absl::StrCat(AsAbsl(WatchEventTypeName(event.type)), " ", event.path);
  if (!event.reason.ok()) absl::StrAppend(&text, " (", event.reason.message(), ")");
  return text;
}

Json InstanceJson(const recipes::ServiceInstance& instance) {
  Json object = {
      {"name", instance.name},         {"id", instance.id},
      {"address", instance.address},   {"port", instance.port},
      {"metadata", instance.metadata}, {"registration_time_ms", instance.registration_time_ms},
  };
  object["tls_port"] = instance.tls_port ? Json(*instance.tls_port) : nullptr;
  return object;
}

std::string InstanceText(const recipes::ServiceInstance& instance) {
  std::string text = absl::StrCat(instance.id, " ", instance.address, ":", instance.port);
  if (instance.tls_port) absl::StrAppend(&text, " tls=", *instance.tls_port);
  for (const auto& [key, value] : instance.metadata) absl::StrAppend(&text, " ", key, "=", value);
  return text;
}

}  // namespace zk::cli
