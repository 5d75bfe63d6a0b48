#include "zk/proto/headers.h"

namespace zk::proto {

void RequestHeader::Encode(JuteWriter& writer) const {
  writer.WriteInt(xid);
  writer.WriteInt(type);
}

void RequestHeader::Decode(JuteReader& reader) {
  xid = reader.ReadInt();
  type = reader.ReadInt();
}

void ReplyHeader::Encode(JuteWriter& writer) const {
  writer.WriteInt(xid);
  writer.WriteLong(zxid);
  writer.WriteInt(err);
}

void ReplyHeader::Decode(JuteReader& reader) {
  xid = reader.ReadInt();
  zxid = reader.ReadLong();
  err = reader.ReadInt();
}

void WatcherEvent::Encode(JuteWriter& writer) const {
  writer.WriteInt(type);
  writer.WriteInt(state);
  writer.WriteString(path);
}

void WatcherEvent::Decode(JuteReader& reader) {
  type = reader.ReadInt();
  state = reader.ReadInt();
  path = reader.ReadString();
}

void MultiHeader::Encode(JuteWriter& writer) const {
  writer.WriteInt(type);
  writer.WriteBool(done);
  writer.WriteInt(err);
}

void MultiHeader::Decode(JuteReader& reader) {
  type = reader.ReadInt();
  done = reader.ReadBool();
  err = reader.ReadInt();
}

void ErrorResult::Encode(JuteWriter& writer) const { writer.WriteInt(err); }

void ErrorResult::Decode(JuteReader& reader) { err = reader.ReadInt(); }

void PatchRequestXid(std::string& frame, int32_t xid) {
  if (frame.size() >= 8) EncodeIntAt(xid, frame.data() + 4);
}

}  // namespace zk::proto
