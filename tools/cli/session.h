// zkcpp CLI — the ZooKeeper session every subcommand runs in.

#ifndef ZKCPP_TOOLS_CLI_SESSION_H_
#define ZKCPP_TOOLS_CLI_SESSION_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "zk/client.h"

namespace zk::cli {

// Connects to `global.connect` with `engine` (nullopt: the client's default) and waits for a
// session, at most `global.timeout`. Operations wait at most `global.timeout` too. The engine's
// log is silent unless `global.verbose`.
// Errors: InvalidArgument (bad connect string), Unavailable (no session within the timeout).
absl::StatusOr<std::unique_ptr<Client>> ConnectClient(const GlobalOptions& global,
                                                      std::optional<EngineKind> engine);

// Reports every later session event (suspended, reconnected, lost, ...) as a note on stderr,
// until the returned subscription is destroyed. For the subcommands that keep running.
Subscription ReportSessionEvents(Client& client, Output& out);

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_SESSION_H_
