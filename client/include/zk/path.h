// zkcpp — znode path rules and helpers.
//
// ValidatePath applies ZooKeeper's path rules (PathUtils.validatePath) on the client, so that a
// bad path fails before any I/O with an InvalidArgument that names the op, the path and the
// problem:
//   absl::Status s = zk::ValidatePath("create", "/a//b");
//   // InvalidArgument: "create /a//b: empty path segment at offset 3"

#ifndef ZK_PATH_H_
#define ZK_PATH_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace zk {

enum class PathUse {
  kNode,              // an existing or new node: full rules
  kSequentialCreate,  // a sequential create: a trailing '/' is allowed (the suffix follows)
};

// Returns OK if `path` is a valid absolute znode path, else InvalidArgument with the message
// "<op> <path>: <problem>". Rules: starts with '/', no trailing '/' (except "/" itself, and for
// kSequentialCreate), no empty, "." or ".." segment, valid UTF-8 with no control characters
// (U+0000–U+001F, U+007F–U+009F), no characters outside the BMP and none in U+D800–U+F8FF or
// U+FFF0–U+FFFF (ZooKeeper rejects those).
absl::Status ValidatePath(std::string_view op, std::string_view path,
                          PathUse use = PathUse::kNode);

// Returns "/a/b" for ("/a", "b") and "/b" for ("/", "b").
std::string JoinPath(std::string_view parent, std::string_view child);
// Returns the parent of a valid path ("/" for "/a" and for "/").
std::string_view ParentPath(std::string_view path);
// Returns the last segment of a valid path ("" for "/").
std::string_view BaseName(std::string_view path);

}  // namespace zk

#endif  // ZK_PATH_H_
