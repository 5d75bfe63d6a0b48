// ACL policy: digest ids, ACL validation (fixupACL) and permission checks.

#ifndef ZK_SERVER_EMBEDDED_SRC_ACL_POLICY_H_
#define ZK_SERVER_EMBEDDED_SRC_ACL_POLICY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto_aliases.h"

namespace zk::testing::internal {

// Returns the digest id of "user:password": "user:" + base64(sha1(...)).
std::string DigestId(std::string_view user_and_password);

// Returns true if `ids` may perform `perm` on a node with `acls`. The id
// ("super", "") bypasses every check; an empty ACL allows everything. As ZooKeeper's SASL
// provider, the id ("sasl", "super") matches every "sasl" entry.
bool CheckAcl(const std::vector<Acl>& acls, int32_t perm, const std::vector<Id>& ids);

// Validates and normalises an ACL for create/setACL: removes duplicates,
// expands "auth" entries to the connection's digest (and sasl) ids, rejects unknown
// schemes and malformed ids. The "sasl" scheme is known only if `sasl_enabled` (ZooKeeper
// registers its provider only when configured). Returns false (INVALIDACL) on failure.
bool FixupAcl(const std::vector<Acl>& acls, const std::vector<Id>& ids, bool sasl_enabled,
              std::vector<Acl>* out);

// Returns true if `id` is a valid "sasl" id: as ZooKeeper's KerberosName parse, a name
// holding '@' must be "service[/host]@realm" with no other '/' or '@'.
bool IsValidSaslId(std::string_view id);

// Returns `ids` (distinct, in insertion order) in the iteration order of the Java
// ConcurrentHashMap-backed set ZooKeeper keeps a connection's ids in (whoAmI and "auth" ACL
// entries show that order): by hash bin, then insertion order within a bin. Bins split by a
// table resize (12 or more ids) are not reordered as Java does.
std::vector<Id> InJavaSetOrder(const std::vector<Id>& ids);

// Masks digest ids as "user:x" (for a getACL caller without ADMIN).
std::vector<Acl> MaskDigests(std::vector<Acl> acls);

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_ACL_POLICY_H_
