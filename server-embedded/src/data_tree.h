// DataTree: the in-memory znode tree with ZooKeeper's Stat bookkeeping and
// transactional rollback for multi.

#ifndef ZK_SERVER_EMBEDDED_SRC_DATA_TREE_H_
#define ZK_SERVER_EMBEDDED_SRC_DATA_TREE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "proto_aliases.h"

namespace zk::testing::internal {

// Marks a container node in Node::ephemeral_owner (reported as 0).
inline constexpr int64_t kContainerOwner = INT64_MIN;
// Marks a TTL node: kTtlOwnerMask | ttl (reported as 0).
inline constexpr int64_t kTtlOwnerMask = static_cast<int64_t>(0xFF00000000000000ULL);
inline constexpr int64_t kMaxTtl = 0xFFFFFFFFFFLL;

// Holds one znode. `cversion` is the stored counter of child creations; the
// client sees 2 * cversion - children.size().
struct Node {
  std::string data;
  // Null data (a create or set with a null buffer): empty `data`, dataLength 0, and getData
  // answers a null buffer (length -1), as ZooKeeper does.
  bool data_null = false;
  std::vector<Acl> acls;
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  int64_t pzxid = 0;
  std::set<std::string> children;
  // Insertion order among its session's ephemerals (see EphemeralsInCloseOrder).
  int64_t ephemeral_seq = 0;

  bool is_container() const { return ephemeral_owner == kContainerOwner; }
  bool is_ttl() const {
    return ephemeral_owner != kContainerOwner &&
           (ephemeral_owner & kTtlOwnerMask) == kTtlOwnerMask;
  }
  int64_t ttl() const { return ephemeral_owner & ~kTtlOwnerMask; }
  // Returns the owning session of an ephemeral node, else 0.
  int64_t session_owner() const { return ephemeral_owner > 0 ? ephemeral_owner : 0; }
};

// Records a watch trigger produced by a mutation: `type` is an event type.
struct WatchTrigger {
  std::string path;
  int32_t type;
  // For kNodeDeleted on a deleted node: also fire child watches of the path.
  bool also_child_watches = false;
  // The ACL a watcher needs READ on to receive the event (CVE-2024-23944): the node's own
  // ACL for created / changed / deleted (taken before the deletion), the parent's for
  // NodeChildrenChanged. Captured when the mutation happens, as ZooKeeper passes it along.
  std::vector<Acl> acls;
};

// Returns the parent of an absolute path ("/" for "/a").
std::string_view ParentPath(std::string_view path);
// Returns the last segment of an absolute path.
std::string_view BaseName(std::string_view path);

// Stores znodes by full path. Every mutation is recorded so that Rollback()
// can undo everything since the last Commit() (multi atomicity), and queues
// the watch triggers it causes; Commit() hands them over.
//
// Thread-compatible: the owner serializes all calls.
class DataTree {
 public:
  DataTree();

  // Returns the node at `path`, or nullptr.
  const Node* Find(std::string_view path) const;
  // Returns the client-visible Stat of `node`.
  static Stat StatOf(const Node& node);

  // Creates a node; the caller has checked that the parent exists and the
  // node does not.
  void Create(const std::string& path, std::string data, std::vector<Acl> acls,
              int64_t ephemeral_owner, int64_t zxid, int64_t time_ms, bool data_null = false);
  // Deletes an existing leaf node.
  void Delete(const std::string& path, int64_t zxid);
  // Replaces the data of an existing node.
  void SetData(const std::string& path, std::string data, int64_t zxid, int64_t time_ms,
               bool data_null = false);
  // Replaces the ACL of an existing node.
  void SetAcl(const std::string& path, std::vector<Acl> acls);

  // Ends the current transaction and returns its watch triggers.
  std::vector<WatchTrigger> Commit();
  // Undoes every mutation since the last Commit() and drops its triggers.
  void Rollback();

  // Returns the paths of the ephemeral nodes of `session_id`.
  std::set<std::string> EphemeralsOf(int64_t session_id) const;
  // Returns the ephemeral nodes of `session_id` in the order ZooKeeper 3.8 deletes them when
  // the session closes or expires: the iteration order of a clone of the session's Java
  // HashSet<String> (PrepRequestProcessor closeSession, DataTree.getEphemerals), which fixes
  // the order of the NodeDeleted / NodeChildrenChanged events other sessions receive.
  std::vector<std::string> EphemeralsInCloseOrder(int64_t session_id) const;
  // Drops the bookkeeping of a closed session (after its ephemerals are deleted).
  void ForgetSession(int64_t session_id);
  const std::map<int64_t, std::set<std::string>>& ephemerals() const { return ephemerals_; }
  // Returns the number of nodes below `path` (all descendants).
  int32_t CountDescendants(const std::string& path) const;
  // Returns the paths of all containers and TTL nodes.
  std::vector<std::string> ContainerAndTtlPaths() const;

  size_t node_count() const { return nodes_.size(); }
  int64_t approximate_data_size() const;

  // Returns every node by path (for a snapshot).
  const std::unordered_map<std::string, Node>& nodes() const { return nodes_; }
  // Replaces the whole tree with `nodes` (a loaded snapshot), outside any transaction. The
  // nodes' `children` are ignored and rebuilt from the paths; session ephemerals are refused,
  // as no session survives a restart.
  // Errors: InvalidArgument if "/" is missing, a node's parent is missing, or a node is a
  // session's ephemeral.
  absl::Status Replace(std::unordered_map<std::string, Node> nodes);

 private:
  Node& Mutable(const std::string& path);
  void Remember(const std::string& path);
  void IndexEphemeral(const std::string& path, const Node& node, bool add);

  std::unordered_map<std::string, Node> nodes_;
  std::map<int64_t, std::set<std::string>> ephemerals_;
  // Per session: the largest size its ephemeral set ever reached, which fixes the capacity of
  // the Java HashSet ZooKeeper keeps (it never shrinks); and its value before the open
  // transaction, for Rollback.
  std::map<int64_t, size_t> ephemeral_peak_;
  std::map<int64_t, size_t> ephemeral_peak_undo_;
  int64_t next_ephemeral_seq_ = 0;
  // Undo log of the open transaction: the node before its first change.
  std::vector<std::pair<std::string, std::optional<Node>>> undo_;
  std::set<std::string> remembered_;
  std::vector<WatchTrigger> triggers_;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_DATA_TREE_H_
