// zkcpp-demo: the used-by scenarios of zkcpp, one after the other, each checking its claim.
//
//   1. service registry  three providers register; a consumer discovers them, calls them
//                        round-robin, and drops a dead one from its list without a restart;
//   2. order lock        four workers take a distributed lock around an id generator: no
//                        overlap, fencing tokens strictly increasing;
//   3. failover          an active/standby pair on leader election; the active dies and the
//                        standby takes over (the failover time is printed);
//   4. config push       one publisher, five subscribers; every change reaches every
//                        subscriber, in order (the propagation times are printed).
//
// By default the scenarios run against zkcpp's embedded server, started in-process (no Java
// needed); with --connect=host:port,... they run against a real ensemble, each under its own
// "/zkcpp-demo/<scenario>-<random>" subtree, which it removes when done. The exit status is 0
// only if every scenario that ran verified its claim; 2 for bad flags or an unreachable server.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "demo/demo.h"
#include "zk/client.h"
#include "zk/testing/embedded_server.h"

ABSL_FLAG(std::string, connect, "",
          "ZooKeeper connect string (host:port,...); empty = start an embedded server in-process");
ABSL_FLAG(std::string, scenario, "all", "which scenario to run: registry|lock|failover|config|all");
ABSL_FLAG(bool, verbose, false, "also show the ZooKeeper C library's log lines");

namespace {

using zkcpp_demo::DemoContext;

struct Scenario {
  const char* flag;   // its --scenario name
  const char* title;  // its header
  const char* what;   // what it shows, in a few words
  absl::StatusOr<std::string> (*run)(const DemoContext& context);
};

constexpr Scenario kScenarios[] = {
    {"registry", "service registry", "providers come and go, a consumer's list follows",
     &zkcpp_demo::RunRegistryScenario},
    {"lock", "order lock", "createId() never runs twice at once",
     &zkcpp_demo::RunOrderLockScenario},
    {"failover", "active/standby", "the standby takes over when the active dies",
     &zkcpp_demo::RunActiveStandbyScenario},
    {"config", "config push", "every subscriber sees every change, in order",
     &zkcpp_demo::RunConfigPushScenario},
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "runs zkcpp's used-by scenarios (service registry, order lock, active/standby failover, "
      "config push) against an embedded server, or a real ensemble with --connect");
  absl::ParseCommandLine(argc, argv);
  const std::string which = absl::GetFlag(FLAGS_scenario);
  std::vector<const Scenario*> selected;
  for (const Scenario& scenario : kScenarios) {
    if (which == "all" || which == scenario.flag) selected.push_back(&scenario);
  }
  if (selected.empty()) {
    std::fprintf(stderr, "unknown --scenario=%s (registry|lock|failover|config|all)\n",
                 which.c_str());
    return 2;
  }

  DemoContext context{.connect_string = absl::GetFlag(FLAGS_connect),
                      .verbose = absl::GetFlag(FLAGS_verbose)};
  std::unique_ptr<zk::testing::EmbeddedServer> server;
  if (context.connect_string.empty()) {
    absl::StatusOr<std::unique_ptr<zk::testing::EmbeddedServer>> started =
        zk::testing::EmbeddedServer::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start the embedded server: %s\n",
                   zkcpp_demo::Describe(started.status()).c_str());
      return 2;
    }
    server = *std::move(started);
    context.connect_string = server->connect_string();
    context.embedded_server = server.get();
    std::printf("zkcpp demo: embedded ZooKeeper-compatible server at %s (in-process)\n",
                context.connect_string.c_str());
    std::printf("(--connect=host:port,... runs the same scenarios against a real ensemble)\n");
  } else {
    std::printf("zkcpp demo: ZooKeeper ensemble at %s\n", context.connect_string.c_str());
  }

  // One reachability check up front: otherwise every scenario would wait out its own connect
  // deadline before saying the same thing.
  if (absl::StatusOr<std::unique_ptr<zk::Client>> probe =
          zkcpp_demo::ConnectClient(context, "demo");
      !probe.ok()) {
    std::fprintf(stderr, "%s\n", zkcpp_demo::Describe(probe.status()).c_str());
    return 2;
  }

  // Every scenario runs, even after a failure, so that one broken claim does not hide others.
  std::vector<absl::StatusOr<std::string>> results;
  for (size_t i = 0; i < selected.size(); ++i) {
    zkcpp_demo::Header(static_cast<int>(i + 1), static_cast<int>(selected.size()),
                       selected[i]->title, selected[i]->what);
    results.push_back(selected[i]->run(context));
    if (!results.back().ok()) {
      zkcpp_demo::Say("FAILED: %s", zkcpp_demo::Describe(results.back().status()).c_str());
    }
  }

  std::printf("\n=== summary\n");
  size_t passed = 0;
  for (size_t i = 0; i < selected.size(); ++i) {
    const absl::StatusOr<std::string>& result = results[i];
    if (result.ok()) ++passed;
    std::printf("  %-9s %-6s %s\n", selected[i]->flag, result.ok() ? "ok" : "FAILED",
                result.ok() ? result->c_str() : zkcpp_demo::Describe(result.status()).c_str());
  }
  if (passed == selected.size()) {
    if (selected.size() == 1) {
      std::printf("scenario %s ok\n", selected[0]->flag);
    } else {
      std::printf("all %zu scenarios ok\n", selected.size());
    }
    return 0;
  }
  std::printf("%zu of %zu scenarios FAILED\n", selected.size() - passed, selected.size());
  return 1;
}
