// zkcpp stat <path>: the node's Stat.

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "zk/status.h"

namespace zk::cli {

CommandResult RunStat(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  ZK_ASSIGN_OR_RETURN(std::optional<Stat> stat, client.Exists(path));
  if (!stat) return MakeZooStatus(ZooError::kNoNode, "stat", path);
  out.Emit({{"path", path}, {"stat", StatJson(*stat)}}, StatText(*stat));
  return 0;
}

}  // namespace zk::cli
