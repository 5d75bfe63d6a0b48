// zkcpp example: leader election, latch style (zk::recipes::LeaderElection).
//
// Three candidates, each with its own client (as three processes would have), join one
// election. The first to join leads (AwaitLeadership); then its process "crashes" (its client
// closes) and another candidate takes over, told by a listener. It checks that exactly one
// candidate leads at a time, that the epoch (a fencing token) grows from one leader to the
// next, and that a former leader's fenced write is refused.
//
// Run: zkcpp-example-leader-election                     (an embedded server in-process)
//      zkcpp-example-leader-election --connect=host:2181  (a real ensemble)

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "example_main.h"
#include "zk/recipes/leader_election.h"

namespace {

using zk::recipes::LeaderElection;

struct Candidate {
  std::unique_ptr<zk::Client> client;
  std::unique_ptr<LeaderElection> election;
  zk::Subscription listener;
};

absl::Status Run(const zk_example::Env& env) {
  const std::string path = env.root() + "/leader";
  zk_example::SharedState<std::vector<std::string>> elected;  // ids, in the order elected
  std::vector<Candidate> candidates(3);
  for (int i = 0; i < 3; ++i) {
    const std::string id = "candidate-" + std::to_string(i);
    Candidate& c = candidates[i];
    ZK_ASSIGN_OR_RETURN(c.client, env.Connect());
    ZK_ASSIGN_OR_RETURN(c.election,
                        LeaderElection::Create(*c.client, path, {.participant_id = id}));
    c.listener = c.election->AddListener([id, &elected](const zk::recipes::LeadershipEvent& e) {
      std::printf("  [%s] %s (%s, epoch %lld)\n", id.c_str(), e.is_leader ? "leads" : "follows",
                  std::string(zk::recipes::LeadershipReasonName(e.reason)).c_str(),
                  static_cast<long long>(e.epoch));
      if (e.is_leader) elected.Update([&](std::vector<std::string>& ids) { ids.push_back(id); });
    });
    ZK_RETURN_IF_ERROR(c.election->Start());
    // Wait for the first candidate to lead before the others queue behind it.
    if (i == 0) ZK_RETURN_IF_ERROR(c.election->AwaitLeadership(std::chrono::seconds(10)));
  }
  auto leaders = [&] {
    int n = 0;
    for (const Candidate& c : candidates) n += c.election->IsLeader() ? 1 : 0;
    return n;
  };
  ZK_ASSIGN_OR_RETURN(std::string current, candidates[1].election->CurrentLeader());
  std::printf("  current leader, as candidate-1 sees it: %s\n", current.c_str());
  ZK_RETURN_IF_ERROR(zk_example::Claim(leaders() == 1 && current == "candidate-0",
                                       "exactly one leader: the first to join"));
  const int64_t first_epoch = candidates[0].election->epoch();
  ZK_ASSIGN_OR_RETURN(std::vector<zk::Op> fenced,
                      candidates[0].election->Guard({zk::op::Create{.path = path + "-log"}}));

  std::printf("  candidate-0 crashes\n");
  candidates[0].client->Close();
  ZK_RETURN_IF_ERROR(
      elected.WaitUntil("a new leader is elected",
                        [](const std::vector<std::string>& ids) { return ids.size() >= 2; }));
  const std::string next = elected.Get()[1];
  Candidate* leader = next == "candidate-1" ? &candidates[1] : &candidates[2];
  ZK_RETURN_IF_ERROR(
      zk_example::Claim(next != "candidate-0" && leaders() == 1, "one new leader took over"));
  std::printf("  epochs: %lld, then %lld\n", static_cast<long long>(first_epoch),
              static_cast<long long>(leader->election->epoch()));
  ZK_RETURN_IF_ERROR(
      zk_example::Claim(leader->election->epoch() > first_epoch, "the epoch grows"));

  // The old leader's fenced ops (prepared while it led) no longer commit.
  absl::Status stale = leader->client->Multi(fenced).status();
  std::printf("  the old leader's fenced write: %s\n", stale.ToString().c_str());
  return zk_example::Claim(absl::IsNotFound(stale), "a former leader's fenced write is refused");
}

}  // namespace

int main(int argc, char** argv) {
  return zk_example::RunExample(argc, argv, "leader_election", Run);
}
