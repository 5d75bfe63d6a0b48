// SHA-1, for ZooKeeper's digest scheme only (ids are base64(sha1("user:password"))). Not for
// anything that needs a secure hash.
//
// The embedded server has its own (server-embedded/src/sha1.h) on purpose: it must not depend
// on client/, and as the oracle of the client's digest ids it should not share their code.
// Both are checked against digest ids computed by ZooKeeper itself (client_unit_test,
// c_client_test).

#ifndef ZK_CLIENT_SRC_SHA1_H_
#define ZK_CLIENT_SRC_SHA1_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace zk::internal {

std::array<uint8_t, 20> Sha1(std::string_view data);

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_SHA1_H_
