#include "zk/proto/records.h"

#include <utility>

namespace zk::proto {

void WriteStat(const Stat& stat, JuteWriter& writer) {
  writer.WriteLong(stat.czxid);
  writer.WriteLong(stat.mzxid);
  writer.WriteLong(stat.ctime);
  writer.WriteLong(stat.mtime);
  writer.WriteInt(stat.version);
  writer.WriteInt(stat.cversion);
  writer.WriteInt(stat.aversion);
  writer.WriteLong(stat.ephemeral_owner);
  writer.WriteInt(stat.data_length);
  writer.WriteInt(stat.num_children);
  writer.WriteLong(stat.pzxid);
}

void ReadStat(JuteReader& reader, Stat& stat) {
  stat.czxid = reader.ReadLong();
  stat.mzxid = reader.ReadLong();
  stat.ctime = reader.ReadLong();
  stat.mtime = reader.ReadLong();
  stat.version = reader.ReadInt();
  stat.cversion = reader.ReadInt();
  stat.aversion = reader.ReadInt();
  stat.ephemeral_owner = reader.ReadLong();
  stat.data_length = reader.ReadInt();
  stat.num_children = reader.ReadInt();
  stat.pzxid = reader.ReadLong();
}

void WriteAcls(const std::vector<Acl>& acls, JuteWriter& writer) {
  writer.WriteInt(static_cast<int32_t>(acls.size()));
  for (const Acl& acl : acls) {
    writer.WriteInt(acl.perms);
    writer.WriteString(acl.id.scheme);
    writer.WriteString(acl.id.id);
  }
}

std::vector<Acl> ReadAcls(JuteReader& reader) {
  std::vector<Acl> acls;
  int32_t count = reader.ReadCount(12);
  acls.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count && reader.ok(); ++i) {
    Acl acl;
    acl.perms = reader.ReadInt();
    acl.id.scheme = reader.ReadString();
    acl.id.id = reader.ReadString();
    acls.push_back(std::move(acl));
  }
  return acls;
}

}  // namespace zk::proto
