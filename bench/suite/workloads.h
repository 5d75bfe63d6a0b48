// The suite's table of workloads and peers: what runs, on which servers, against whom, which
// figures are reported and the targets printed beside their ratios.

#ifndef ZKCPP_BENCH_SUITE_WORKLOADS_H_
#define ZKCPP_BENCH_SUITE_WORKLOADS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace zkbench {

// The servers every workload may run on.
enum ServerKind { kNoSync = 1, kSync = 2, kEmbedded = 4 };
struct ServerInfo {
  ServerKind kind;
  const char* key;    // --servers
  const char* label;  // table heading
};
const std::vector<ServerInfo>& Servers();

// Run sizes: smoke (tiny, CI), quick (default), full.
enum class Mode { kSmoke = 0, kQuick = 1, kFull = 2 };

// A peer: a driver process. zkcpp is the subject (C library engine, dispatcher executor);
// "zkcpp_inline" is its inline executor, "zkcpp_native" its native protocol engine.
struct Peer {
  std::string key;
  std::string label;
};
const std::vector<Peer>& Peers();
const Peer& PeerByKey(const std::string& key);

// One reported figure of a workload.
struct Metric {
  std::string field;  // of the RESULT line
  std::string label;
  int decimals = 0;
  bool higher_is_better = false;
  // Targets on zkcpp ÷ peer, by peer key.
  std::map<std::string, double> targets;
};

// Sizes by mode (smoke, quick, full). Full mode takes twice the quick counts (the same
// warm-up): its weight is in 5 reps on every server. With 5-10x the counts, one rep of the
// real-server section alone took 13 min here (over 2 h for a whole run).
struct Counts {
  int64_t smoke, quick, full;
  int64_t Of(Mode mode) const { return mode == Mode::kSmoke ? smoke : mode == Mode::kQuick ? quick : full; }
};

// The defaults of a Workload: the client peers, why the others skip, p50 and p99.
std::vector<std::string> ClientPeers();
std::map<std::string, std::string> ClientSkips();
std::vector<Metric> LatencyMetrics();
constexpr unsigned kAllServers = kNoSync | kSync | kEmbedded;

struct Workload {
  std::string key;                   // --workloads
  std::string label;                 // table
  std::string driver_workload;       // --workload= of the drivers
  std::vector<std::string> args;     // extra driver flags
  std::string fixture;               // prepared node the driver uses ("" = a fresh per-run path)
  unsigned servers = kNoSync | kEmbedded;        // in full (and smoke) mode
  unsigned quick_servers = kNoSync;              // in quick mode (a few minutes)
  Counts ops;                        // --ops (lock: unused)
  Counts warmup_ops;
  std::vector<std::string> peers = ClientPeers();             // run, besides zkcpp
  std::map<std::string, std::string> skipped = ClientSkips();  // peer → why not
  std::vector<Metric> metrics = LatencyMetrics();
  bool timed = false;                // lock: --seconds / --warmup_seconds by mode
};
const std::vector<Workload>& Workloads();

// Prepared nodes (see Fixture() in main.cc): name → (data size, children).
struct FixtureSpec {
  std::string path;
  int64_t data_size;
  int64_t children;
};
const std::vector<FixtureSpec>& Fixtures();

}  // namespace zkbench

#endif  // ZKCPP_BENCH_SUITE_WORKLOADS_H_
