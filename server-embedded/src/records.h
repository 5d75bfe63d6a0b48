// Records shared by requests and replies: Stat, Id, ACL.

#ifndef ZK_SERVER_EMBEDDED_SRC_RECORDS_H_
#define ZK_SERVER_EMBEDDED_SRC_RECORDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "jute_reader.h"
#include "jute_writer.h"

namespace zk::testing::internal {

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
// Appends a vector<ACL>.
void WriteAcls(const std::vector<Acl>& acls, JuteWriter& writer);
// Reads a vector<ACL>; a null vector reads as empty.
std::vector<Acl> ReadAcls(JuteReader& reader);

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_RECORDS_H_
