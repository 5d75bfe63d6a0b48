// zkcpp — error model.
//
// Every failure in zkcpp is an absl::Status with a canonical code, a message of the form
// "<op> <path>: <what happened>", and (when ZooKeeper produced it) a payload carrying the exact
// ZooKeeper error code. The helpers below read that payload back.
//
//   absl::StatusOr<zk::GetResult> r = client->Get("/config");
//   if (zk::IsNoNode(r.status())) { ... }
//
// Mapping from ZooKeeper codes (see ZooErrorToStatusCode): NONODE → NotFound, NODEEXISTS →
// AlreadyExists, BADVERSION → Aborted, SESSIONEXPIRED → Aborted, NOTEMPTY and
// NOCHILDRENFOREPHEMERALS → FailedPrecondition, NOAUTH → PermissionDenied, AUTHFAILED →
// Unauthenticated, BADARGUMENTS and INVALIDACL → InvalidArgument, CONNECTIONLOSS, SESSIONMOVED
// and NOTREADONLY → Unavailable, OPERATIONTIMEOUT → DeadlineExceeded, CLOSING → Cancelled,
// UNIMPLEMENTED → Unimplemented, NOWATCHER → NotFound, anything else → Internal.
//
// A write that ends in Unavailable (connection loss) or DeadlineExceeded has an unknown outcome:
// the message says so, and IsUnknownOutcome() tells it. Never retry such a write blindly.

#ifndef ZK_STATUS_H_
#define ZK_STATUS_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zk {

// ZooKeeper's own error codes (the values of the C library's ZOO_ERRORS, identical on the wire).
enum class ZooError : int {
  kOk = 0,
  kSystemError = -1,
  kRuntimeInconsistency = -2,
  kDataInconsistency = -3,
  kConnectionLoss = -4,
  kMarshallingError = -5,
  kUnimplemented = -6,
  kOperationTimeout = -7,
  kBadArguments = -8,
  kInvalidState = -9,
  kApiError = -100,
  kNoNode = -101,
  kNoAuth = -102,
  kBadVersion = -103,
  kNoChildrenForEphemerals = -108,
  kNodeExists = -110,
  kNotEmpty = -111,
  kSessionExpired = -112,
  kInvalidCallback = -113,
  kInvalidAcl = -114,
  kAuthFailed = -115,
  kClosing = -116,
  kNothing = -117,
  kSessionMoved = -118,
  kNotReadOnly = -119,
  kEphemeralOnLocalSession = -120,
  kNoWatcher = -121,
  kReconfigDisabled = -123,
  kThrottledOp = -127,
};

// Returns ZooKeeper's name of `error` ("NONODE", "BADVERSION", ...), or "UNKNOWN".
std::string_view ZooErrorName(ZooError error);

// Returns a short human description of `error` ("node does not exist", ...).
std::string_view ZooErrorDescription(ZooError error);

// Returns the canonical code zkcpp uses for `error` (the table in the file comment).
absl::StatusCode ZooErrorToStatusCode(ZooError error);

// Whether a failed request was a write already sent to the server: after a connection loss or
// a deadline such a write may or may not have been applied (IsUnknownOutcome).
enum class WriteSent { kNo, kYes };

// Builds the status for a ZooKeeper error: "<op> <path>: <detail>", the canonical code from
// ZooErrorToStatusCode, and the ZooKeeper code as payload. `detail` defaults to a readable
// description of the error. With WriteSent::kYes, a connection loss or an operation timeout
// is marked as of unknown outcome (IsUnknownOutcome) and the message says so.
absl::Status MakeZooStatus(ZooError error, std::string_view op, std::string_view path,
                           WriteSent write_sent = WriteSent::kNo, std::string_view detail = {});

// Returns the ZooKeeper error carried by `status`, or nullopt if it carries none (OK statuses,
// statuses made by zkcpp itself such as argument checks). The client's own deadline and close
// errors carry OPERATIONTIMEOUT and CLOSING, as the C library's would.
std::optional<ZooError> ZooErrorOf(const absl::Status& status);

// Predicates on the ZooKeeper code carried by a status (false for statuses without one).
inline bool IsZooError(const absl::Status& s, ZooError e) { return ZooErrorOf(s) == e; }
inline bool IsNoNode(const absl::Status& s) { return IsZooError(s, ZooError::kNoNode); }
inline bool IsNodeExists(const absl::Status& s) { return IsZooError(s, ZooError::kNodeExists); }
inline bool IsBadVersion(const absl::Status& s) { return IsZooError(s, ZooError::kBadVersion); }
inline bool IsNotEmpty(const absl::Status& s) { return IsZooError(s, ZooError::kNotEmpty); }
inline bool IsConnectionLoss(const absl::Status& s) {
  return IsZooError(s, ZooError::kConnectionLoss);
}
inline bool IsSessionExpired(const absl::Status& s) {
  return IsZooError(s, ZooError::kSessionExpired);
}

// Returns true if `status` reports a write whose effect on the server is unknown (the connection
// was lost or the deadline passed after the request may have been sent).
bool IsUnknownOutcome(const absl::Status& status);

// Marks `status` as the outcome-unknown result of a write (used by the client; exposed so that
// recipes built on top can forward the mark).
absl::Status MarkUnknownOutcome(absl::Status status);

}  // namespace zk

// Returns early from the enclosing function with `expr`'s status if it is not OK.
#define ZK_RETURN_IF_ERROR(expr)                      \
  do {                                                \
    ::absl::Status zk_status_internal_ = (expr);      \
    if (!zk_status_internal_.ok()) return zk_status_internal_; \
  } while (0)

#define ZK_STATUS_CONCAT_INNER_(a, b) a##b
#define ZK_STATUS_CONCAT_(a, b) ZK_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status if not OK, else moves the value
// into `lhs` (a declaration such as `auto x` or an existing variable).
#define ZK_ASSIGN_OR_RETURN(lhs, rexpr) \
  ZK_ASSIGN_OR_RETURN_IMPL_(ZK_STATUS_CONCAT_(zk_statusor_, __LINE__), lhs, rexpr)
#define ZK_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // ZK_STATUS_H_
