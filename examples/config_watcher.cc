// zkcpp example: configuration push (zk::recipes::ConfigWatcher).
//
// Two app instances, each with its own client, watch a config node "rps=<n>" and decode it to an
// int; an operator publishes new values, once as a compare-and-set. It checks that both instances
// end on the last value, that each saw values only move forward (increasing mzxid), and that a
// compare-and-set on a stale version is refused.
//
// Run: zkcpp-example-config-watcher                     (an embedded server in-process)
//      zkcpp-example-config-watcher --connect=host:2181  (a real ensemble)

#include "zk/recipes/config_watcher.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "example_main.h"

namespace {

using zk::recipes::ConfigWatcher;

// Decodes "rps=<n>".
absl::StatusOr<int> ParseRps(std::string_view data) {
  int rps = 0;
  if (data.substr(0, 4) != "rps=" || !absl::SimpleAtoi(std::string(data.substr(4)), &rps)) {
    return absl::InvalidArgumentError("not rps=<n>: " + std::string(data));
  }
  return rps;
}

struct Seen {
  std::vector<int> values;
  std::vector<int64_t> mzxids;
};

absl::Status Run(const zk_example::Env& env) {
  const std::string path = env.root() + "/limits";
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> operator_client, env.Connect());
  ZK_ASSIGN_OR_RETURN(zk::Stat v0, ConfigWatcher::Publish(*operator_client, path, "rps=100"));

  zk_example::SharedState<Seen> seen[2];
  std::unique_ptr<zk::Client> clients[2];
  std::unique_ptr<ConfigWatcher> watchers[2];
  zk::Subscription listeners[2];
  for (int i = 0; i < 2; ++i) {
    ZK_ASSIGN_OR_RETURN(clients[i], env.Connect());
    ZK_ASSIGN_OR_RETURN(watchers[i], ConfigWatcher::Create(*clients[i], path));
    listeners[i] = watchers[i]->AddTypedListener<int>(
        ParseRps, [i, &seen](const absl::StatusOr<int>& rps, const zk::recipes::ConfigValue& raw) {
          if (!rps.ok()) return;
          std::printf("  [app %d] rps is now %d\n", i, *rps);
          seen[i].Update([&](Seen& s) {
            s.values.push_back(*rps);
            s.mzxids.push_back(raw.mzxid());
          });
        });
    ZK_RETURN_IF_ERROR(watchers[i]->Start());
    ZK_RETURN_IF_ERROR(watchers[i]->WaitUntilLoaded(std::chrono::seconds(10)));
    ZK_ASSIGN_OR_RETURN(int rps, watchers[i]->CurrentAs<int>(ParseRps));
    std::printf("  app %d started with rps=%d\n", i, rps);
  }

  // Compare-and-set from the version read: accepted once, refused when stale.
  ZK_RETURN_IF_ERROR(
      ConfigWatcher::Publish(*operator_client, path, "rps=200", v0.version).status());
  absl::Status stale =
      ConfigWatcher::Publish(*operator_client, path, "rps=999", v0.version).status();
  std::printf("  publish on the stale version %d: %s\n", v0.version, stale.ToString().c_str());
  ZK_RETURN_IF_ERROR(
      zk_example::Claim(absl::IsAborted(stale), "a stale compare-and-set is refused"));
  ZK_RETURN_IF_ERROR(ConfigWatcher::Publish(*operator_client, path, "rps=300").status());

  for (int i = 0; i < 2; ++i) {
    ZK_RETURN_IF_ERROR(seen[i].WaitUntil("the app sees rps=300", [](const Seen& s) {
      return !s.values.empty() && s.values.back() == 300;
    }));
    const Seen s = seen[i].Get();
    bool forward = true;
    for (size_t k = 1; k < s.mzxids.size(); ++k) forward &= s.mzxids[k] > s.mzxids[k - 1];
    for (int value : s.values) forward &= value != 999;
    ZK_RETURN_IF_ERROR(zk_example::Claim(
        forward, "app " + std::to_string(i) + " ends on rps=300, values only moved forward"));
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return zk_example::RunExample(argc, argv, "config_watcher", Run);
}
