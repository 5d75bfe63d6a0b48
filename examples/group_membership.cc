// zkcpp example: group membership (zk::recipes::GroupMember on zk::recipes::PersistentNode).
//
// Three workers join the group "workers", each with its own client (as three processes would
// have) and its state as data. Every worker sees all three. An operator deletes w2's member
// node by hand: w2's PersistentNode notices and creates it again, so the group heals by itself.
// Then w3 leaves, and the others see it go.
//
// Run: zkcpp-example-group-membership                     (an embedded server in-process)
//      zkcpp-example-group-membership --connect=host:2181  (a real ensemble)

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "example_main.h"
#include "zk/recipes/group_member.h"

namespace {

using Members = zk::recipes::GroupMember::Members;

// Waits until `member` sees exactly `expected`.
absl::Status WaitForView(zk::recipes::GroupMember& member, const Members& expected,
                         std::string_view what) {
  zk_example::SharedState<Members> view;
  zk::Subscription subscription = member.AddListener(
      [&](const zk::recipes::ChildrenDelta&) {
        view.Update([&](Members& now) { now = member.CurrentMembers(); });
      });
  view.Update([&](Members& now) { now = member.CurrentMembers(); });
  const absl::Status seen =
      view.WaitUntil(what, [&](const Members& now) { return now == expected; });
  return zk_example::Claim(seen.ok(), what);
}

absl::Status Run(const zk_example::Env& env) {
  const std::string group = env.root() + "/workers";
  std::vector<std::unique_ptr<zk::Client>> clients;
  std::vector<std::unique_ptr<zk::recipes::GroupMember>> members;
  for (const char* id : {"w1", "w2", "w3"}) {
    ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, env.Connect());
    ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::GroupMember> member,
                        zk::recipes::GroupMember::Create(*client, group, id, "idle"));
    ZK_RETURN_IF_ERROR(member->Start(std::chrono::seconds(10)));
    clients.push_back(std::move(client));
    members.push_back(std::move(member));
  }
  ZK_RETURN_IF_ERROR(members[0]->SetData("busy"));
  const Members all = {{"w1", "busy"}, {"w2", "idle"}, {"w3", "idle"}};
  for (auto& member : members) {
    ZK_RETURN_IF_ERROR(WaitForView(*member, all, member->id() + " sees all three workers"));
  }

  // An operator deletes w2's node; w2 puts it back.
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> operator_client, env.Connect());
  zk_example::SharedState<int> recreated;
  zk::Subscription node_events =
      members[1]->node().AddListener([&](const zk::recipes::PersistentNodeEvent& event) {
        if (event.type == zk::recipes::PersistentNodeEventType::kCreated && event.recreated) {
          recreated.Update([](int& n) { ++n; });
        }
      });
  ZK_RETURN_IF_ERROR(operator_client->Delete(group + "/w2"));
  const absl::Status back =
      recreated.WaitUntil("w2 re-created", [](const int& n) { return n == 1; });
  ZK_RETURN_IF_ERROR(zk_example::Claim(back.ok(), "w2's node is back after the operator's delete"));
  ZK_RETURN_IF_ERROR(WaitForView(*members[0], all, "w1 sees w2 again"));

  // w3 leaves.
  ZK_RETURN_IF_ERROR(members[2]->Leave());
  const Members two = {{"w1", "busy"}, {"w2", "idle"}};
  ZK_RETURN_IF_ERROR(WaitForView(*members[0], two, "w1 sees w3 gone"));
  ZK_RETURN_IF_ERROR(WaitForView(*members[1], two, "w2 sees w3 gone"));
  std::printf("  w2's node was created %llu times\n",
              static_cast<unsigned long long>(members[1]->node().creates()));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return zk_example::RunExample(argc, argv, "group-membership", Run);
}
