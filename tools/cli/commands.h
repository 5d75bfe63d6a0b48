// zkcpp CLI — the subcommands: what each one accepts and the function that runs it.
//
// One CommandSpec per subcommand (table in commands.cc). The parser (invocation.cc) checks the
// number of positional arguments, the applicable flags and the command after "--" against it;
// main() connects a client and calls `run`. Each Run* function lives in its own cmd_*.cc.

#ifndef ZKCPP_TOOLS_CLI_COMMANDS_H_
#define ZKCPP_TOOLS_CLI_COMMANDS_H_

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "zk/client.h"

namespace zk::cli {

struct Invocation;
class Output;

// The process exit code of a command that ran (0, or a child command's code), or the error
// that stopped it (main() prints it and maps it with ExitCodeFor).
using CommandResult = absl::StatusOr<int>;
using RunFunction = CommandResult (*)(const Invocation& invocation, Client& client, Output& out);

// Whether a subcommand takes a command to run after "--".
enum class ChildCommandUse {
  kNone,      // arguments after "--" are ordinary arguments (e.g. data starting with '-')
  kOptional,  // a command may follow "--"
  kRequired,  // a command must follow "--"
};

struct CommandSpec {
  std::string_view name;
  std::string_view arguments;  // for messages: "<path> [<data>]"
  int min_args = 0;
  int max_args = 0;
  ChildCommandUse child_command = ChildCommandUse::kNone;
  // The subcommand-specific flags that apply (the global flags always do).
  std::vector<std::string_view> flags;
  RunFunction run = nullptr;
  // The engine the command needs (the ZooKeeper 3.6+ ops exist only on the native one);
  // nullopt: the client's default (ZKCPP_ENGINE, else the C library).
  std::optional<EngineKind> engine;
};

// Every subcommand, in the order of the usage text.
const std::vector<CommandSpec>& Commands();
// The subcommand called `name`, or nullptr.
const CommandSpec* FindCommand(std::string_view name);

CommandResult RunLs(const Invocation& invocation, Client& client, Output& out);
CommandResult RunGet(const Invocation& invocation, Client& client, Output& out);
CommandResult RunSet(const Invocation& invocation, Client& client, Output& out);
CommandResult RunCreate(const Invocation& invocation, Client& client, Output& out);
CommandResult RunRm(const Invocation& invocation, Client& client, Output& out);
CommandResult RunStat(const Invocation& invocation, Client& client, Output& out);
CommandResult RunWatch(const Invocation& invocation, Client& client, Output& out);
CommandResult RunLock(const Invocation& invocation, Client& client, Output& out);
CommandResult RunElect(const Invocation& invocation, Client& client, Output& out);
CommandResult RunServices(const Invocation& invocation, Client& client, Output& out);
CommandResult RunWhoAmI(const Invocation& invocation, Client& client, Output& out);

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_COMMANDS_H_
