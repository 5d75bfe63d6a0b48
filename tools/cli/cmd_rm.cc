// zkcpp rm <path> [--recursive] [--expected_version=N]: deletes a node (or its subtree).

#include <string_view>

#include "absl/strings/str_cat.h"
#include "cli/chroot.h"
#include "cli/commands.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "zk/status.h"

namespace zk::cli {
namespace {

// The nodes ZooKeeper keeps for itself. Deleting them breaks quotas or reconfiguration (or
// fails half-way through a recursive delete), so rm refuses before any I/O.
struct ReservedNode {
  const char* path;
  const char* use;
};
constexpr ReservedNode kReserved[] = {
    {"/zookeeper", "its own nodes"},
    {"/zookeeper/quota", "quotas"},
    {"/zookeeper/config", "the ensemble configuration"},
};

// Returns InvalidArgument if deleting `server_path` (with its subtree if `recursive`) would
// delete a reserved node.
absl::Status CheckNotReserved(const std::string& path, const std::string& server_path,
                              bool recursive) {
  for (const ReservedNode& reserved : kReserved) {
    const std::string_view node = reserved.path;
    const bool itself = server_path == node;
    // "/" and the ancestors of a reserved node hold it.
    const bool holds = server_path == "/" || (node.starts_with(server_path) &&
                                              node.substr(server_path.size()).starts_with("/"));
    if (itself || (recursive && holds)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rm ", path, ": ", itself ? "" : "the subtree holds ", reserved.path,
          itself ? " is" : ",", " a reserved node (ZooKeeper keeps ", reserved.use, " there)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

CommandResult RunRm(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  const CommandOptions& options = invocation.options;
  ZK_RETURN_IF_ERROR(CheckNotReserved(path, ServerPath(ChrootOf(invocation.global.connect), path),
                                      options.recursive));
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
