// zkcpp create <path> [<data>] [--ephemeral] [--sequential] [--container] [--parents]:
// creates a node and prints its path (with the sequence suffix, if any).

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/data_argument.h"
#include "cli/format.h"
#include "cli/invocation.h"
#include "cli/output.h"

namespace zk::cli {
namespace {

absl::StatusOr<CreateMode> ModeOf(const CommandOptions& options, const std::string& path) {
  if (options.container) {
    if (options.ephemeral || options.sequential) {
      return absl::InvalidArgumentError(
          absl::StrCat("create ", path, ": --container excludes --ephemeral and --sequential"));
    }
    return CreateMode::kContainer;
  }
  if (options.ephemeral) {
    return options.sequential ? CreateMode::kEphemeralSequential : CreateMode::kEphemeral;
  }
  return options.sequential ? CreateMode::kPersistentSequential : CreateMode::kPersistent;
}

}  // namespace

CommandResult RunCreate(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  ZK_ASSIGN_OR_RETURN(CreateMode mode, ModeOf(invocation.options, path));
  ZK_ASSIGN_OR_RETURN(std::string data, DataArgument(invocation, /*required=*/false));
  ZK_ASSIGN_OR_RETURN(
      CreateResult created,
      client.Create(path, data, {.mode = mode, .create_parents = invocation.options.parents}));
  out.Emit({{"path", created.path}, {"stat", StatJson(created.stat)}}, created.path);
  return 0;
}

}  // namespace zk::cli
