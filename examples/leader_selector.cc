// zkcpp example: leader election, selector style (zk::recipes::LeaderSelector).
//
// Three workers, each with its own client (as three processes would have), run a selector: a
// take-leadership function runs while the worker leads and gives leadership up when it
// returns; the worker then queues again at the back. Leadership thus rotates. It checks that
// no two terms overlap, that every worker led, and that the epoch grows from term to term.
//
// Run: zkcpp-example-leader-selector                     (an embedded server in-process)
//      zkcpp-example-leader-selector --connect=host:2181  (a real ensemble)

#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "example_main.h"
#include "zk/recipes/leader_election.h"

namespace {

using zk::recipes::LeaderSelector;

struct Terms {
  int leading = 0;   // workers inside take_leadership right now
  int overlaps = 0;  // terms that began while another was running
  std::vector<int64_t> epochs;
  std::set<std::string> leaders;
};

absl::Status Run(const zk_example::Env& env) {
  zk_example::SharedState<Terms> terms;
  std::vector<std::unique_ptr<zk::Client>> clients;
  std::vector<std::unique_ptr<LeaderSelector>> selectors;
  for (int i = 0; i < 3; ++i) {
    const std::string id = "worker-" + std::to_string(i);
    ZK_ASSIGN_OR_RETURN(clients.emplace_back(), env.Connect());
    auto take_leadership = [id, &terms](const zk::recipes::LeadershipContext& context) {
      terms.Update([&](Terms& t) {
        if (++t.leading > 1) ++t.overlaps;
        t.epochs.push_back(context.epoch());
        t.leaders.insert(id);
      });
      std::printf("  %s leads (epoch %lld)\n", id.c_str(),
                  static_cast<long long>(context.epoch()));
      context.WaitWhileLeader(std::chrono::milliseconds(50));  // the leader's work
      terms.Update([](Terms& t) { --t.leading; });
    };  // returning gives leadership up
    ZK_ASSIGN_OR_RETURN(selectors.emplace_back(),
                        LeaderSelector::Create(*clients.back(), env.root() + "/leader",
                                               {.election = {.participant_id = id}},
                                               take_leadership));
    ZK_RETURN_IF_ERROR(selectors.back()->Start());
  }
  ZK_RETURN_IF_ERROR(terms.WaitUntil("every worker led twice", [](const Terms& t) {
    return t.leaders.size() == 3 && t.epochs.size() >= 6;
  }));
  selectors.clear();  // stops: a running take_leadership is told and joined

  const Terms t = terms.Get();
  ZK_RETURN_IF_ERROR(zk_example::Claim(t.overlaps == 0, "no two terms overlapped"));
  ZK_RETURN_IF_ERROR(zk_example::Claim(t.leaders.size() == 3, "leadership rotated to everyone"));
  bool growing = true;
  for (size_t i = 1; i < t.epochs.size(); ++i) growing &= t.epochs[i] > t.epochs[i - 1];
  return zk_example::Claim(growing, "the epoch grows from term to term");
}

}  // namespace

int main(int argc, char** argv) {
  return zk_example::RunExample(argc, argv, "leader_selector", Run);
}
