// Decoding of client packets: the ConnectRequest and every request record.

#ifndef ZK_SERVER_EMBEDDED_SRC_REQUEST_DECODER_H_
#define ZK_SERVER_EMBEDDED_SRC_REQUEST_DECODER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "records.h"

namespace zk::testing::internal {

// Holds a decoded ConnectRequest.
struct ConnectRequest {
  int32_t protocol_version = 0;
  int64_t last_zxid_seen = 0;
  int32_t timeout_ms = 0;
  int64_t session_id = 0;
  std::string passwd;
  // True if the client appended the readOnly byte (3.4+ clients).
  bool has_read_only = false;
  bool read_only = false;
};

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

// Decodes a ConnectRequest body (the frame without its length prefix).
// Errors: InvalidArgument if the record is truncated or the passwd is not
// 16 bytes long.
absl::StatusOr<ConnectRequest> DecodeConnectRequest(std::string_view body);

// Decodes a RequestHeader and the request record that follows it. A body that
// does not decode yields a Request with body_ok == false. An unknown opcode
// yields a Request with only xid and opcode set.
// Errors: InvalidArgument if the body is shorter than a RequestHeader.
absl::StatusOr<Request> DecodeRequest(std::string_view body);

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_REQUEST_DECODER_H_
