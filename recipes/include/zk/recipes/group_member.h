// zkcpp recipes — membership of a group: this process's own ephemeral member node, kept alive,
// and a cached view of every member (Curator's GroupMember, kazoo's Party).
//
// Overview. A member joins `group` as the ephemeral node "<group>/<id>" holding its data, kept
// by a PersistentNode (zk/recipes/persistent_node.h): after a session loss, or a delete by
// someone else, the node comes back with the data last set. The members are read by a
// ChildrenCache (zk/recipes/children_cache.h) on the group, so CurrentMembers() costs no round
// trip, and listeners hear every join, leave and data change. A member that leaves, or whose
// session expires, disappears from every other member's view once their watch fires.
//
// Views. CurrentMembers() is the cache's view, this member included only once its own node has
// been seen by the cache (so it is briefly missing after Start() returns if the watch is still
// on its way, and while its node is being re-created). Data this member sets shows in the view
// when the watch brings it back.
//
//   ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::GroupMember> member,
//                       zk::recipes::GroupMember::Create(*client, "/app/group", "host-1", "up"));
//   zk::Subscription sub = member->AddListener([](const zk::recipes::ChildrenDelta& d) { ... });
//   ZK_RETURN_IF_ERROR(member->Start(std::chrono::seconds(5)));
//   for (const auto& [id, data] : member->CurrentMembers()) { ... }
//   ZK_RETURN_IF_ERROR(member->SetData("busy"));
//   ZK_RETURN_IF_ERROR(member->Leave());
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client; the destructor leaves the
// group and stops the cache, and no listener runs after it returns.

#ifndef ZK_RECIPES_GROUP_MEMBER_H_
#define ZK_RECIPES_GROUP_MEMBER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/client.h"
#include "zk/recipes/children_cache.h"
#include "zk/recipes/persistent_node.h"

namespace zk::recipes {

// A member of a group. Thread-safe.
class GroupMember {
 public:
  // The members' ids and their data, by id.
  using Members = std::map<std::string, std::string>;
  // Receives each change of membership: `added` members joined, `removed` left, `updated`
  // changed their data (names are member ids).
  using Listener = std::function<void(const ChildrenDelta& delta)>;

  // Creates the member; no I/O. `id` is one path segment (the member node's name).
  // Errors: InvalidArgument naming "group_member <group>" (bad group path, empty id, an id
  // with '/' or breaking the path rules, data over 1 MB).
  static absl::StatusOr<std::unique_ptr<GroupMember>> Create(Client& client,
                                                             std::string_view group,
                                                             std::string_view id,
                                                             std::string_view data);
  // Leaves the group (best effort) and stops the cache.
  ~GroupMember();
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  // Joins: starts the member node and the cache, and waits at most `timeout` for both (the
  // node created, the members loaded). Blocking; not on an inline callback thread.
  // Errors: FailedPrecondition (already started; inline callback thread), DeadlineExceeded
  // (the node or the cache not ready in time: they go on trying in the background), Cancelled
  // (client closed).
  absl::Status Start(std::chrono::milliseconds timeout);

  // Sets this member's data (kept for re-creates too). Errors: PersistentNode::SetData's.
  absl::Status SetData(std::string_view data);

  // Returns every member known now, by id, from the cache. Any thread; no round trip.
  Members CurrentMembers() const;

  // Calls `listener` on the client's callback executor with every change of membership, in
  // order (the initial load too, as additions), until the subscription is destroyed.
  Subscription AddListener(Listener listener);

  // Leaves the group: deletes the member node and stops re-creating it; the view of the others
  // goes on. Idempotent. Errors: PersistentNode::Close's.
  absl::Status Leave();

  // The member node's recipe (its events, actual path, create count).
  PersistentNode& node() { return *node_; }
  const std::string& group() const { return group_; }
  const std::string& id() const { return id_; }

 private:
  GroupMember(std::string group, std::string id, std::unique_ptr<PersistentNode> node,
              std::unique_ptr<ChildrenCache> cache);
  const std::string group_;
  const std::string id_;
  const std::unique_ptr<PersistentNode> node_;
  const std::unique_ptr<ChildrenCache> cache_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_GROUP_MEMBER_H_
