// zkcpp ls <path> [--recursive]: the children of a node, or every node of its subtree.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "zk/path.h"

namespace zk::cli {
namespace {

absl::StatusOr<std::vector<std::string>> SortedChildren(Client& client, const std::string& path) {
  absl::StatusOr<ChildrenResult> result = client.GetChildren(path);
  if (!result.ok()) return result.status();
  std::sort(result->children.begin(), result->children.end());
  return std::move(result->children);
}

void Print(Output& out, const std::string& path, const std::vector<std::string>& children,
           const std::string& text) {
  out.Emit({{"path", path}, {"children", children}}, text);
}

}  // namespace

CommandResult RunLs(const Invocation& invocation, Client& client, Output& out) {
  const std::string& root = invocation.args[0];
  if (!invocation.options.recursive) {
    ZK_ASSIGN_OR_RETURN(std::vector<std::string> children, SortedChildren(client, root));
    Print(out, root, children, absl::StrJoin(children, "\n"));
    return 0;
  }
  // Depth first, children in name order: the same order as `find`.
  std::vector<std::string> pending = {root};
  while (!pending.empty()) {
    std::string path = std::move(pending.back());
    pending.pop_back();
    absl::StatusOr<std::vector<std::string>> children = SortedChildren(client, path);
    // A descendant deleted while we walk is simply not listed; the root must exist.
    if (IsNoNode(children.status()) && path != root) continue;
    if (!children.ok()) return children.status();
    Print(out, path, *children, path);
    for (auto child = children->rbegin(); child != children->rend(); ++child) {
      pending.push_back(JoinPath(path, *child));
    }
  }
  return 0;
}

}  // namespace zk::cli
