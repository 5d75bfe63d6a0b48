// Md5: the MD5 digest (RFC 1321), needed for SASL DIGEST-MD5 (RFC 2831). Not for anything
// that needs a secure hash.

#ifndef ZK_SERVER_EMBEDDED_SRC_MD5_H_
#define ZK_SERVER_EMBEDDED_SRC_MD5_H_

#include <string>
#include <string_view>

namespace zk::testing::internal {

// Returns the 16-byte MD5 digest of `input`.
std::string Md5(std::string_view input);

// Returns the 32 lower-case hex digits of the MD5 digest of `input`.
std::string Md5Hex(std::string_view input);

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_MD5_H_
