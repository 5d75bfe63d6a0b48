// zoo_cfg.h: reads a ZooKeeper configuration file (zoo.cfg) for `zkcpp-server
// --config`.
//
// A zoo.cfg is a Java properties file: one `key=value` per line (`key: value`
// and `key value` too), `#` and `!` start comment lines, whitespace around key
// and value is dropped and a line ending in a backslash continues on the next
// one. ZooConfig keeps the keys zkcpp-server honours; every other key gets a
// note saying why it has no effect (this server replicates nothing and does not read or write
// ZooKeeper's data files), so that a user moving a real zoo.cfg over sees at once what does
// not carry.
//
// Example:
//   absl::StatusOr<ZooConfig> config = ReadZooConfig("conf/zoo.cfg");
//   if (!config.ok()) ... "conf/zoo.cfg:3: tickTime: not a number: \"2s\"" ...
//   for (const std::string& note : config->notes) ... "conf/zoo.cfg:7: initLimit ignored: ..."
//   ApplyZooConfig(*config, &options);

#ifndef ZK_SERVER_EMBEDDED_SRC_ZOO_CFG_H_
#define ZK_SERVER_EMBEDDED_SRC_ZOO_CFG_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "zk/testing/embedded_server.h"

namespace zk::internal {

// The keys of a zoo.cfg that zkcpp-server honours, each unset if the file does
// not give it.
struct ZooConfig {
  std::optional<int> tick_time_ms;                            // tickTime
  std::optional<int> client_port;                             // clientPort
  std::optional<std::string> client_address;                  // clientPortAddress
  std::optional<int> max_client_connections;                  // maxClientCnxns
  std::optional<int> min_session_timeout_ms;                  // minSessionTimeout
  std::optional<int> max_session_timeout_ms;                  // maxSessionTimeout
  std::optional<std::vector<std::string>> four_letter_words;  // 4lw.commands.whitelist
  // One line per key that has no effect here, in file order:
  // "<file>:<line>: <key> ignored: <why>".
  std::vector<std::string> notes;
};

// Parses the text of a zoo.cfg; `file_name` only names it in messages and notes.
// Errors: InvalidArgument "<file>:<line>: <key>: <problem>" for a value that cannot be used
// (not a number, out of range, not an IPv4 address).
absl::StatusOr<ZooConfig> ParseZooConfig(std::string_view text, std::string_view file_name);

// Reads and parses the file at `path`.
// Errors: NotFound / PermissionDenied "<path>: <reason>" if it cannot be read;
// as ParseZooConfig otherwise.
absl::StatusOr<ZooConfig> ReadZooConfig(const std::string& path);

// Returns the contents of the configuration file at `path`.
// Errors: NotFound / PermissionDenied / Internal "<path>: <reason>" if it cannot be read.
absl::StatusOr<std::string> ReadConfigText(const std::string& path);

// Copies the keys `config` gives into `options`, leaving the others as they
// are.
void ApplyZooConfig(const ZooConfig& config, testing::EmbeddedServerOptions* options);

}  // namespace zk::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_ZOO_CFG_H_
