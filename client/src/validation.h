// Argument checks shared by the client's operations: everything that can be rejected before any
// I/O is rejected here, with InvalidArgument naming the op, the path and the problem.

#ifndef ZK_CLIENT_SRC_VALIDATION_H_
#define ZK_CLIENT_SRC_VALIDATION_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "zk/types.h"

namespace zk::internal {

// ZooKeeper's default jute.maxbuffer: the largest frame a server accepts.
inline constexpr size_t kMaxFrameBytes = 1048575;

absl::Status ValidateVersion(std::string_view op, std::string_view path,
                             std::optional<int32_t> version);
absl::Status ValidateAcl(std::string_view op, std::string_view path, const AclList& acl);
// Rejects a request whose frame would exceed kMaxFrameBytes (`payload_bytes` = its data plus
// whatever else is variable in it).
absl::Status ValidateFrameSize(std::string_view op, std::string_view path, size_t payload_bytes);
// Returns the ZooKeeper create flags of `mode`.
int CreateFlags(CreateMode mode);
bool IsSequential(CreateMode mode);
bool IsTtl(CreateMode mode);
absl::Status ValidateCreate(std::string_view path, std::string_view data,
                            const CreateOptions& options);
absl::Status ValidateOps(const std::vector<Op>& ops);
absl::Status ValidateReadOps(const std::vector<ReadOp>& ops);
// The name ("get", "get_children") and path of a MultiRead op.
std::string_view ReadOpName(const ReadOp& op);
const std::string& ReadOpPath(const ReadOp& op);

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_VALIDATION_H_
