// zkcpp — a command-line client for Apache ZooKeeper, built on zk::Client and zkcpp's recipes.
//
//   zkcpp [flags] <command> <arguments> [-- <command to run>]
//
// Commands: ls, get, set, create, rm, stat, watch, lock, elect, services, whoami. `zkcpp --help`
// prints the usage text (invocation.cc); `zkcpp` alone prints it on stderr and exits with 2.
//
// Exit codes:
//   0  success
//   1  the operation failed (node does not exist, bad version, lock not obtained, ...)
//   2  usage error (unknown command or flag, wrong arguments, invalid path)
//   3  connection or session failure (no session within --timeout, connection lost, timeout)
//   lock, and elect with a command: the command's exit code (128+N if signal N killed it, 127
//   if it could not be started).
// Errors are printed on stderr as "zkcpp: <op> <path>: <problem>", control characters escaped.

#include <cstdio>
#include <memory>
#include <string>

#include "cli/chroot.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/interrupt.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "cli/session.h"

namespace zk::cli {
namespace {

int Main(int argc, char** argv) {
  InstallInterruptHandling();
  if (argc <= 1) {
    std::fputs(UsageText().c_str(), stderr);
    return kExitUsage;
  }
  absl::StatusOr<Invocation> invocation = ParseInvocation(argc, argv);
  if (!invocation.ok()) {
    Output(false, stdout).Error(invocation.status());
    std::fputs("Run 'zkcpp --help' for usage.\n", stderr);
    return kExitUsage;
  }
  if (invocation->help) {
    std::fputs(UsageText().c_str(), stdout);
    return kExitOk;
  }
  if (invocation->version) {
    std::fputs("zkcpp " ZKCPP_VERSION "\n", stdout);
    return kExitOk;
  }
  const CommandSpec* spec = FindCommand(invocation->command);
  Output out(invocation->global.json, stdout);
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectClient(invocation->global, spec->engine);
  if (!client.ok()) {
    out.Error(client.status());
    return ExitCodeFor(client.status());
  }
  CommandResult result = spec->run(*invocation, **client, out);
  if (!result.ok()) {
    const std::string path = invocation->args.empty() ? "" : invocation->args[0];
    result = ExplainMissingChroot(invocation->command, path,
                                  ChrootOf(invocation->global.connect), **client, result.status());
  }
  client->reset();  // closes the session: ephemeral nodes go, other clients see it at once
  if (!result.ok()) {
    out.Error(result.status());
    return ExitCodeFor(result.status());
  }
  return *result;
}

}  // namespace
}  // namespace zk::cli

int main(int argc, char** argv) { return zk::cli::Main(argc, argv); }
