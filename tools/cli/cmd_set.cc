// zkcpp set <path> [<data>] [--stdin] [--expected_version=N]: replaces a node's data.

#include "cli/commands.h"
#include "cli/data_argument.h"
#include "cli/format.h"
#include "cli/invocation.h"
#include "cli/output.h"

namespace zk::cli {

CommandResult RunSet(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  ZK_ASSIGN_OR_RETURN(std::string data, DataArgument(invocation, /*required=*/true));
  ZK_ASSIGN_OR_RETURN(Stat stat, client.Set(path, data, invocation.options.expected_version));
  out.Emit({{"path", path}, {"stat", StatJson(stat)}}, "");
  return 0;
}

}  // namespace zk::cli
