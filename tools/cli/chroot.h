// zkcpp CLI — the chroot of the connect string ("host:port/app"), seen from the
// command line.
//
// Every path zkcpp is given is relative to the chroot, and ZooKeeper does not
// check that the chroot exists: in a missing one every operation fails with
// "node does not exist", which names the user's path but not the real cause.
// After such a failure zkcpp looks at the chroot itself and, if it is the one
// missing, says so.

#ifndef ZKCPP_TOOLS_CLI_CHROOT_H_
#define ZKCPP_TOOLS_CLI_CHROOT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "zk/client.h"

namespace zk::cli {

// Returns the chroot of `connect` ("/app" of "h1:2181,h2:2181/app"), or "" if
// it has none.
std::string ChrootOf(std::string_view connect);

// Returns the path the server sees for `path` under `chroot` ("" for none).
std::string ServerPath(std::string_view chroot, std::string_view path);

// Returns `failure` unless it is a NoNode error and the chroot is missing; then NotFound
// "<op> <path>: chroot <chroot> does not exist". Costs one Exists when `failure` is NoNode and
// there is a chroot.
// Threading: a blocking call on `client`.
absl::Status ExplainMissingChroot(std::string_view op, std::string_view path,
                                  std::string_view chroot, Client& client,
                                  const absl::Status& failure);

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_CHROOT_H_
