// zkcpp rm <path> [--recursive] [--expected_version=N]: deletes a node (or its subtree).

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "zk/status.h"

namespace zk::cli {

CommandResult RunRm(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  const CommandOptions& options = invocation.options;
  if (!options.recursive) {
    ZK_RETURN_IF_ERROR(client.Delete(path, options.expected_version));
  } else {
    if (options.expected_version) {
      return absl::InvalidArgumentError(
          absl::StrCat("rm ", path, ": --expected_version cannot be used with --recursive"));
    }
    // DeleteRecursive succeeds on a missing node; rm reports it, as a plain rm does.
    ZK_ASSIGN_OR_RETURN(std::optional<Stat> stat, client.Exists(path));
    if (!stat) return MakeZooStatus(ZooError::kNoNode, "rm", path);
    ZK_RETURN_IF_ERROR(client.DeleteRecursive(path));
  }
  out.Emit({{"path", path}, {"deleted", true}}, "");
  return 0;
}

}  // namespace zk::cli
