#include "zk/status.h"
#include "string_util.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace zk {
namespace {

// Payload type URLs. The values are decimal ints as text.
constexpr char kZooErrorPayload[] = "type.zkcpp/zk.ZooError";
constexpr char kUnknownOutcomePayload[] = "type.zkcpp/zk.UnknownOutcome";

}  // namespace

std::string_view ZooErrorDescription(ZooError error) {
  switch (error) {
    case ZooError::kNoNode: return "node does not exist";
    case ZooError::kNodeExists: return "node already exists";
    case ZooError::kBadVersion: return "version does not match";
    case ZooError::kNotEmpty: return "node has children";
    case ZooError::kNoChildrenForEphemerals: return "ephemeral nodes may not have children";
    case ZooError::kNoAuth: return "not authorized";
    case ZooError::kAuthFailed: return "authentication failed";
    case ZooError::kBadArguments: return "server rejected the arguments";
    case ZooError::kInvalidAcl: return "invalid ACL";
    case ZooError::kConnectionLoss: return "connection lost";
    case ZooError::kSessionExpired: return "session expired";
    case ZooError::kSessionMoved: return "session moved to another server";
    case ZooError::kNotReadOnly: return "server is read-only";
    case ZooError::kOperationTimeout: return "operation timed out";
    case ZooError::kClosing: return "client is closing";
    case ZooError::kUnimplemented: return "not implemented by the server";
    case ZooError::kMarshallingError: return "marshalling error";
    case ZooError::kRuntimeInconsistency: return "rolled back: another op of the multi failed";
    case ZooError::kNoWatcher: return "no such watch";
    case ZooError::kReconfigDisabled: return "reconfig is disabled";
    case ZooError::kEphemeralOnLocalSession: return "ephemeral on a local session";
    case ZooError::kThrottledOp: return "throttled by the server";
    case ZooError::kInvalidState: return "handle is in an invalid state";
    default: return "ZooKeeper error";
  }
}

std::string_view ZooErrorName(ZooError error) {
  switch (error) {
    case ZooError::kOk: return "OK";
    case ZooError::kSystemError: return "SYSTEMERROR";
    case ZooError::kRuntimeInconsistency: return "RUNTIMEINCONSISTENCY";
    case ZooError::kDataInconsistency: return "DATAINCONSISTENCY";
    case ZooError::kConnectionLoss: return "CONNECTIONLOSS";
    case ZooError::kMarshallingError: return "MARSHALLINGERROR";
    case ZooError::kUnimplemented: return "UNIMPLEMENTED";
    case ZooError::kOperationTimeout: return "OPERATIONTIMEOUT";
    case ZooError::kBadArguments: return "BADARGUMENTS";
    case ZooError::kInvalidState: return "INVALIDSTATE";
    case ZooError::kApiError: return "APIERROR";
    case ZooError::kNoNode: return "NONODE";
    case ZooError::kNoAuth: return "NOAUTH";
    case ZooError::kBadVersion: return "BADVERSION";
    case ZooError::kNoChildrenForEphemerals: return "NOCHILDRENFOREPHEMERALS";
    case ZooError::kNodeExists: return "NODEEXISTS";
    case ZooError::kNotEmpty: return "NOTEMPTY";
    case ZooError::kSessionExpired: return "SESSIONEXPIRED";
    case ZooError::kInvalidCallback: return "INVALIDCALLBACK";
    case ZooError::kInvalidAcl: return "INVALIDACL";
    case ZooError::kAuthFailed: return "AUTHFAILED";
    case ZooError::kClosing: return "CLOSING";
    case ZooError::kNothing: return "NOTHING";
    case ZooError::kSessionMoved: return "SESSIONMOVED";
    case ZooError::kNotReadOnly: return "NOTREADONLY";
    case ZooError::kEphemeralOnLocalSession: return "EPHEMERALONLOCALSESSION";
    case ZooError::kNoWatcher: return "NOWATCHER";
    case ZooError::kReconfigDisabled: return "RECONFIGDISABLED";
    case ZooError::kThrottledOp: return "THROTTLEDOP";
  }
  return "UNKNOWN";
}

absl::StatusCode ZooErrorToStatusCode(ZooError error) {
  switch (error) {
    case ZooError::kOk: return absl::StatusCode::kOk;
    case ZooError::kNoNode: return absl::StatusCode::kNotFound;
    case ZooError::kNodeExists: return absl::StatusCode::kAlreadyExists;
    case ZooError::kBadVersion:
    case ZooError::kSessionExpired: return absl::StatusCode::kAborted;
    case ZooError::kNotEmpty:
    case ZooError::kNoChildrenForEphemerals: return absl::StatusCode::kFailedPrecondition;
    case ZooError::kNoAuth: return absl::StatusCode::kPermissionDenied;
    case ZooError::kAuthFailed: return absl::StatusCode::kUnauthenticated;
    case ZooError::kBadArguments:
    case ZooError::kInvalidAcl: return absl::StatusCode::kInvalidArgument;
    case ZooError::kConnectionLoss:
    case ZooError::kSessionMoved:
    case ZooError::kNotReadOnly: return absl::StatusCode::kUnavailable;
    case ZooError::kOperationTimeout: return absl::StatusCode::kDeadlineExceeded;
    case ZooError::kClosing: return absl::StatusCode::kCancelled;
    case ZooError::kUnimplemented: return absl::StatusCode::kUnimplemented;
    case ZooError::kNoWatcher: return absl::StatusCode::kNotFound;
    default: return absl::StatusCode::kInternal;
  }
}

absl::Status MakeZooStatus(ZooError error, std::string_view op, std::string_view path,
                           WriteSent write_sent, std::string_view detail) {
  if (error == ZooError::kOk) return absl::OkStatus();
  std::string message = internal::StrCat(op, path.empty() ? "" : " ", path, ": ",
                                     detail.empty() ? ZooErrorDescription(error) : detail, " (",
                                     ZooErrorName(error), ")");
  const bool unknown = write_sent == WriteSent::kYes && (error == ZooError::kConnectionLoss ||
                                                         error == ZooError::kOperationTimeout);
  if (unknown) internal::StrAppend(&message, "; the write may or may not have been applied");
  absl::Status status(ZooErrorToStatusCode(error), message);
  status.SetPayload(kZooErrorPayload, absl::Cord(internal::StrCat(static_cast<int>(error))));
  if (unknown) status = MarkUnknownOutcome(std::move(status));
  return status;
}

std::optional<ZooError> ZooErrorOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kZooErrorPayload);
  if (!payload) return std::nullopt;
  int value = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &value)) return std::nullopt;
  return static_cast<ZooError>(value);
}

bool IsUnknownOutcome(const absl::Status& status) {
  return status.GetPayload(kUnknownOutcomePayload).has_value();
}

absl::Status MarkUnknownOutcome(absl::Status status) {
  if (!status.ok()) status.SetPayload(kUnknownOutcomePayload, absl::Cord("1"));
  return status;
}

}  // namespace zk
