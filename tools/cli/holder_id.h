// zkcpp CLI — who this process is, for the nodes it leaves for operators to read.

#ifndef ZKCPP_TOOLS_CLI_HOLDER_ID_H_
#define ZKCPP_TOOLS_CLI_HOLDER_ID_H_

#include <string>

namespace zk::cli {

// Returns "<hostname>-<pid>".
std::string HolderId();

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_HOLDER_ID_H_
