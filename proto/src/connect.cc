#include "zk/proto/connect.h"

#include "absl/status/status.h"

namespace zk::proto {

void ConnectRequest::Encode(JuteWriter& writer) const {
  writer.WriteInt(protocol_version);
  writer.WriteLong(last_zxid_seen);
  writer.WriteInt(timeout_ms);
  writer.WriteLong(session_id);
  writer.WriteBuffer(passwd);
  if (has_read_only) writer.WriteBool(read_only);
}

void ConnectRequest::Decode(JuteReader& reader) {
  protocol_version = reader.ReadInt();
  last_zxid_seen = reader.ReadLong();
  timeout_ms = reader.ReadInt();
  session_id = reader.ReadLong();
  passwd = reader.ReadBuffer();
  has_read_only = reader.ok() && reader.remaining() >= 1;
  read_only = has_read_only && reader.ReadBool();
}

void ConnectResponse::Encode(JuteWriter& writer) const {
  writer.WriteInt(protocol_version);
  writer.WriteInt(timeout_ms);
  writer.WriteLong(session_id);
  writer.WriteBuffer(passwd);
  if (has_read_only) writer.WriteBool(read_only);
}

void ConnectResponse::Decode(JuteReader& reader) {
  protocol_version = reader.ReadInt();
  timeout_ms = reader.ReadInt();
  session_id = reader.ReadLong();
  passwd = reader.ReadBuffer();
  has_read_only = reader.ok() && reader.remaining() >= 1;
  read_only = has_read_only && reader.ReadBool();
}

absl::StatusOr<ConnectRequest> DecodeConnectRequest(std::string_view body) {
  JuteReader reader(body);
  ConnectRequest request;
  request.Decode(reader);
  if (!reader.ok()) {
    return absl::InvalidArgumentError("connect: truncated ConnectRequest");
  }
  return request;
}

}  // namespace zk::proto
