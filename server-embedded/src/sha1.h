// Sha1: the SHA-1 digest, needed for ZooKeeper's digest authentication ids.
//
// The client has its own (client/src/sha1.h) on purpose: this server must not depend on
// client/, and as the oracle of the client's digest ids it should not share their code. Both
// are checked against digest ids computed by ZooKeeper itself (client_unit_test,
// c_client_test).

#ifndef ZK_SERVER_EMBEDDED_SRC_SHA1_H_
#define ZK_SERVER_EMBEDDED_SRC_SHA1_H_

#include <string>
#include <string_view>

namespace zk::testing::internal {

// Returns the 20-byte SHA-1 digest of `input`.
std::string Sha1(std::string_view input);

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_SHA1_H_
