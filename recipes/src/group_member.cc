// GroupMember (zk/recipes/group_member.h): a PersistentNode for this member and a ChildrenCache
// for everyone; nothing of its own on the loop.

#include "zk/recipes/group_member.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "recipe_status.h"
#include "zk/path.h"

namespace zk::recipes {

using internal::Av;

absl::StatusOr<std::unique_ptr<GroupMember>> GroupMember::Create(Client& client,
                                                                 std::string_view group,
                                                                 std::string_view id,
                                                                 std::string_view data) {
  ZK_RETURN_IF_ERROR(ValidatePath("group_member", group));
  if (id.empty() || id.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "group_member ", Av(group), ": member id \"", Av(id), "\" must be one path segment"));
  }
  const std::string member_path = JoinPath(group, id);
  ZK_RETURN_IF_ERROR(ValidatePath(absl::StrCat("group_member ", Av(group), ": member id"),
                                  member_path));
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<PersistentNode> node,
                      PersistentNode::Create(client, member_path, data,
                                             {.mode = CreateMode::kEphemeral}));
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ChildrenCache> cache,
                      ChildrenCache::Create(client, group, {.cache_data = true}));
  return std::unique_ptr<GroupMember>(
      new GroupMember(std::string(group), std::string(id), std::move(node), std::move(cache)));
}

GroupMember::GroupMember(std::string group, std::string id, std::unique_ptr<PersistentNode> node,
                         std::unique_ptr<ChildrenCache> cache)
    : group_(std::move(group)), id_(std::move(id)), node_(std::move(node)),
      cache_(std::move(cache)) {}

// Leaves first, so that the others see this member go while its own cache still runs; the
// cache then stops in its destructor.
GroupMember::~GroupMember() { Leave().IgnoreError(); }

absl::Status GroupMember::Start(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ZK_RETURN_IF_ERROR(node_->Start());
  ZK_RETURN_IF_ERROR(cache_->Start());
  ZK_RETURN_IF_ERROR(node_->WaitForInitialCreate(timeout));
  const auto left = std::max(std::chrono::milliseconds(0),
                             std::chrono::duration_cast<std::chrono::milliseconds>(
                                 deadline - std::chrono::steady_clock::now()));
  return cache_->WaitUntilLoaded(left);
}

absl::Status GroupMember::SetData(std::string_view data) { return node_->SetData(data); }

GroupMember::Members GroupMember::CurrentMembers() const {
  Members members;
  for (const auto& [name, child] : *cache_->Snapshot()) members.emplace(name, child.data);
  return members;
}

Subscription GroupMember::AddListener(Listener listener) {
  return cache_->AddListener(std::move(listener));
}

absl::Status GroupMember::Leave() { return node_->Close(); }

}  // namespace zk::recipes
