// The engine's request and reply records: what client.cc submits to the engine core
// (engine.h) and what comes back, whichever transport carried them (transport.h).

#ifndef ZK_CLIENT_SRC_REQUEST_H_
#define ZK_CLIENT_SRC_REQUEST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "callback_slot.h"
#include "zk/metrics.h"
#include "zk/status.h"
#include "zk/types.h"

namespace zk::internal {

// The public operation kinds (zk/metrics.h) are the engine's request kinds.
using OpKind = Operation;
bool IsWrite(OpKind kind);

// The kind of native (server-side) watch a request arms: data (getData, exists) or child, both
// one-shot; or persistent / persistent recursive (addWatch), which stay until removed.
enum class WatchKind { kNone, kData, kChild, kPersistent, kPersistentRecursive };
inline bool IsPersistent(WatchKind kind) {
  return kind == WatchKind::kPersistent || kind == WatchKind::kPersistentRecursive;
}

struct OpReply {
  ZooError rc = ZooError::kOk;
  std::string path;                   // creates
  Stat stat;                          // sets, multiRead gets
  std::string data;                   // multiRead gets
  std::vector<std::string> children;  // multiRead getChildren
};

// What the engine hands back for a request: the raw result, turned into statuses by client.cc.
struct Reply {
  ZooError rc = ZooError::kOk;
  bool sent = true;    // false: it never left this process (deadline or close while parked)
  std::string detail;  // wording for errors the engine made itself (deadline, close)
  std::string data;    // getData: data; create / sync: the path
  std::optional<Stat> stat;
  std::vector<std::string> children;       // getChildren: names; getEphemerals: client paths
  std::vector<ClientIdentity> identities;  // whoAmI
  int32_t count = 0;                       // getAllChildrenNumber
  AclList acl;
  std::vector<OpReply> multi;
};

struct Request {
  OpKind kind;
  std::string path;
  std::string data;     // data; for addAuth the credential
  int32_t version = -1;  // -1 = any
  int create_flags = 0;
  int64_t ttl_ms = 0;
  AclList acl;
  std::vector<Op> ops;  // multi
  std::vector<ReadOp> read_ops;  // multiRead
  std::string scheme;   // addAuth
  WatchKind watch = WatchKind::kNone;
  std::shared_ptr<CallbackSlot> watch_slot;  // attached to the native watch on success
  // Run `done` on the loop thread (blocking waiters, internal continuations) instead of the
  // callback executor.
  bool complete_on_loop = false;
  std::optional<absl::Time> deadline;  // default: submitted + operation timeout
  absl::Time submitted;                // set by Submit
  absl::AnyInvocable<void(Reply) &&> done;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_REQUEST_H_
