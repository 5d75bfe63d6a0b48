// zk/proto/records.h — the records shared by many requests and replies (protocol.md §6): Stat,
// the 68-byte metadata of a znode; Id, an authenticated identity; Acl, one ACL entry.
//
// Example:
//   zk::proto::Stat stat;
//   zk::proto::ReadStat(reader, stat);

#ifndef ZK_PROTO_RECORDS_H_
#define ZK_PROTO_RECORDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"

namespace zk::proto {

// Holds the client-visible Stat of a znode (68 bytes on the wire).
struct Stat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  int32_t data_length = 0;
  int32_t num_children = 0;
  int64_t pzxid = 0;
  friend bool operator==(const Stat&, const Stat&) = default;
};

// Holds an authentication identity such as ("digest", "user:hash").
struct Id {
  std::string scheme;
  std::string id;
  friend bool operator==(const Id&, const Id&) = default;
};

// Holds one ACL entry.
struct Acl {
  int32_t perms = 0;
  Id id;
  friend bool operator==(const Acl&, const Acl&) = default;
};

// Appends a Stat record.
void WriteStat(const Stat& stat, JuteWriter& writer);
// Reads a Stat record into *stat.
void ReadStat(JuteReader& reader, Stat& stat);
// Appends a vector<ACL>.
void WriteAcls(const std::vector<Acl>& acls, JuteWriter& writer);
// Reads a vector<ACL>; a null vector reads as empty.
std::vector<Acl> ReadAcls(JuteReader& reader);

}  // namespace zk::proto

#endif  // ZK_PROTO_RECORDS_H_
