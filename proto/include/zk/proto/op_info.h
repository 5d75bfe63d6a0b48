// zk/proto/op_info.h — what the protocol says about each opcode, in one table: its ZooKeeper
// name, whether it writes (a read-only server refuses it), and whether it may be a
// sub-operation of multi or of multiRead. The server's dispatch and the request decoder both
// read it, so that adding an opcode adds one row here rather than a case to several switches.
//
// Example:
//   const zk::proto::OpInfo* info = zk::proto::FindOp(request.opcode);
//   if (info == nullptr) ReplyUnimplemented();
//   else if (read_only && info->write) ReplyNotReadOnly();

#ifndef ZK_PROTO_OP_INFO_H_
#define ZK_PROTO_OP_INFO_H_

#include <cstdint>
#include <string_view>

namespace zk::proto {

// Describes one request opcode of zk/proto/constants.h.
struct OpInfo {
  int32_t opcode = 0;
  // ZooKeeper's name for the op (Request.op2String), as the four-letter words show it.
  std::string_view name;
  // True if ZooKeeper's ReadOnlyRequestProcessor refuses the op with ZNOTREADONLY: the
  // writes, and also check, sync, multi and reconfig.
  bool write = false;
  // True if the op may be a sub-operation of multi.
  bool in_multi = false;
  // True if the op may be a sub-operation of multiRead.
  bool in_multi_read = false;
};

// Returns the description of a request opcode, or nullptr for an unknown one.
const OpInfo* FindOp(int32_t opcode);

// Returns the ZooKeeper name of an opcode ("create", "getData", ...), or
// "unknown" for an opcode outside the table.
std::string_view OpName(int32_t opcode);

// Returns true if `opcode` is a request opcode of the table.
bool IsKnownOp(int32_t opcode);

}  // namespace zk::proto

#endif  // ZK_PROTO_OP_INFO_H_
