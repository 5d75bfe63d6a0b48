// zk/proto/constants.h — the numbers of the ZooKeeper 3.8 wire protocol: opcodes, error codes,
// watch event types and states, ACL permissions, special xids and the default frame limit
// (protocol.md §3-§5). One list for the embedded server and every client of the protocol, so
// that an opcode or error code is spelled once. What each opcode is (its name, read or write)
// is in zk/proto/op_info.h.

#ifndef ZK_PROTO_CONSTANTS_H_
#define ZK_PROTO_CONSTANTS_H_

#include <cstdint>

namespace zk::proto {

// The largest frame body either side accepts by default (jute.maxbuffer, 1 MB - 1).
inline constexpr int32_t kMaxFrameLength = 0xfffff;

namespace op {
inline constexpr int32_t kCreate = 1;
inline constexpr int32_t kDelete = 2;
inline constexpr int32_t kExists = 3;
inline constexpr int32_t kGetData = 4;
inline constexpr int32_t kSetData = 5;
inline constexpr int32_t kGetAcl = 6;
inline constexpr int32_t kSetAcl = 7;
inline constexpr int32_t kGetChildren = 8;
inline constexpr int32_t kSync = 9;
inline constexpr int32_t kPing = 11;
inline constexpr int32_t kGetChildren2 = 12;
inline constexpr int32_t kCheck = 13;
inline constexpr int32_t kMulti = 14;
inline constexpr int32_t kCreate2 = 15;
inline constexpr int32_t kReconfig = 16;
inline constexpr int32_t kCheckWatches = 17;
inline constexpr int32_t kRemoveWatches = 18;
inline constexpr int32_t kCreateContainer = 19;
inline constexpr int32_t kCreateTtl = 21;
inline constexpr int32_t kMultiRead = 22;
inline constexpr int32_t kAuth = 100;
inline constexpr int32_t kSetWatches = 101;
inline constexpr int32_t kSasl = 102;
inline constexpr int32_t kGetEphemerals = 103;
inline constexpr int32_t kGetAllChildrenNumber = 104;
inline constexpr int32_t kSetWatches2 = 105;
inline constexpr int32_t kAddWatch = 106;
inline constexpr int32_t kWhoAmI = 107;
inline constexpr int32_t kCloseSession = -11;
inline constexpr int32_t kError = -1;
}  // namespace op

namespace err {
inline constexpr int32_t kOk = 0;
inline constexpr int32_t kSystemError = -1;
inline constexpr int32_t kRuntimeInconsistency = -2;
inline constexpr int32_t kDataInconsistency = -3;
inline constexpr int32_t kConnectionLoss = -4;
inline constexpr int32_t kMarshallingError = -5;
inline constexpr int32_t kUnimplemented = -6;
inline constexpr int32_t kOperationTimeout = -7;
inline constexpr int32_t kBadArguments = -8;
inline constexpr int32_t kApiError = -100;
inline constexpr int32_t kNoNode = -101;
inline constexpr int32_t kNoAuth = -102;
inline constexpr int32_t kBadVersion = -103;
inline constexpr int32_t kNoChildrenForEphemerals = -108;
inline constexpr int32_t kNodeExists = -110;
inline constexpr int32_t kNotEmpty = -111;
inline constexpr int32_t kSessionExpired = -112;
inline constexpr int32_t kInvalidAcl = -114;
inline constexpr int32_t kAuthFailed = -115;
inline constexpr int32_t kSessionMoved = -118;
inline constexpr int32_t kNotReadOnly = -119;
inline constexpr int32_t kNoWatcher = -121;
inline constexpr int32_t kReconfigDisabled = -123;
}  // namespace err

namespace event {
inline constexpr int32_t kNodeCreated = 1;
inline constexpr int32_t kNodeDeleted = 2;
inline constexpr int32_t kNodeDataChanged = 3;
inline constexpr int32_t kNodeChildrenChanged = 4;
// KeeperState of a WatcherEvent; the server only ever sends SyncConnected.
inline constexpr int32_t kSyncConnectedState = 3;
}  // namespace event

namespace perm {
inline constexpr int32_t kRead = 1;
inline constexpr int32_t kWrite = 2;
inline constexpr int32_t kCreate = 4;
inline constexpr int32_t kDelete = 8;
inline constexpr int32_t kAdmin = 16;
inline constexpr int32_t kAll = 31;
}  // namespace perm

namespace xid {
inline constexpr int32_t kNotification = -1;
inline constexpr int32_t kPing = -2;
inline constexpr int32_t kAuth = -4;
inline constexpr int32_t kSetWatches = -8;
}  // namespace xid

}  // namespace zk::proto

#endif  // ZK_PROTO_CONSTANTS_H_
