// zk/proto/request_decoder.h — the server side's view of a request: Request, one flat struct
// that holds whichever request record an opcode carries (multi's sub-operations included), and
// DecodeRequest, which reads the RequestHeader and dispatches to the op's record in
// node_ops.h / session_ops.h. A flat struct lets the server's state machine read `path` or
// `version` without knowing which record they came from; the layouts stay in the records.
//
// Example:
//   absl::StatusOr<zk::proto::Request> request = zk::proto::DecodeRequest(body);
//   if (request.ok() && !request->body_ok) ReplyMarshallingError(request->xid);

#ifndef ZK_PROTO_REQUEST_DECODER_H_
#define ZK_PROTO_REQUEST_DECODER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "zk/proto/connect.h"
#include "zk/proto/records.h"

namespace zk::proto {

// Holds any decoded request. Only the fields of `opcode`'s record are set.
struct Request {
  int32_t xid = 0;
  int32_t opcode = 0;
  // False if the body could not be decoded (reply MARSHALLINGERROR).
  bool body_ok = true;
  std::string path;
  std::string data;
  // True if `data` was sent as a null buffer (length -1; the C client does this for a NULL
  // data pointer). ZooKeeper keeps the null and returns it (length -1) from getData.
  bool data_null = false;
  std::vector<Acl> acls;
  int32_t flags = 0;
  int32_t version = -1;
  bool watch = false;
  int64_t ttl = 0;
  // WatcherType of check/removeWatches, mode of addWatch, type of auth.
  int32_t type = 0;
  std::string scheme;
  std::string auth;
  // True if the auth credential was a null buffer (length -1).
  bool auth_null = false;
  int64_t relative_zxid = 0;
  std::vector<std::string> data_watches;
  std::vector<std::string> exist_watches;
  std::vector<std::string> child_watches;
  std::vector<std::string> persistent_watches;
  std::vector<std::string> recursive_watches;
  // Sub-operations of multi and multiRead (their xid is unused).
  std::vector<Request> ops;
};

// Decodes a RequestHeader and the request record that follows it. A body that
// does not decode yields a Request with body_ok == false. An unknown opcode
// yields a Request with only xid and opcode set.
// Errors: InvalidArgument if the body is shorter than a RequestHeader.
absl::StatusOr<Request> DecodeRequest(std::string_view body);

}  // namespace zk::proto

#endif  // ZK_PROTO_REQUEST_DECODER_H_
