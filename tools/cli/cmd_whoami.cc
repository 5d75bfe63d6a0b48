// zkcpp whoami: the identities the server holds for the CLI's session (ZooKeeper 3.6+ whoAmI).

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "zk/status.h"

namespace zk::cli {

CommandResult RunWhoAmI(const Invocation& invocation, Client& client, Output& out) {
  ZK_ASSIGN_OR_RETURN(std::vector<ClientIdentity> identities, client.WhoAmI());
  for (const ClientIdentity& identity : identities) {
    out.Emit({{"scheme", identity.scheme}, {"user", identity.user}},
             absl::StrCat(identity.scheme, " ", identity.user));
  }
  return 0;
}

}  // namespace zk::cli
