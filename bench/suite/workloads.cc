#include "workloads.h"

#include <cstdlib>

namespace zkbench {

const std::vector<ServerInfo>& Servers() {
  static const auto* servers = new std::vector<ServerInfo>{
      {kNoSync, "nosync", "real ZooKeeper 3.8, forceSync=no"},
      {kSync, "sync", "real ZooKeeper 3.8, forceSync=yes (write workloads)"},
      {kEmbedded, "embedded", "embedded server (zkcpp-server process)"},
  };
  return *servers;
}

const std::vector<Peer>& Peers() {
  static const auto* peers = new std::vector<Peer>{
      {"zkcpp", "zkcpp"},
      {"zkcpp_inline", "zkcpp, inline executor"},
      {"zkcpp_native", "zkcpp, native engine"},
      {"mt", "libzookeeper_mt (+ resolution-delay fix)"},
      {"java", "Java client 3.8"},
      {"curator", "Curator 5.4"},
      {"kazoo", "kazoo 2.8"},
      {"raw", "raw-protocol floor"},
  };
  return *peers;
}

const Peer& PeerByKey(const std::string& key) {
  for (const Peer& peer : Peers()) {
    if (peer.key == key) return peer;
  }
  std::abort();
}

const std::vector<FixtureSpec>& Fixtures() {
  static const auto* fixtures = new std::vector<FixtureSpec>{
      {"/bench/data1k", 1024, 0},
      {"/bench/data1m", 1000000, 0},
      {"/bench/children1k", 0, 1000},
      {"/bench/children10k", 0, 10000},
  };
  return *fixtures;
}

namespace {

// Why a peer does not run a workload.
const char kNoRecipe[] = "no such recipe in this client";
const char kCuratorWraps[] = "Curator wraps the Java client: same path";
const char kRawScope[] = "the floor speaks get/set only";

Metric Rate(std::map<std::string, double> targets = {}) {
  return {"rate", "ops/s", 0, true, std::move(targets)};
}
Metric Cpu(std::map<std::string, double> targets = {}) {
  return {"cpu_us_per_op", "client CPU µs/op", 1, false, std::move(targets)};
}
Metric P50(std::map<std::string, double> targets = {}) {
  return {"p50_us", "p50 µs", 0, false, std::move(targets)};
}
Metric P99() { return {"p99_us", "p99 µs", 0, false, {}}; }
Metric Max() { return {"max_us", "max µs", 0, false, {}}; }

std::vector<Workload> MakeWorkloads() {
  std::vector<Workload> w;

  w.push_back({.key = "sync_get",
               .label = "sync get 1 KB",
               .driver_workload = "sync_get",
               .args = {"--size=1024"},
               .fixture = "/bench/data1k",
               .quick_servers = kNoSync | kEmbedded,
               .ops = {200, 2000, 4000},
               .warmup_ops = {20, 500, 500},
               .peers = {"zkcpp_inline", "zkcpp_native", "mt", "java", "kazoo", "raw"},
               .skipped = {{"curator", kCuratorWraps}},
               .metrics = {P50({{"mt", 1.0}, {"java", 1.0}}), P99(), Cpu()}});
  for (int window : {16, 128, 512}) {
    const std::string ws = std::to_string(window);
    w.push_back({.key = "pipelined_get_w" + ws,
                 .label = "pipelined get 1 KB, window " + ws,
                 .driver_workload = "pipelined_get",
                 .args = {"--size=1024", "--window=" + ws},
                 .fixture = "/bench/data1k",
                 .quick_servers = window == 128 ? kNoSync | kEmbedded : unsigned{kNoSync},
                 .ops = {2000, 20000, 40000},
                 .warmup_ops = {200, 5000, 5000},
                 .peers = {"zkcpp_inline", "zkcpp_native", "mt", "java", "kazoo", "raw"},
                 .skipped = {{"curator", kCuratorWraps}},
                 .metrics = {Rate({{"java", 1.0}, {"raw", 0.9}}), Cpu({{"mt", 0.5}})}});
  }
  w.push_back({.key = "pipelined_set_w128",
               .label = "pipelined set 1 KB, window 128",
               .driver_workload = "pipelined_set",
               .args = {"--size=1024", "--window=128"},
               .fixture = "/bench/data1k",
               .servers = kAllServers,
               .quick_servers = kAllServers,
               .ops = {2000, 20000, 40000},
               .warmup_ops = {200, 5000, 5000},
               .peers = {"zkcpp_inline", "zkcpp_native", "mt", "java", "kazoo", "raw"},
               .skipped = {{"curator", kCuratorWraps}},
               .metrics = {Rate({{"java", 1.0}, {"raw", 0.9}}), Cpu({{"mt", 0.5}})}});
  w.push_back({.key = "sync_set",
               .label = "sync set 1 KB",
               .driver_workload = "sync_set",
               .args = {"--size=1024"},
               .fixture = "/bench/data1k",
               .servers = kAllServers,
               .quick_servers = kNoSync | kSync,
               .ops = {100, 1000, 2000},
               .warmup_ops = {10, 300, 300},
               .peers = {"zkcpp_native", "mt", "java", "kazoo", "raw"},
               .skipped = {{"curator", kCuratorWraps}}});
  w.push_back({.key = "create_delete",
               .label = "create + delete pair",
               .driver_workload = "create_delete",
               .servers = kAllServers,
               .quick_servers = kAllServers,
               .ops = {50, 500, 1000},
               .warmup_ops = {5, 200, 200}});
  w.push_back({.key = "multi10",
               .label = "multi of 10 setData",
               .driver_workload = "multi",
               .servers = kAllServers,
               .ops = {50, 500, 1000},
               .warmup_ops = {5, 200, 200}});
  w.push_back({.key = "children_1k",
               .label = "getChildren, 1k children",
               .driver_workload = "children",
               .args = {"--size=1000"},
               .fixture = "/bench/children1k",
               .ops = {20, 500, 1000},
               .warmup_ops = {5, 100, 100}});
  w.push_back({.key = "children_10k",
               .label = "getChildren, 10k children",
               .driver_workload = "children",
               .args = {"--size=10000"},
               .fixture = "/bench/children10k",
               .ops = {5, 100, 200},
               .warmup_ops = {2, 30, 30}});
  w.push_back({.key = "watch",
               .label = "watch: set on B → callback on A",
               .driver_workload = "watch",
               .ops = {20, 300, 600},
               .warmup_ops = {5, 100, 100},
               .metrics = {P50({{"mt", 1.0}}), P99()}});
  w.push_back({.key = "fanout",
               .label = "one change → 1,000 watchers",
               .driver_workload = "fanout",
               .args = {"--contenders=1000"},
               .ops = {2, 10, 20},
               .warmup_ops = {1, 3, 3},
               .metrics = {P50(), Max()}});
  // Persistent recursive watches: zkcpp's C library engine emulates them (one-shot watches and
  // a read per event), its native engine and the Java client use addWatch, Curator's
  // CuratorCache uses addWatch and reads each changed node.
  w.push_back({.key = "subtree_watch",
               .label = "recursive watch: set of 1 of 10 children → callback",
               .driver_workload = "subtree_watch",
               .ops = {20, 300, 600},
               .warmup_ops = {5, 100, 100},
               .peers = {"zkcpp_native", "java", "curator"},
               .skipped = {{"mt", "the C library has no addWatch"},
                           {"kazoo", "kazoo 2.8 has no persistent watches"},
                           {"raw", kRawScope}}});
  w.push_back({.key = "get_1m",
               .label = "sync get 1 MB",
               .driver_workload = "sync_get",
               .args = {"--size=1000000"},
               .fixture = "/bench/data1m",
               .ops = {5, 50, 100},
               .warmup_ops = {2, 10, 10},
               .peers = {"zkcpp_native", "mt", "java", "kazoo", "raw"},
               .skipped = {{"curator", kCuratorWraps}},
               .metrics = {P50(), P99(), Cpu()}});
  w.push_back({.key = "set_1m",
               .label = "sync set 1 MB",
               .driver_workload = "sync_set",
               .args = {"--size=1000000"},
               .fixture = "/bench/data1m",
               .servers = kAllServers,
               .ops = {5, 50, 100},
               .warmup_ops = {2, 10, 10},
               .peers = {"zkcpp_native", "mt", "java", "kazoo", "raw"},
               .skipped = {{"curator", kCuratorWraps}},
               .metrics = {P50(), P99(), Cpu()}});
  w.push_back({.key = "session",
               .label = "session establishment",
               .driver_workload = "session",
               .ops = {5, 50, 100},
               .warmup_ops = {2, 10, 10},
               .peers = {"zkcpp_native", "mt", "java", "curator", "kazoo"},
               .skipped = {{"raw", kRawScope}}});
  const std::map<std::string, std::string> recipe_skips = {
      {"mt", kNoRecipe}, {"java", kNoRecipe}, {"raw", kNoRecipe}};
  // `driver_workload` "lock" releases with LockGuard::Release() (waits for the delete, as the
  // peers' releases do); "lock_scoped" drops the guard — the idiomatic C++ form: the delete is
  // sent and not awaited, the next acquisition queues behind it on the same session. The peers
  // release as in "lock" either way.
  auto lock_workload = [&](std::string key, std::string label, std::string driver_workload,
                           int contenders) {
    w.push_back({.key = std::move(key),
                 .label = std::move(label),
                 .driver_workload = std::move(driver_workload),
                 .args = {"--contenders=" + std::to_string(contenders)},
                 .ops = {1, 1, 1},
                 .warmup_ops = {0, 0, 0},
                 .peers = {"curator", "kazoo"},
                 .skipped = recipe_skips,
                 .metrics = {{"rate", "cycles/s", 0, true, {{"curator", 2.0}}},
                             {"p99_us", "acquire wait p99 µs", 0, false, {}},
                             Cpu()},
                 .timed = true});
  };
  lock_workload("lock1", "lock cycles, uncontended", "lock", 1);
  lock_workload("lock4", "lock cycles, 4 contenders", "lock", 4);
  lock_workload("lock16", "lock cycles, 16 contenders", "lock", 16);
  lock_workload("lock1_scoped", "lock cycles, uncontended, zkcpp releasing by guard scope",
                "lock_scoped", 1);
  w.push_back({.key = "handoff",
               .label = "leader handoff: leader leaves → follower told",
               .driver_workload = "handoff",
               .ops = {3, 30, 60},
               .warmup_ops = {1, 10, 10},
               .peers = {"curator", "kazoo"},
               .skipped = recipe_skips,
               .metrics = {P50({{"curator", 0.4}}), Max()}});
  // Curator: curator-x-discovery's ServiceDiscovery and ServiceCache (built into the Java
  // drivers with the other Curator jars). kazoo has no service discovery recipe.
  const std::map<std::string, std::string> discovery_skips = {
      {"kazoo", kNoRecipe}, {"mt", kNoRecipe}, {"java", kNoRecipe}, {"raw", kNoRecipe}};
  w.push_back({.key = "discovery_lookup",
               .label = "discovery lookup (cached), 10 instances",
               .driver_workload = "discovery_lookup",
               .args = {"--contenders=10"},
               .ops = {100, 100000, 300000},
               .warmup_ops = {10, 10000, 10000},
               .peers = {"curator"},
               .skipped = discovery_skips,
               .metrics = {Rate(), {"p50_us", "p50 µs", 2, false, {}}}});
  w.push_back({.key = "discovery_propagation",
               .label = "discovery: register → cache sees it",
               .driver_workload = "discovery_propagation",
               .args = {"--contenders=10"},
               .ops = {3, 50, 100},
               .warmup_ops = {1, 10, 10},
               .peers = {"curator"},
               .skipped = discovery_skips});
  w.push_back({.key = "config",
               .label = "config push → 20 subscribers",
               .driver_workload = "config",
               .args = {"--contenders=20"},
               .ops = {3, 50, 100},
               .warmup_ops = {1, 10, 10},
               .peers = {"curator", "kazoo"},
               .skipped = recipe_skips});
  return w;
}

}  // namespace

std::vector<std::string> ClientPeers() { return {"zkcpp_native", "mt", "java", "kazoo"}; }
std::map<std::string, std::string> ClientSkips() {
  return {{"curator", kCuratorWraps}, {"raw", kRawScope}};
}
std::vector<Metric> LatencyMetrics() { return {P50(), P99()}; }

const std::vector<Workload>& Workloads() {
  static const auto* workloads = new std::vector<Workload>(MakeWorkloads());
  return *workloads;
}

}  // namespace zkbench
