// zkcpp_bench: the side-by-side suite. Runs every workload of workloads.cc against every peer on
// the same server in one run, interleaved, and prints one markdown table per server: median
// (min–max) over reps per workload and peer, the ratio zkcpp ÷ peer (median of the per-rep
// ratios) and the target beside it.
//
//   zkcpp_bench            quick: 3 reps
//   zkcpp_bench --full     5 reps, twice the quick counts, every workload on every server
//   zkcpp_bench --smoke    1 rep, tiny counts (CI; the numbers mean nothing)
//
// Servers, one after the other (each started fresh, SIGKILLed after its section): the real
// ZooKeeper 3.8 standalone with forceSync=no (every workload), the same with forceSync=yes (the
// write workloads), zkcpp's embedded server as the zkcpp-server process; last, the start →
// serving time of the embedded server and of the JVM. On each server, rep after rep, every
// workload runs every peer, the order of the peers rotating from rep to rep; every run is one
// fresh driver process (common/driver_common.h).
//
// The exit status says whether every run succeeded, never whether a target was met.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "loops.h"
#include "peers.h"
#include "process.h"
#include "report.h"
#include "workloads.h"
#include "zk/client.h"
#include "zk/testing/embedded_server.h"
#include "zookeeper_server.h"

ABSL_FLAG(bool, smoke, false, "One rep, tiny counts, no warm-up (CI; the numbers mean nothing).");
ABSL_FLAG(bool, full, false,
          "5 reps, twice the quick counts, every workload on every server (instead of 3 reps).");
ABSL_FLAG(int, reps, 0, "Interleaved repetitions (0: 1 smoke / 3 quick / 5 full).");
ABSL_FLAG(std::string, workloads, "", "Comma-separated workload keys (default: all).");
ABSL_FLAG(std::string, peers, "", "Comma-separated peer keys besides zkcpp (default: all found).");
ABSL_FLAG(std::string, servers, "nosync,sync,embedded,start",
          "Sections to run: nosync, sync, embedded, start (server start times).");
ABSL_FLAG(bool, keep_server_dir, false, "Keep the servers' temp directories (config, log).");

namespace zkbench {
namespace {

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true); }

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

bool Selected(const std::string& list, const std::string& key) {
  if (list.empty()) return true;
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    if (item == key) return true;
  }
  return false;
}

// The prepared nodes of workloads.cc's Fixtures(), and the parent of the per-run paths.
absl::Status PrepareFixtures(zk::Client& client) {
  ZK_RETURN_IF_ERROR(client.EnsurePath("/bench/run"));
  for (const FixtureSpec& f : Fixtures()) {
    absl::Status created =
        client.Create(f.path, std::string(static_cast<size_t>(f.data_size), 'x')).status();
    if (!created.ok() && !zk::IsNodeExists(created)) return created;
    if (f.children == 0) continue;
    std::atomic<int64_t> next{0};
    const Measurement m = Pipeline::Run(f.children, 128, [&](Pipeline* p) {
      client.AsyncCreate(absl::StrCat(f.path, "/child-", next.fetch_add(1)), "", {},
                         [p](absl::StatusOr<zk::CreateResult> r) { p->Done(r.ok()); });
    });
    if (m.errors > 0) {
      return absl::InternalError(absl::StrCat("creating the children of ", f.path, " failed"));
    }
  }
  return absl::OkStatus();
}

class Suite {
 public:
  Suite(Mode mode, int reps, std::vector<std::string> peers)
      : mode_(mode), reps_(reps), peers_(std::move(peers)) {}

  // Runs the workloads of one server section and prints its table. False if a run failed.
  bool RunSection(const ServerInfo& server) {
    std::vector<const Workload*> workloads;
    for (const Workload& w : Workloads()) {
      const unsigned servers = mode_ == Mode::kQuick ? w.quick_servers : w.servers;
      if ((servers & server.kind) && Selected(absl::GetFlag(FLAGS_workloads), w.key)) {
        workloads.push_back(&w);
      }
    }
    if (workloads.empty()) return true;
    ZooKeeperServerOptions options{.force_sync = server.kind == kSync,
                                   .keep_directory = absl::GetFlag(FLAGS_keep_server_dir)};
    if (server.kind == kEmbedded) options.embedded_binary = EmbeddedServerBinary();
    const int64_t t0 = NowNanos();
    absl::StatusOr<std::unique_ptr<ZooKeeperServer>> started = ZooKeeperServer::Start(options);
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start the %s server: %s\n", server.key,
                   started.status().ToString().c_str());
      return false;
    }
    hosts_ = (*started)->connect_string();
    std::fprintf(stderr, "== %s on %s, serving after %.2f s; load %s\n", server.label,
                 hosts_.c_str(), (NowNanos() - t0) / 1e9, LoadAverage().c_str());
    ServerFigures& figures = server_figures_[server.kind];
    figures.rss_idle_mb = VmRssMb((*started)->pid());
    if (!Prepare()) return false;
    figures.rss_loaded_mb = VmRssMb((*started)->pid());

    if (mode_ != Mode::kSmoke && server.kind != kEmbedded) WarmUpServer();
    std::map<std::string, std::map<std::string, Samples>> runs;  // workload → peer → reps
    bool ok = true;
    for (int rep = 0; rep < reps_ && !g_interrupted.load(); ++rep) {
      std::fprintf(stderr, "-- %s, rep %d/%d (load %s)\n", server.key, rep + 1, reps_,
                   LoadAverage().c_str());
      for (const Workload* w : workloads) {
        std::vector<std::string> order = PeersOf(*w);
        std::rotate(order.begin(), order.begin() + rep % order.size(), order.end());
        for (const std::string& peer : order) {
          if (g_interrupted.load()) break;
          std::optional<Result> r = RunOne(server, *w, peer, rep);
          ok = ok && r.has_value();
          runs[w->key][peer].push_back(std::move(r));
        }
      }
    }
    std::printf("\n### %s\n\n", server.label);
    PrintTableHeader();
    for (const Workload* w : workloads) PrintWorkloadRows(*w, runs[w->key], mode_ != Mode::kSmoke);
    std::fflush(stdout);
    for (const char* key : {"pipelined_get_w128", "pipelined_set_w128"}) {
      if (runs.count(key) != 0) figures.zkcpp_rate[key] = MedianOf(runs[key]["zkcpp"], "rate");
    }
    client_.reset();  // before the server goes
    return ok;
  }

  // Issue 3's comparison: the same client (zkcpp) against the embedded server and the real one
  // (forceSync=no), from the two sections of this run; RSS of the two server processes.
  void PrintServerComparison() const {
    auto embedded = server_figures_.find(kEmbedded);
    auto real = server_figures_.find(kNoSync);
    if (embedded == server_figures_.end() || real == server_figures_.end()) return;
    const bool judge = mode_ != Mode::kSmoke;
    int64_t nodes = 0;
    for (const FixtureSpec& f : Fixtures()) nodes += 1 + f.children;
    std::printf("\n### embedded server ÷ real ZooKeeper 3.8 (forceSync=no), the same client "
                "(zkcpp, dispatcher)\n\n"
                "| figure | embedded | real | embedded ÷ real | target |\n"
                "| --- | --- | --- | --- | --- |\n");
    auto row = [&](const std::string& figure, double e, double r, double target, bool higher) {
      if (e <= 0 || r <= 0) return;
      const double ratio = e / r;
      const bool met = higher ? ratio >= target : ratio <= target;
      std::printf("| %s | %.1f | %.1f | %.3f× | %s %.1f× %s |\n", figure.c_str(), e, r, ratio,
                  higher ? "≥" : "≤", target, !judge ? "" : met ? "✓" : "**✗**");
    };
    for (const auto& [key, label] : {std::pair<std::string, std::string>{"pipelined_get_w128",
                                                                         "pipelined get w128, ops/s"},
                                     {"pipelined_set_w128", "pipelined set w128, ops/s"}}) {
      auto e = embedded->second.zkcpp_rate.find(key);
      auto r = real->second.zkcpp_rate.find(key);
      if (e != embedded->second.zkcpp_rate.end() && r != real->second.zkcpp_rate.end()) {
        row(label, e->second, r->second, 2.0, true);
      }
    }
    row("server RSS idle, MB", embedded->second.rss_idle_mb, real->second.rss_idle_mb, 0.1, false);
    row(absl::StrCat("server RSS with the ", nodes, " fixture nodes, MB"),
        embedded->second.rss_loaded_mb, real->second.rss_loaded_mb, 0.1, false);
    std::printf("\nThroughput: medians of the two sections' zkcpp rows (the sections run one "
                "after the other). RSS: VmRSS of the server process (the JVM; zkcpp-server) "
                "right after it serves, and after the fixtures are created.\n");
  }

  // Start → serving of zkcpp-server and of the JVM, alternating. False if a start failed.
  bool RunStartSection() {
    std::vector<double> embedded_ms, in_process_ms, java_ms;
    for (int rep = 0; rep < reps_ && !g_interrupted.load(); ++rep) {
      {
        // In-process, as a test uses it: Start() returns serving; `srvr` answered for parity.
        const int64_t t0 = NowNanos();
        absl::StatusOr<std::unique_ptr<zk::testing::EmbeddedServer>> server =
            zk::testing::EmbeddedServer::Start();
        absl::StatusOr<std::string> srvr =
            server.ok() ? FourLetterWord((*server)->member_port(0), "srvr") : server.status();
        const double ms = (NowNanos() - t0) / 1e6;
        if (!srvr.ok()) {
          std::fprintf(stderr, "in-process server start: %s\n", srvr.status().ToString().c_str());
          return false;
        }
        std::fprintf(stderr, "  start rep %d %-8s %.3f ms\n", rep + 1, "in-proc", ms);
        in_process_ms.push_back(ms);
      }
      for (int i = 0; i < 2; ++i) {
        const bool embedded = (i + rep) % 2 == 0;
        ZooKeeperServerOptions options{.ready_poll_ms = 2};
        if (embedded) options.embedded_binary = EmbeddedServerBinary();
        const int64_t t0 = NowNanos();
        absl::StatusOr<std::unique_ptr<ZooKeeperServer>> server = ZooKeeperServer::Start(options);
        const double ms = (NowNanos() - t0) / 1e6;
        if (!server.ok()) {
          std::fprintf(stderr, "server start: %s\n", server.status().ToString().c_str());
          return false;
        }
        std::fprintf(stderr, "  start rep %d %-8s %.2f ms\n", rep + 1,
                     embedded ? "embedded" : "java", ms);
        (embedded ? embedded_ms : java_ms).push_back(ms);
      }
    }
    std::printf("\n### server start (until `srvr` answers; processes polled every 2 ms)\n\n");
    PrintTableHeader();
    PrintStartRows(embedded_ms, in_process_ms, java_ms, mode_ != Mode::kSmoke);
    std::fflush(stdout);
    return true;
  }

 private:
  std::vector<std::string> PeersOf(const Workload& w) const {
    std::vector<std::string> out = {"zkcpp"};
    for (const std::string& peer : w.peers) {
      if (std::find(peers_.begin(), peers_.end(), peer) != peers_.end()) out.push_back(peer);
    }
    return out;
  }

  bool Prepare() {
    absl::StatusOr<std::unique_ptr<zk::Client>> client = zk::Client::Connect(
        {.connect_string = hosts_, .callback_execution = zk::CallbackExecution::kInline});
    absl::Status s = client.ok() ? (*client)->WaitUntilConnected(std::chrono::seconds(30))
                                 : client.status();
    if (s.ok()) s = PrepareFixtures(**client);
    if (!s.ok()) std::fprintf(stderr, "cannot prepare the nodes: %s\n", s.ToString().c_str());
    return s.ok();
  }

  // The server's JIT needs tens of thousands of requests before its numbers settle; the drivers'
  // own warm-up only warms the client side.
  void WarmUpServer() {
    for (const char* workload : {"pipelined_get", "pipelined_set", "pipelined_get"}) {
      (void)RunDriver(Command("zkcpp", {absl::StrCat("--hosts=", hosts_), "--path=/bench/data1k",
                                        absl::StrCat("--workload=", workload), "--ops=30000",
                                        "--warmup_ops=0", "--size=1024", "--window=128"}));
    }
  }

  std::optional<Result> RunOne(const ServerInfo& server, const Workload& w,
                               const std::string& peer, int rep) {
    std::string path = w.fixture;
    if (path.empty()) {
      path = absl::StrCat("/bench/run/", w.key, "-", peer, "-", rep);
      if (!EnsureRunPath(path)) return std::nullopt;
    }
    std::vector<std::string> args = {
        absl::StrCat("--hosts=", hosts_), absl::StrCat("--path=", path),
        absl::StrCat("--workload=", w.driver_workload), absl::StrCat("--ops=", w.ops.Of(mode_)),
        absl::StrCat("--warmup_ops=", w.warmup_ops.Of(mode_))};
    args.insert(args.end(), w.args.begin(), w.args.end());
    if (w.timed) {
      static constexpr double kSeconds[] = {0.3, 1, 2}, kWarmup[] = {0.1, 0.5, 1};
      args.push_back(absl::StrCat("--seconds=", kSeconds[static_cast<int>(mode_)]));
      args.push_back(absl::StrCat("--warmup_seconds=", kWarmup[static_cast<int>(mode_)]));
    }
    absl::StatusOr<Result> r = RunDriver(Command(peer, std::move(args)));
    if (!r.ok()) {
      std::fprintf(stderr, "  %s %s %s: FAILED: %s\n", server.key, w.key.c_str(), peer.c_str(),
                   r.status().ToString().c_str());
      return std::nullopt;
    }
    Result& v = *r;
    std::fprintf(stderr,
                 "  %-8s %-20s %-13s rate %9.0f/s  p50 %9.1f us  p99 %9.1f us  max %9.1f us  "
                 "cpu %7.2f us/op\n",
                 server.key, w.key.c_str(), peer.c_str(), v["rate"], v["p50_us"], v["p99_us"],
                 v["max_us"], v["cpu_us_per_op"]);
    return v;
  }

  bool EnsureRunPath(const std::string& path) {
    if (!client_ || client_hosts_ != hosts_) {
      client_.reset();
      absl::StatusOr<std::unique_ptr<zk::Client>> c = zk::Client::Connect({.connect_string = hosts_});
      if (!c.ok() || !(*c)->WaitUntilConnected(std::chrono::seconds(30)).ok()) return false;
      client_ = *std::move(c);
      client_hosts_ = hosts_;
    }
    absl::Status s = client_->EnsurePath(path);
    if (!s.ok()) std::fprintf(stderr, "cannot create %s: %s\n", path.c_str(), s.ToString().c_str());
    return s.ok();
  }

  struct ServerFigures {
    double rss_idle_mb = 0;
    double rss_loaded_mb = 0;
    std::map<std::string, double> zkcpp_rate;  // workload key → median ops/s
  };

  // VmRSS of `pid` in MB, or 0 if unknown.
  static double VmRssMb(pid_t pid) {
    std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
    }
    return 0;
  }

  // The median of `field` over the runs that succeeded, or 0.
  static double MedianOf(const Samples& samples, const std::string& field) {
    std::vector<double> values;
    for (const std::optional<Result>& r : samples) {
      if (r && r->count(field) != 0) values.push_back(r->at(field));
    }
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  }

  std::map<ServerKind, ServerFigures> server_figures_;
  const Mode mode_;
  const int reps_;
  const std::vector<std::string> peers_;
  std::string hosts_;
  std::unique_ptr<zk::Client> client_;  // creates the per-run paths
  std::string client_hosts_;
};

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Side-by-side suite: zkcpp against libzookeeper_mt, the Java client, Curator, kazoo and a "
      "raw-protocol floor, on real ZooKeeper 3.8 and the embedded server.");
  absl::ParseCommandLine(argc, argv);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  const Mode mode = absl::GetFlag(FLAGS_smoke) ? Mode::kSmoke
                    : absl::GetFlag(FLAGS_full) ? Mode::kFull
                                                : Mode::kQuick;
  static constexpr int kReps[] = {1, 3, 5};
  const int reps = absl::GetFlag(FLAGS_reps) > 0 ? absl::GetFlag(FLAGS_reps)
                                                 : kReps[static_cast<int>(mode)];

  std::vector<std::string> peers;
  for (const Peer& peer : Peers()) {
    if (peer.key == "zkcpp" || !Selected(absl::GetFlag(FLAGS_peers), peer.key)) continue;
    if (absl::Status s = CheckPeer(peer.key); !s.ok()) {
      std::printf("Peer %s not available: %s\n", peer.label.c_str(),
                  std::string(s.message()).c_str());
      continue;
    }
    peers.push_back(peer.key);
  }
  if (absl::Status s = CheckPeer("zkcpp"); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }

  const std::string load_before = LoadAverage();
  const int64_t t0 = NowNanos();
  std::printf("# zkcpp side-by-side suite (%s, %d rep%s)\n",
              mode == Mode::kSmoke ? "smoke: tiny counts, the numbers mean nothing"
              : mode == Mode::kFull ? "full" : "quick",
              reps, reps == 1 ? "" : "s");
  std::fflush(stdout);
  Suite suite(mode, reps, peers);
  bool ok = true;
  for (const ServerInfo& server : Servers()) {
    if (g_interrupted.load()) break;
    if (Selected(absl::GetFlag(FLAGS_servers), server.key)) ok = suite.RunSection(server) && ok;
  }
  suite.PrintServerComparison();
  if (Selected(absl::GetFlag(FLAGS_servers), "start") && !g_interrupted.load()) {
    ok = suite.RunStartSection() && ok;
  }
  std::printf(
      "\nMedian (min–max) over %d interleaved rep%s; ratio = median of the per-rep ratios "
      "zkcpp ÷ client (for ops/s higher is better, for µs lower). Every run is a fresh driver "
      "process (connect and warm-up unmeasured); client CPU = the driver process's user + "
      "system time over the measured part. Real ZooKeeper: Debian's 3.8 standalone, loopback, "
      "tickTime 2000, -Xms512m -Xmx1536m; embedded: zkcpp-server, tickTime 2000. Load average %s before, "
      "%s after; %.0f s; %u CPUs shared by the server, the driver and everything else.\n",
      reps, reps == 1 ? "" : "s", load_before.c_str(), LoadAverage().c_str(),
      (NowNanos() - t0) / 1e9, std::max(1u, std::thread::hardware_concurrency()));
  if (g_interrupted.load()) return 130;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace zkbench

int main(int argc, char** argv) { return zkbench::Main(argc, argv); }
