#include "cli/exit_code.h"

#include "zk/status.h"

namespace zk::cli {

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (IsSessionExpired(status)) return kExitConnection;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kCancelled:
      return kExitConnection;
    default:
      return kExitFailed;
  }
}

}  // namespace zk::cli
