// jaas_config.h: reads the SASL DIGEST-MD5 users of a ZooKeeper server's JAAS file (the
// file given to a real server as -Djava.security.auth.login.config) for
// `zkcpp-server --jaas_config`, so that one file configures both servers.
//
// Only the form ZooKeeper's DIGEST-MD5 setup uses is read: the "Server" section with
// org.apache.zookeeper.server.auth.DigestLoginModule and one `user_<name>="<password>"`
// option per user. Other sections (e.g. "Client") are parsed and skipped. Comments (`//`,
// `/* */`, `#`) and bare or double-quoted values are accepted.
//
// Example:
//   Server {
//     org.apache.zookeeper.server.auth.DigestLoginModule required
//     user_alice="secret"
//     user_bob="other";
//   };
//
//   absl::StatusOr<std::map<std::string, std::string>> users = ReadJaasServerUsers(path);
//   if (users.ok()) options.sasl_users = *users;  // {alice: secret, bob: other}

#ifndef ZK_SERVER_EMBEDDED_SRC_JAAS_CONFIG_H_
#define ZK_SERVER_EMBEDDED_SRC_JAAS_CONFIG_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace zk::internal {

// Parses the text of a JAAS file and returns the users of its "Server" section;
// `file_name` only names it in messages.
// Errors: InvalidArgument "<file>:<line>: <problem>" for a syntax error, and
// "<file>: <problem>" for a file without a "Server" section, a Server section with a login
// module other than DigestLoginModule, or one without any user_<name> option.
absl::StatusOr<std::map<std::string, std::string>> ParseJaasServerUsers(
    std::string_view text, std::string_view file_name);

// Reads and parses the file at `path`.
// Errors: NotFound / PermissionDenied "<path>: <reason>" if it cannot be read; as
// ParseJaasServerUsers otherwise.
absl::StatusOr<std::map<std::string, std::string>> ReadJaasServerUsers(const std::string& path);

}  // namespace zk::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_JAAS_CONFIG_H_
