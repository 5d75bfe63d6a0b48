// zk/proto/connect.h — the handshake records (protocol.md §2): the ConnectRequest a client
// sends first on every connection and the ConnectResponse the server answers with. Both end
// with an optional readOnly byte that clients before 3.4 neither send nor expect.
//
// Example (a client):
//   zk::proto::JuteWriter writer;
//   zk::proto::ConnectRequest{.timeout_ms = 10000, .passwd = std::string(16, '\0')}
//       .Encode(writer);
//   Send(writer.TakeFrame());

#ifndef ZK_PROTO_CONNECT_H_
#define ZK_PROTO_CONNECT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"

namespace zk::proto {

// The first packet of a connection: open a session (session_id 0) or resume one.
struct ConnectRequest {
  int32_t protocol_version = 0;
  int64_t last_zxid_seen = 0;
  int32_t timeout_ms = 0;
  int64_t session_id = 0;
  std::string passwd;
  // True if the readOnly byte is present (3.4+ clients).
  bool has_read_only = true;
  bool read_only = false;
  void Encode(JuteWriter& writer) const;
  // Reads the readOnly byte if any bytes remain.
  void Decode(JuteReader& reader);
  friend bool operator==(const ConnectRequest&, const ConnectRequest&) = default;
};

// The server's answer; timeout_ms 0 means "invalid session" (expired, closed, wrong passwd).
struct ConnectResponse {
  int32_t protocol_version = 0;
  int32_t timeout_ms = 0;
  int64_t session_id = 0;
  std::string passwd;
  // True if the readOnly byte is present (sent to clients that sent theirs).
  bool has_read_only = true;
  bool read_only = false;
  void Encode(JuteWriter& writer) const;
  // Reads the readOnly byte if any bytes remain.
  void Decode(JuteReader& reader);
  friend bool operator==(const ConnectResponse&, const ConnectResponse&) = default;
};

// Decodes a ConnectRequest body (the frame without its length prefix).
// Errors: InvalidArgument if the record is truncated. Any passwd length is accepted, as by
// ZooKeeper: a new session ignores it, and a resume with a wrong one fails the check.
absl::StatusOr<ConnectRequest> DecodeConnectRequest(std::string_view body);

}  // namespace zk::proto

#endif  // ZK_PROTO_CONNECT_H_
