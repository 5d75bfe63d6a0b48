// Path validation with ZooKeeper's PathUtils.validatePath rules.

#ifndef ZK_SERVER_EMBEDDED_SRC_PATH_VALIDATOR_H_
#define ZK_SERVER_EMBEDDED_SRC_PATH_VALIDATOR_H_

#include <string_view>

namespace zk::testing::internal {

// Returns true if `path` is a valid znode path: absolute, no trailing slash
// (except "/"), no empty, "." or ".." segments, valid UTF-8, and none of the
// code points ZooKeeper rejects (controls, surrogates/non-BMP, private use,
// U+FFF0..U+FFFF).
bool IsValidPath(std::string_view path);

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_PATH_VALIDATOR_H_
