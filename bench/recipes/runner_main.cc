// zkcpp_recipes_bench: zkcpp's lock and leader-election recipes side by side with Curator 5.4
// (Java) and kazoo 2.8 (Python), against one real ZooKeeper 3.8 server, in one run.
//
// Starts Debian's ZooKeeper (standalone, loopback, tickTime 2000, forceSync=no; the launcher of
// bench/peer/), then runs the workloads rep after rep, each measurement one fresh driver process
// (zkcpp_recipes_bench_zkcpp_driver, CuratorRecipesDriver on the JVM, kazoo_driver.py on
// /usr/bin/python3; see zkcpp_recipes_driver_main.cc for the workloads and the RESULT line):
//   lock, 1 contender (uncontended) | lock, 4 contenders | lock, 16 contenders | leader handoff
// Inside each workload the three peers run one after the other, in an order that rotates every
// rep. Before the reps, one unmeasured round of every run warms the server's JIT; every driver
// also warms itself up (the JVM's JIT above all) in-process before measuring. Prints a markdown
// table of medians with their min–max spread, the paired ratio zkcpp/Curator (median over reps
// of the ratio within the same rep) and the targets.
//
//   zkcpp_recipes_bench            quick: 3 reps (~4 min)
//   zkcpp_recipes_bench --full     5 reps, longer runs (~12 min)
//   zkcpp_recipes_bench --smoke    tiny counts, 1 rep (< 30 s); for CI, the numbers mean nothing
//
// The exit status says whether every run succeeded, never whether a target was met.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "driver_common.h"
#include "zookeeper_server.h"

#ifndef ZKCPP_RECIPES_BENCH_CLASSPATH
#define ZKCPP_RECIPES_BENCH_CLASSPATH ""
#endif
#ifndef ZKCPP_RECIPES_BENCH_JAVA
#define ZKCPP_RECIPES_BENCH_JAVA "/usr/bin/java"
#endif
#ifndef ZKCPP_RECIPES_BENCH_KAZOO_SCRIPT
#define ZKCPP_RECIPES_BENCH_KAZOO_SCRIPT ""
#endif

ABSL_FLAG(bool, smoke, false, "Tiny counts, one rep, no warm-up round (CI; numbers mean nothing).");
ABSL_FLAG(bool, full, false, "5 reps with longer runs instead of the quick 3.");
ABSL_FLAG(int, reps, 0, "Repetitions (0: 1 smoke / 3 quick / 5 full).");
ABSL_FLAG(double, seconds, 0, "Measured seconds per lock run (0: by mode).");
ABSL_FLAG(double, warmup_seconds, -1, "In-driver warm-up seconds per lock run (-1: by mode).");
ABSL_FLAG(int, handoffs, 0, "Measured handoffs per handoff run (0: by mode).");
ABSL_FLAG(int, warmup_handoffs, -1, "In-driver warm-up handoffs per run (-1: by mode).");
ABSL_FLAG(std::string, peers, "zkcpp,curator,kazoo", "Peers to run (zkcpp is always needed).");
ABSL_FLAG(std::string, workloads, "lock1,lock1bg,lock4,lock16,handoff",
          "Workloads to run (lock1bg: zkcpp only, uncontended, released by the guard's "
          "destructor without waiting; informational).");
ABSL_FLAG(std::string, connect, "",
          "Use this running server (host:port) instead of starting one. Its config is then yours "
          "to state.");
ABSL_FLAG(bool, keep_server_dir, false, "Keep the server's temp directory (zoo.cfg, log).");
ABSL_FLAG(std::string, driver_dir, "",
          "Directory of zkcpp_recipes_bench_zkcpp_driver (default: this binary's directory).");
ABSL_FLAG(std::string, java, ZKCPP_RECIPES_BENCH_JAVA, "The java launcher for the Curator driver.");
ABSL_FLAG(std::string, classpath, ZKCPP_RECIPES_BENCH_CLASSPATH,
          "Classpath of the Curator driver (its compiled classes + Debian's jars).");
ABSL_FLAG(std::string, python, "/usr/bin/python3",
          "Python interpreter with kazoo (Debian's python3-kazoo lives in /usr/bin/python3's "
          "dist-packages).");
ABSL_FLAG(std::string, kazoo_script, ZKCPP_RECIPES_BENCH_KAZOO_SCRIPT, "kazoo_driver.py.");

namespace zkbench {
namespace {

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true); }

struct Sizes {
  int reps;
  double seconds, warmup_seconds;
  int handoffs, warmup_handoffs;
  bool warmup_round;
};

Sizes SizesFromFlags() {
  Sizes s;
  if (absl::GetFlag(FLAGS_smoke)) {
    s = {1, 0.3, 0.1, 3, 1, false};
  } else if (absl::GetFlag(FLAGS_full)) {
    s = {5, 5, 2, 100, 20, true};
  } else {
    s = {3, 2, 1.5, 40, 15, true};
  }
  if (absl::GetFlag(FLAGS_reps) > 0) s.reps = absl::GetFlag(FLAGS_reps);
  if (absl::GetFlag(FLAGS_seconds) > 0) s.seconds = absl::GetFlag(FLAGS_seconds);
  if (absl::GetFlag(FLAGS_warmup_seconds) >= 0) s.warmup_seconds = absl::GetFlag(FLAGS_warmup_seconds);
  if (absl::GetFlag(FLAGS_handoffs) > 0) s.handoffs = absl::GetFlag(FLAGS_handoffs);
  if (absl::GetFlag(FLAGS_warmup_handoffs) >= 0) {
    s.warmup_handoffs = absl::GetFlag(FLAGS_warmup_handoffs);
  }
  return s;
}

struct Workload {
  std::string key;     // "lock1", "lock1bg", "lock4", "lock16", "handoff"
  int contenders;      // 0 for handoff
  bool zkcpp_only = false;
  std::string extra;   // extra driver flag
};

using Result = std::map<std::string, double>;

std::string SelfDir() {
  if (!absl::GetFlag(FLAGS_driver_dir).empty()) return absl::GetFlag(FLAGS_driver_dir);
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

// Runs `argv` to completion; returns its stdout. Its stderr passes through. Fails unless it exits
// with status 0.
absl::StatusOr<std::string> RunProcess(std::vector<std::string> args, bool quiet_stderr = false) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  if (quiet_stderr) posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return absl::InternalError(absl::StrCat("spawn ", args[0], ": ", std::strerror(rc)));
  }
  std::string output;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(out[0], buffer, sizeof(buffer));
    if (n > 0) {
      output.append(buffer, n);
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(
        absl::StrJoin(args, " "), " failed (", WIFEXITED(status) ? "exit " : "signal ",
        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), "); output: ", output));
  }
  return output;
}

absl::StatusOr<Result> RunDriver(std::vector<std::string> args) {
  absl::StatusOr<std::string> run = RunProcess(std::move(args));
  if (!run.ok()) return run.status();
  const std::string& output = *run;
  size_t at = output.rfind("RESULT ");
  if (at == std::string::npos) return absl::InternalError("driver printed no RESULT line");
  return ParseResultLine(output.substr(at, output.find('\n', at) - at));
}

class Bench {
 public:
  Bench(std::string hosts, Sizes sizes) : hosts_(std::move(hosts)), sizes_(sizes) {}

  // The command line of `peer` (without the workload flags).
  std::vector<std::string> Command(const std::string& peer) const {
    if (peer == "zkcpp") return {SelfDir() + "/zkcpp_recipes_bench_zkcpp_driver"};
    if (peer == "curator") {
      return {absl::GetFlag(FLAGS_java), "-cp", absl::GetFlag(FLAGS_classpath),
              "CuratorRecipesDriver"};
    }
    return {absl::GetFlag(FLAGS_python), absl::GetFlag(FLAGS_kazoo_script)};
  }

  absl::StatusOr<Result> Run(const std::string& peer, const Workload& w, const std::string& tag,
                             bool warmup_round) {
    std::vector<std::string> args = Command(peer);
    const std::string path = absl::StrCat("/zkcpp-recipes-bench/", w.key, "/", peer, "-", tag);
    args.push_back(absl::StrCat("--hosts=", hosts_));
    args.push_back(absl::StrCat("--path=", path));
    const double scale = warmup_round ? 0.5 : 1.0;
    if (w.contenders > 0) {
      args.push_back("--workload=lock");
      args.push_back(absl::StrCat("--contenders=", w.contenders));
      args.push_back(absl::StrCat("--seconds=", sizes_.seconds * scale));
      args.push_back(absl::StrCat("--warmup_seconds=", sizes_.warmup_seconds));
    } else {
      args.push_back("--workload=handoff");
      args.push_back(absl::StrCat(
          "--handoffs=", std::max(1, static_cast<int>(sizes_.handoffs * scale))));
      args.push_back(absl::StrCat("--warmup_handoffs=", sizes_.warmup_handoffs));
    }
    if (!w.extra.empty()) args.push_back(w.extra);
    absl::StatusOr<Result> r = RunDriver(std::move(args));
    if (r.ok()) {
      Result& v = *r;
      if (w.contenders > 0) {
        std::fprintf(stderr,
                     "  %-8s %-7s %s%7.0f cycles/s  wait p50 %7.0f us  p99 %8.0f us  max %8.0f us"
                     "  cpu %5.0f us/cycle\n",
                     w.key.c_str(), peer.c_str(), warmup_round ? "[warm-up] " : "", v["rate"],
                     v["p50_us"], v["p99_us"], v["max_us"], v["cpu_us_per_op"]);
      } else {
        std::fprintf(stderr, "  %-8s %-7s %s%5.0f handoffs  p50 %7.0f us  p99 %8.0f us  max %8.0f us\n",
                     w.key.c_str(), peer.c_str(), warmup_round ? "[warm-up] " : "", v["count"],
                     v["p50_us"], v["p99_us"], v["max_us"]);
      }
    }
    return r;
  }

 private:
  std::string hosts_;
  Sizes sizes_;
};

struct Stats {
  double median = 0, min = 0, max = 0;
  bool empty = true;
};

Stats Summarize(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  s.empty = false;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  const size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return s;
}

std::string Cell(const Stats& s, int decimals, const char* unit = "") {
  if (s.empty) return "—";
  if (s.min == s.max) return absl::StrFormat("%.*f%s", decimals, s.median, unit);
  return absl::StrFormat("%.*f%s (%.*f–%.*f)", decimals, s.median, unit, decimals, s.min,
                         decimals, s.max);
}

struct Row {
  std::string label;
  std::string workload;  // of the peers
  std::string zkcpp_workload;  // of zkcpp, if not the same
  std::string metric;  // field of the RESULT line
  int decimals;
  std::optional<double> target;  // bound on zkcpp/Curator
  bool higher_is_better;
};

absl::Status CheckPeers(const std::vector<std::string>& peers) {
  for (const std::string& peer : peers) {
    if (peer == "zkcpp") {
      const std::string driver = SelfDir() + "/zkcpp_recipes_bench_zkcpp_driver";
      if (access(driver.c_str(), X_OK) != 0) {
        return absl::NotFoundError(absl::StrCat(driver, " is missing"));
      }
    } else if (peer == "curator") {
      if (absl::GetFlag(FLAGS_classpath).empty() ||
          access(absl::GetFlag(FLAGS_java).c_str(), X_OK) != 0) {
        return absl::NotFoundError(
            "Curator driver not built (needs default-jdk-headless, libcurator-framework-java, "
            "libcurator-recipes-java at configure time) or no java: pass --peers without curator, "
            "or --java/--classpath");
      }
    } else if (peer == "kazoo") {
      absl::StatusOr<std::string> probe = RunProcess(
          {absl::GetFlag(FLAGS_python), "-c", "import kazoo"}, /*quiet_stderr=*/true);
      if (!probe.ok() || access(absl::GetFlag(FLAGS_kazoo_script).c_str(), R_OK) != 0) {
        return absl::NotFoundError(absl::StrCat(
            absl::GetFlag(FLAGS_python), " cannot import kazoo (Debian python3-kazoo) or ",
            absl::GetFlag(FLAGS_kazoo_script), " is missing: pass --peers without kazoo"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown peer ", peer));
    }
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Side-by-side benchmark of zkcpp's lock and leader-election recipes against Curator 5.4 "
      "and kazoo 2.8 on a real ZooKeeper 3.8.");
  absl::ParseCommandLine(argc, argv);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  const Sizes sizes = SizesFromFlags();
  const bool smoke = absl::GetFlag(FLAGS_smoke);

  std::vector<std::string> peers =
      absl::StrSplit(absl::GetFlag(FLAGS_peers), ',', absl::SkipEmpty());
  if (std::find(peers.begin(), peers.end(), "zkcpp") == peers.end()) {
    std::fprintf(stderr, "--peers must include zkcpp\n");
    return 2;
  }
  if (absl::Status s = CheckPeers(peers); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const std::vector<Workload> all_workloads = {
      {"lock1", 1},
      {"lock1bg", 1, true, "--release=background"},
      {"lock4", 4},
      {"lock16", 16},
      {"handoff", 0}};
  std::vector<Workload> workloads;
  for (absl::string_view key : absl::StrSplit(absl::GetFlag(FLAGS_workloads), ',',
                                              absl::SkipEmpty())) {
    auto it = std::find_if(all_workloads.begin(), all_workloads.end(),
                           [&](const Workload& w) { return w.key == key; });
    if (it == all_workloads.end()) {
      std::fprintf(stderr, "unknown workload %s\n", std::string(key).c_str());
      return 2;
    }
    workloads.push_back(*it);
  }

  const std::string load_before = LoadAverage();
  std::unique_ptr<ZooKeeperServer> server;  // its destructor kills the JVM on every return
  std::string hosts = absl::GetFlag(FLAGS_connect);
  if (hosts.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<ZooKeeperServer>> started =
        ZooKeeperServer::Start({.keep_directory = absl::GetFlag(FLAGS_keep_server_dir)});
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start ZooKeeper: %s\n", started.status().ToString().c_str());
      return 1;
    }
    server = std::move(*started);
    hosts = server->connect_string();
    std::fprintf(stderr, "ZooKeeper 3.8 on %s (dir %s), serving after %.2f s; load %s\n",
                 hosts.c_str(), server->directory().c_str(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                 load_before.c_str());
  }

  Bench bench(hosts, sizes);
  if (sizes.warmup_round) {
    std::fprintf(stderr, "warm-up round (server JIT):\n");
    for (const Workload& w : workloads) {
      for (const std::string& peer : peers) {
        if (w.zkcpp_only && peer != "zkcpp") continue;
        if (g_interrupted.load()) return 130;
        if (absl::StatusOr<Result> r = bench.Run(peer, w, "warm", true); !r.ok()) {
          std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
          return 1;
        }
      }
    }
  }

  // results[workload][peer] = one Result per rep.
  std::map<std::string, std::map<std::string, std::vector<Result>>> results;
  std::vector<std::string> loads;
  for (int rep = 0; rep < sizes.reps; ++rep) {
    loads.push_back(LoadAverage());
    std::fprintf(stderr, "rep %d/%d (load %s):\n", rep + 1, sizes.reps, loads.back().c_str());
    for (const Workload& w : workloads) {
      for (size_t i = 0; i < peers.size(); ++i) {
        const std::string& peer = peers[(i + rep) % peers.size()];
        if (w.zkcpp_only && peer != "zkcpp") continue;
        if (g_interrupted.load()) return 130;
        absl::StatusOr<Result> r = bench.Run(peer, w, absl::StrCat("r", rep), false);
        if (!r.ok()) {
          // One retry on a fresh path: a long run should not be lost to one hiccup; a second
          // failure ends the run (the smoke test's only failure condition).
          std::fprintf(stderr, "%s\n  retrying once\n", r.status().ToString().c_str());
          r = bench.Run(peer, w, absl::StrCat("r", rep, "-retry"), false);
        }
        if (!r.ok()) {
          std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
          return 1;
        }
        results[w.key][peer].push_back(*std::move(r));
      }
    }
  }
  const std::string load_after = LoadAverage();

  const std::vector<Row> rows = {
      {"lock uncontended: cycles/s", "lock1", "", "rate", 0, 2.0, true},
      {"lock uncontended: acquire p50 µs", "lock1", "", "p50_us", 0, std::nullopt, false},
      {"lock uncontended: client CPU µs/cycle", "lock1", "", "cpu_us_per_op", 0, std::nullopt,
       false},
      {"(info) lock uncontended, zkcpp releasing by dropping the guard (no wait for the delete): "
       "cycles/s",
       "lock1", "lock1bg", "rate", 0, std::nullopt, true},
      {"lock, 4 contenders: cycles/s", "lock4", "", "rate", 0, 2.0, true},
      {"lock, 4 contenders: acquire wait p99 µs", "lock4", "", "p99_us", 0, 0.5, false},
      {"lock, 16 contenders: cycles/s", "lock16", "", "rate", 0, 2.0, true},
      {"lock, 16 contenders: acquire wait p99 µs", "lock16", "", "p99_us", 0, 0.5, false},
      {"leader handoff: p50 µs", "handoff", "", "p50_us", 0, 0.4, false},
      {"leader handoff: max µs", "handoff", "", "max_us", 0, std::nullopt, false},
  };

  std::printf("\n");
  if (smoke) std::printf("**Smoke run: counts are tiny, the numbers mean nothing.**\n\n");
  std::printf(
      "zkcpp recipes vs Curator 5.4 and kazoo 2.8 — %d rep(s), median (min–max) over reps; "
      "zkcpp/Curator = median over reps of the ratio within the same rep\n\n",
      sizes.reps);
  std::printf("| workload | zkcpp | Curator | kazoo | zkcpp/Curator | target | met? |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- |\n");
  for (const Row& row : rows) {
    const std::string& zkcpp_workload =
        row.zkcpp_workload.empty() ? row.workload : row.zkcpp_workload;
    if (!results.count(row.workload) || !results.count(zkcpp_workload)) continue;
    auto values = [&](const std::string& workload, const std::string& peer) {
      std::vector<double> v;
      for (const Result& r : results[workload][peer]) v.push_back(r.at(row.metric));
      return v;
    };
    const std::vector<double> z = values(zkcpp_workload, "zkcpp"),
                              c = values(row.workload, "curator"),
                              k = values(row.workload, "kazoo");
    std::vector<double> ratios;
    for (size_t i = 0; i < z.size() && i < c.size(); ++i) {
      if (c[i] > 0) ratios.push_back(z[i] / c[i]);
    }
    const Stats ratio = Summarize(ratios);
    std::string target = "—", met = "—";
    if (row.target) {
      target = absl::StrFormat("%s %.1f×", row.higher_is_better ? "≥" : "≤", *row.target);
      if (smoke) {
        met = "n/a";
      } else if (!ratio.empty) {
        const bool ok =
            row.higher_is_better ? ratio.median >= *row.target : ratio.median <= *row.target;
        met = ok ? "yes" : "**no**";
      }
    }
    std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", row.label.c_str(),
                Cell(Summarize(z), row.decimals).c_str(), Cell(Summarize(c), row.decimals).c_str(),
                Cell(Summarize(k), row.decimals).c_str(), Cell(ratio, 2, "×").c_str(),
                target.c_str(), met.c_str());
  }
  std::printf(
      "\nSetup: ZooKeeper 3.8 standalone on loopback%s. Each run is a fresh driver process; "
      "every contender / participant has its own session, threads in one process per peer. "
      "Lock runs: %.1f s unmeasured warm-up in the same process, then %.1f s measured "
      "(acquire → release loop; wait = acquire call → return). Handoff: %d unmeasured + %d "
      "measured graceful handoffs between two sessions (zkcpp: ~LeaderElection; Curator: "
      "LeaderLatch.close(); kazoo: Election.run() returning, kazoo's Lock underneath) → "
      "follower's listener/callback.%s Load average (1/5/15 min): %s before, %s after; per rep: "
      "%s. The server and all drivers share the machine's %u CPUs.\n",
      server ? " (tickTime 2000, forceSync=no, -Xmx512m)" : " (external server)",
      sizes.warmup_seconds, sizes.seconds, sizes.warmup_handoffs, sizes.handoffs,
      sizes.warmup_round ? " One unmeasured round of every run first warms the server's JIT." : "",
      load_before.c_str(), load_after.c_str(), absl::StrJoin(loads, " | ").c_str(),
      std::max(1u, std::thread::hardware_concurrency()));
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace zkbench

int main(int argc, char** argv) { return zkbench::Main(argc, argv); }
