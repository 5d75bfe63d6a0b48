// zkcpp get <path>: the node's data, as is.

#include <unistd.h>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/invocation.h"
#include "cli/output.h"

namespace zk::cli {

CommandResult RunGet(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  ZK_ASSIGN_OR_RETURN(GetResult got, client.Get(path));
  if (out.json()) {
    out.Emit({{"path", path}, {"data", got.data}, {"stat", StatJson(got.stat)}}, "");
    return 0;
  }
  out.Raw(got.data);
  // Exact bytes into pipes and files; a readable line on a terminal.
  if (::isatty(STDOUT_FILENO) && !got.data.empty() && got.data.back() != '\n') out.Raw("\n");
  return 0;
}

}  // namespace zk::cli
