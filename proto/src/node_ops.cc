#include "zk/proto/node_ops.h"

namespace zk::proto {
namespace {

void WriteData(const std::string& data, bool data_null, JuteWriter& writer) {
  if (data_null) {
    writer.WriteNullBuffer();
  } else {
    writer.WriteBuffer(data);
  }
}

}  // namespace

void CreateRequest::Encode(JuteWriter& writer) const {
  writer.WriteString(path);
  WriteData(data, data_null, writer);
  WriteAcls(acls, writer);
  writer.WriteInt(flags);
}

void CreateRequest::Decode(JuteReader& reader) {
  path = reader.ReadString();
  data = reader.ReadBuffer(&data_null);
  acls = ReadAcls(reader);
  flags = reader.ReadInt();
}

void CreateTtlRequest::Encode(JuteWriter& writer) const {
  create.Encode(writer);
  writer.WriteLong(ttl);
}

void CreateTtlRequest::Decode(JuteReader& reader) {
  create.Decode(reader);
  ttl = reader.ReadLong();
}

void PathVersionRequest::Encode(JuteWriter& writer) const {
  writer.WriteString(path);
  writer.WriteInt(version);
}

void PathVersionRequest::Decode(JuteReader& reader) {
  path = reader.ReadString();
  version = reader.ReadInt();
}

void PathWatchRequest::Encode(JuteWriter& writer) const {
  writer.WriteString(path);
  writer.WriteBool(watch);
}

void PathWatchRequest::Decode(JuteReader& reader) {
  path = reader.ReadString();
  watch = reader.ReadBool();
}

void PathRequest::Encode(JuteWriter& writer) const { writer.WriteString(path); }

void PathRequest::Decode(JuteReader& reader) { path = reader.ReadString(); }

void SetDataRequest::Encode(JuteWriter& writer) const {
  writer.WriteString(path);
  WriteData(data, data_null, writer);
  writer.WriteInt(version);
}

void SetDataRequest::Decode(JuteReader& reader) {
  path = reader.ReadString();
  data = reader.ReadBuffer(&data_null);
  version = reader.ReadInt();
}

void SetAclRequest::Encode(JuteWriter& writer) const {
  writer.WriteString(path);
  WriteAcls(acls, writer);
  writer.WriteInt(version);
}

void SetAclRequest::Decode(JuteReader& reader) {
  path = reader.ReadString();
  acls = ReadAcls(reader);
  version = reader.ReadInt();
}

void PathResponse::Encode(JuteWriter& writer) const { writer.WriteString(path); }

void PathResponse::Decode(JuteReader& reader) { path = reader.ReadString(); }

void Create2Response::Encode(JuteWriter& writer) const {
  writer.WriteString(path);
  WriteStat(stat, writer);
}

void Create2Response::Decode(JuteReader& reader) {
  path = reader.ReadString();
  ReadStat(reader, stat);
}

void StatResponse::Encode(JuteWriter& writer) const { WriteStat(stat, writer); }

void StatResponse::Decode(JuteReader& reader) { ReadStat(reader, stat); }

void GetDataResponse::Encode(JuteWriter& writer) const {
  WriteData(data, data_null, writer);
  WriteStat(stat, writer);
}

void GetDataResponse::Decode(JuteReader& reader) {
  data = reader.ReadBuffer(&data_null);
  ReadStat(reader, stat);
}

void GetAclResponse::Encode(JuteWriter& writer) const {
  WriteAcls(acls, writer);
  WriteStat(stat, writer);
}

void GetAclResponse::Decode(JuteReader& reader) {
  acls = ReadAcls(reader);
  ReadStat(reader, stat);
}

void PathsResponse::Encode(JuteWriter& writer) const { writer.WriteStringVector(paths); }

void PathsResponse::Decode(JuteReader& reader) { paths = reader.ReadStringVector(); }

void GetChildren2Response::Encode(JuteWriter& writer) const {
  writer.WriteStringVector(children);
  WriteStat(stat, writer);
}

void GetChildren2Response::Decode(JuteReader& reader) {
  children = reader.ReadStringVector();
  ReadStat(reader, stat);
}

void GetAllChildrenNumberResponse::Encode(JuteWriter& writer) const { writer.WriteInt(total); }

void GetAllChildrenNumberResponse::Decode(JuteReader& reader) { total = reader.ReadInt(); }

}  // namespace zk::proto
