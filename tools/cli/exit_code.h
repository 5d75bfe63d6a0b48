// zkcpp CLI — exit codes, and how an error status maps to one.
//
//   0  success
//   1  the operation failed (NotFound, AlreadyExists, Aborted (bad version), FailedPrecondition
//      (not empty), PermissionDenied, ...)
//   2  usage error (InvalidArgument: unknown command or flag, wrong arguments, invalid path)
//   3  connection or session failure (Unavailable, DeadlineExceeded, Unauthenticated, an
//      expired session, Cancelled by a closing client)
// lock / elect with a command exit with the command's own code instead.

#ifndef ZKCPP_TOOLS_CLI_EXIT_CODE_H_
#define ZKCPP_TOOLS_CLI_EXIT_CODE_H_

#include "absl/status/status.h"

namespace zk::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,
  kExitUsage = 2,
  kExitConnection = 3,
  // A command after "--" that could not be started (as a shell reports it).
  kExitCannotRun = 127,
};

// Returns the exit code for a failed command's `status` (kExitOk for OK).
int ExitCodeFor(const absl::Status& status);

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_EXIT_CODE_H_
