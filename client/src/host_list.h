// HostList: the servers of a connect string ("host:port,host:port", chroot already removed) for
// the native transport, in a shuffled order that is walked round-robin. The names are resolved
// again when a round of addresses ends (every address was tried since the last resolution), at
// most once per `resolution_interval` if one is given, so that a member that moved to another
// address is found.

#ifndef ZK_CLIENT_SRC_HOST_LIST_H_
#define ZK_CLIENT_SRC_HOST_LIST_H_

#include <sys/socket.h>

#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace zk::internal {

struct HostPort {
  std::string host;  // a name, an IPv4 address or an IPv6 address (without brackets)
  std::string port;
};

// Splits "a:2181,[::1]:2182,b" (a missing port is 2181).
// Errors: InvalidArgument naming the entry for an empty entry or a bad port.
absl::StatusOr<std::vector<HostPort>> ParseHosts(std::string_view connect_string);

struct Address {
  sockaddr_storage storage;
  socklen_t length = 0;
  std::string host;  // the host as written in the connect string (for TLS checks)
  std::string name;  // "host:port" for logs and errors
};

class HostList {
 public:
  // nullopt interval: resolve again at the end of every round.
  HostList(std::vector<HostPort> hosts, std::optional<absl::Duration> resolution_interval);

  // Resolves every host. Errors: Unavailable naming the hosts if none resolves.
  absl::Status Resolve();
  // The next address to try, round-robin; resolves again when a round ends and the interval
  // has passed. Null if nothing resolves.
  const Address* Next();
  // True when Next() has handed out every address once since the last Resolve or round.
  bool RoundDone() const { return position_ >= addresses_.size(); }
  size_t size() const { return addresses_.size(); }

 private:
  std::vector<HostPort> hosts_;
  std::optional<absl::Duration> resolution_interval_;
  std::vector<Address> addresses_;
  size_t position_ = 0;
  absl::Time resolved_at_ = absl::InfinitePast();
  std::mt19937_64 random_;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_HOST_LIST_H_
