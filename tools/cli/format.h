// zkcpp CLI — how values are shown: Stat, watch events and service instances, as text and as
// JSON. JSON field names follow the C++ structs (snake_case); zxids and session ids are numbers
// in JSON and hexadecimal in text; times are milliseconds since the epoch in JSON and ISO 8601
// (UTC) in text.

#ifndef ZKCPP_TOOLS_CLI_FORMAT_H_
#define ZKCPP_TOOLS_CLI_FORMAT_H_

#include <string>

#include "cli/output.h"
#include "zk/recipes/service_instance.h"
#include "zk/types.h"

namespace zk::cli {

Json StatJson(const Stat& stat);
// One "name = value" line per field, without a trailing newline.
std::string StatText(const Stat& stat);

Json WatchEventJson(const WatchEvent& event);
// "<event> <path>", e.g. "data-changed /config".
std::string WatchEventText(const WatchEvent& event);

Json InstanceJson(const recipes::ServiceInstance& instance);
// "<id> <address>:<port>[ tls=<port>][ key=value...]".
std::string InstanceText(const recipes::ServiceInstance& instance);

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_FORMAT_H_
