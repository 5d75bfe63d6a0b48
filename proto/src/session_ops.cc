#include "zk/proto/session_ops.h"

#include <utility>

namespace zk::proto {

void AuthPacket::Encode(JuteWriter& writer) const {
  writer.WriteInt(type);
  writer.WriteString(scheme);
  if (auth_null) {
    writer.WriteNullBuffer();
  } else {
    writer.WriteBuffer(auth);
  }
}

void AuthPacket::Decode(JuteReader& reader) {
  type = reader.ReadInt();
  scheme = reader.ReadString();
  auth = reader.ReadBuffer(&auth_null);
}

void SetWatchesRequest::Encode(JuteWriter& writer) const {
  writer.WriteLong(relative_zxid);
  writer.WriteStringVector(data_watches);
  writer.WriteStringVector(exist_watches);
  writer.WriteStringVector(child_watches);
}

void SetWatchesRequest::Decode(JuteReader& reader) {
  relative_zxid = reader.ReadLong();
  data_watches = reader.ReadStringVector();
  exist_watches = reader.ReadStringVector();
  child_watches = reader.ReadStringVector();
}

void SetWatches2Request::Encode(JuteWriter& writer) const {
  writer.WriteLong(relative_zxid);
  writer.WriteStringVector(data_watches);
  writer.WriteStringVector(exist_watches);
  writer.WriteStringVector(child_watches);
  writer.WriteStringVector(persistent_watches);
  writer.WriteStringVector(recursive_watches);
}

void SetWatches2Request::Decode(JuteReader& reader) {
  relative_zxid = reader.ReadLong();
  data_watches = reader.ReadStringVector();
  exist_watches = reader.ReadStringVector();
  child_watches = reader.ReadStringVector();
  persistent_watches = reader.ReadStringVector();
  recursive_watches = reader.ReadStringVector();
}

void PathTypeRequest::Encode(JuteWriter& writer) const {
  writer.WriteString(path);
  writer.WriteInt(type);
}

void PathTypeRequest::Decode(JuteReader& reader) {
  path = reader.ReadString();
  type = reader.ReadInt();
}

void WhoAmIResponse::Encode(JuteWriter& writer) const {
  writer.WriteInt(static_cast<int32_t>(client_info.size()));
  for (const ClientInfo& info : client_info) {
    writer.WriteString(info.auth_scheme);
    writer.WriteString(info.user);
  }
}

void WhoAmIResponse::Decode(JuteReader& reader) {
  client_info.clear();
  int32_t count = reader.ReadCount(8);
  client_info.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count && reader.ok(); ++i) {
    ClientInfo info;
    info.auth_scheme = reader.ReadString();
    info.user = reader.ReadString();
    client_info.push_back(std::move(info));
  }
}

void SaslPacket::Encode(JuteWriter& writer) const { writer.WriteBuffer(token); }

void SaslPacket::Decode(JuteReader& reader) { token = reader.ReadBuffer(); }

void ReconfigRequest::Encode(JuteWriter& writer) const {
  writer.WriteString(joining_servers);
  writer.WriteString(leaving_servers);
  writer.WriteString(new_members);
  writer.WriteLong(cur_config_id);
}

void ReconfigRequest::Decode(JuteReader& reader) {
  joining_servers = reader.ReadString();
  leaving_servers = reader.ReadString();
  new_members = reader.ReadString();
  cur_config_id = reader.ReadLong();
}

}  // namespace zk::proto
