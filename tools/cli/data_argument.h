// zkcpp CLI — the data that set and create write: their second argument, or standard input
// with --stdin.

#ifndef ZKCPP_TOOLS_CLI_DATA_ARGUMENT_H_
#define ZKCPP_TOOLS_CLI_DATA_ARGUMENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "cli/invocation.h"

namespace zk::cli {

// Returns args[1], or all of standard input with --stdin, or "" when neither is given and
// `required` is false. Errors: InvalidArgument (both given; neither given but `required`),
// Internal (reading stdin failed).
absl::StatusOr<std::string> DataArgument(const Invocation& invocation, bool required);

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_DATA_ARGUMENT_H_
