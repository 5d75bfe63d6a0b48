// zkcpp_peer_bench: zk::Client side by side with libzookeeper_mt against one real server.
//
// Starts Debian's ZooKeeper 3.8 (standalone, loopback, tickTime 2000, forceSync=no), creates a
// 1 KB node, warms the JVM up, then runs the workloads interleaved, rep after rep, each in a
// fresh driver process (see driver_common.h for why processes and how CPU is measured):
//   pipelined get, window 128:  mt | zkcpp (dispatcher executor) | zkcpp (inline executor)
//   sync get:                   mt | zkcpp (dispatcher)          | zkcpp (inline)
// The order inside each group rotates from rep to rep so that no client always runs right after
// the JVM's GC-heavy neighbour. Prints a markdown table of medians with their min–max spread and
// the paired ratios (median over reps of zkcpp/mt within the same rep).
//
//   zkcpp_peer_bench            quick: 3 reps (~1 min)
//   zkcpp_peer_bench --full     5 reps, longer runs (~4 min)
//   zkcpp_peer_bench --smoke    tiny counts, 1 rep (< 20 s); for CI, the numbers mean nothing
//
// The exit status says whether every run succeeded, never whether a target was met: timings are
// reported, not asserted.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "driver_common.h"
#include "zk/client.h"
#include "zookeeper_server.h"

ABSL_FLAG(bool, smoke, false, "Tiny counts, one rep, no JVM warm-up (CI; numbers mean nothing).");
ABSL_FLAG(bool, full, false, "5 reps with longer runs instead of the quick 3.");
ABSL_FLAG(int, reps, 0, "Interleaved repetitions (0: 1 smoke / 3 quick / 5 full).");
ABSL_FLAG(int64_t, pipelined_ops, 0, "Measured gets per pipelined run (0: by mode).");
ABSL_FLAG(int64_t, sync_ops, 0, "Measured gets per sync run (0: by mode).");
ABSL_FLAG(int, window, 128, "Pipelined window (requests in flight).");
ABSL_FLAG(int, node_size, 1024, "Data size of the node read, bytes.");
ABSL_FLAG(bool, mt_unfixed, false,
          "Also run libzookeeper_mt as usually used (without zoo_set_servers_resolution_delay).");
ABSL_FLAG(std::string, connect, "",
          "Use this running server (host:port) instead of starting one. Its config is then yours "
          "to state.");
ABSL_FLAG(bool, serve, false,
          "Only start the server and create the node, print the connect string and the node "
          "path, and wait for SIGINT/SIGTERM: for profiling one driver by hand.");
ABSL_FLAG(bool, keep_server_dir, false, "Keep the server's temp directory (zoo.cfg, log).");
ABSL_FLAG(std::string, driver_dir, "",
          "Directory of zkcpp_bench_mt_peer and zkcpp_bench_zkcpp_driver (default: this "
          "binary's directory).");

namespace zkbench {
namespace {

constexpr char kNodePath[] = "/zkcpp-bench-get";

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true); }

struct Sizes {
  int reps;
  int64_t pipelined_ops, pipelined_warmup;
  int64_t sync_ops, sync_warmup;
  bool jvm_warmup;
};

Sizes SizesFromFlags() {
  Sizes s;
  if (absl::GetFlag(FLAGS_smoke)) {
    s = {1, 2000, 200, 200, 20, false};
  } else if (absl::GetFlag(FLAGS_full)) {
    s = {5, 150000, 20000, 15000, 1000, true};
  } else {
    s = {3, 60000, 10000, 5000, 500, true};
  }
  if (absl::GetFlag(FLAGS_reps) > 0) s.reps = absl::GetFlag(FLAGS_reps);
  if (absl::GetFlag(FLAGS_pipelined_ops) > 0) s.pipelined_ops = absl::GetFlag(FLAGS_pipelined_ops);
  if (absl::GetFlag(FLAGS_sync_ops) > 0) s.sync_ops = absl::GetFlag(FLAGS_sync_ops);
  return s;
}

// One kind of driver run.
struct Job {
  std::string key;  // "mt", "mt_unfixed", "zkcpp_dispatcher", "zkcpp_inline"
  bool is_mt;
  Workload workload;
};

using Result = std::map<std::string, double>;

std::string DriverDir() {
  if (!absl::GetFlag(FLAGS_driver_dir).empty()) return absl::GetFlag(FLAGS_driver_dir);
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

// Runs one driver process to completion and parses its RESULT line. Its stderr passes through.
absl::StatusOr<Result> RunDriver(const std::string& binary, const std::vector<std::string>& args) {
  std::vector<std::string> all = {binary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return absl::InternalError(absl::StrCat("spawn ", binary, ": ", std::strerror(rc)));
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
        std::filesystem::path(binary).filename().string(), " ", absl::StrJoin(args, " "),
        " failed (", WIFEXITED(status) ? "exit " : "signal ",
        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), "); output: ", output));
  }
  size_t at = output.rfind("RESULT ");
  if (at == std::string::npos) return absl::InternalError("driver printed no RESULT line");
  std::string line = output.substr(at, output.find('\n', at) - at);
  return ParseResultLine(line);
}

class Bench {
 public:
  Bench(std::string hosts, Sizes sizes)
      : hosts_(std::move(hosts)), sizes_(sizes), dir_(DriverDir()) {}

  absl::StatusOr<Result> Run(const Job& job, bool warmup_run) {
    const bool pipelined = job.workload == Workload::kPipelined;
    std::vector<std::string> args = {
        absl::StrCat("--hosts=", hosts_),
        absl::StrCat("--path=", kNodePath),
        absl::StrCat("--workload=", pipelined ? "pipelined" : "sync"),
        absl::StrCat("--ops=", pipelined ? sizes_.pipelined_ops : sizes_.sync_ops),
        absl::StrCat("--warmup_ops=", pipelined ? sizes_.pipelined_warmup : sizes_.sync_warmup),
        absl::StrCat("--window=", absl::GetFlag(FLAGS_window)),
        absl::StrCat("--expected_length=", absl::GetFlag(FLAGS_node_size)),
    };
    std::string binary;
    if (job.is_mt) {
      binary = dir_ + "/zkcpp_bench_mt_peer";
      args.push_back(job.key == "mt_unfixed" ? "--fixed=0" : "--fixed=1");
    } else {
      binary = dir_ + "/zkcpp_bench_zkcpp_driver";
      args.push_back(job.key == "zkcpp_inline" ? "--exec=inline" : "--exec=dispatcher");
    }
    absl::StatusOr<Result> result = RunDriver(binary, args);
    if (result.ok()) {
      std::fprintf(stderr, "  %-9s %-17s %s%9.0f ops/s  cpu %6.2f us/op (user %.2f sys %.2f)",
                   pipelined ? "pipelined" : "sync", job.key.c_str(),
                   warmup_run ? "[warm-up] " : "", (*result)["ops_per_sec"],
                   (*result)["cpu_us_per_op"], (*result)["user_us_per_op"],
                   (*result)["sys_us_per_op"]);
      if (!pipelined) {
        std::fprintf(stderr, "  p50 %.1f us  p99 %.1f us", (*result)["p50_us"],
                     (*result)["p99_us"]);
      }
      std::fprintf(stderr, "\n");
    }
    return result;
  }

 private:
  std::string hosts_;
  Sizes sizes_;
  std::string dir_;
};

absl::Status PrepareNode(const std::string& hosts, int size) {
  absl::StatusOr<std::unique_ptr<zk::Client>> client =
      zk::Client::Connect({.connect_string = hosts});
  if (!client.ok()) return client.status();
  ZK_RETURN_IF_ERROR((*client)->WaitUntilConnected(std::chrono::seconds(30)));
  const std::string data(static_cast<size_t>(size), 'x');
  absl::StatusOr<zk::CreateResult> created = (*client)->Create(kNodePath, data);
  if (zk::IsNodeExists(created.status())) return (*client)->Set(kNodePath, data).status();
  return created.status();
}

struct Stats {
  double median = 0, min = 0, max = 0;
};

Stats Summarize(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  const size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return s;
}

std::string Cell(const Stats& s, int decimals) {
  if (s.min == s.max) return absl::StrFormat("%.*f", decimals, s.median);
  return absl::StrFormat("%.*f (%.*f–%.*f)", decimals, s.median, decimals, s.min, decimals, s.max);
}

// Rows of the report: a metric of one workload, zkcpp configuration against the mt peer.
struct Row {
  std::string label;
  Workload workload;
  std::string metric;  // field of the RESULT line
  int decimals;
  std::optional<double> target;  // ratio bound, if the issue sets one
  bool higher_is_better;
};

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Side-by-side benchmark: zk::Client vs libzookeeper_mt against a real ZooKeeper 3.8.");
  absl::ParseCommandLine(argc, argv);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  const Sizes sizes = SizesFromFlags();
  const bool smoke = absl::GetFlag(FLAGS_smoke);

  // The server outlives every early return below: its destructor kills the JVM.
  std::unique_ptr<ZooKeeperServer> server;
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
    std::fprintf(stderr, "ZooKeeper 3.8 on %s (dir %s), serving after %.2f s\n", hosts.c_str(),
                 server->directory().c_str(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (absl::Status s = PrepareNode(hosts, absl::GetFlag(FLAGS_node_size)); !s.ok()) {
    std::fprintf(stderr, "cannot create %s: %s\n", kNodePath, s.ToString().c_str());
    return 1;
  }

  if (absl::GetFlag(FLAGS_serve)) {
    std::printf("hosts=%s path=%s\n", hosts.c_str(), kNodePath);
    std::fflush(stdout);
    while (!g_interrupted.load()) pause();
    return 0;
  }

  Bench bench(hosts, sizes);
  std::vector<Job> pipelined_jobs = {{"mt", true, Workload::kPipelined},
                                     {"zkcpp_dispatcher", false, Workload::kPipelined},
                                     {"zkcpp_inline", false, Workload::kPipelined}};
  std::vector<Job> sync_jobs = {{"mt", true, Workload::kSync},
                                {"zkcpp_dispatcher", false, Workload::kSync},
                                {"zkcpp_inline", false, Workload::kSync}};
  if (absl::GetFlag(FLAGS_mt_unfixed)) {
    pipelined_jobs.push_back({"mt_unfixed", true, Workload::kPipelined});
    sync_jobs.push_back({"mt_unfixed", true, Workload::kSync});
  }

  // The server's JIT needs tens of thousands of requests before its numbers settle; the drivers'
  // own warm-up_ops only warm the client side.
  if (sizes.jvm_warmup) {
    std::fprintf(stderr, "JVM warm-up:\n");
    for (const std::vector<Job>* group : {&pipelined_jobs, &sync_jobs}) {
      for (const Job& job : *group) {
        if (g_interrupted.load()) return 130;
        if (absl::StatusOr<Result> r = bench.Run(job, true); !r.ok()) {
          std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
          return 1;
        }
      }
    }
  }

  // results[workload][job key] = one Result per rep.
  std::map<Workload, std::map<std::string, std::vector<Result>>> results;
  for (int rep = 0; rep < sizes.reps; ++rep) {
    std::fprintf(stderr, "rep %d/%d:\n", rep + 1, sizes.reps);
    for (const std::vector<Job>* group : {&pipelined_jobs, &sync_jobs}) {
      for (size_t i = 0; i < group->size(); ++i) {
        const Job& job = (*group)[(i + rep) % group->size()];
        if (g_interrupted.load()) return 130;
        absl::StatusOr<Result> r = bench.Run(job, false);
        if (!r.ok()) {
          std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
          return 1;
        }
        results[job.workload][job.key].push_back(*std::move(r));
      }
    }
  }

  const std::string window = absl::StrCat(absl::GetFlag(FLAGS_window));
  const std::vector<Row> rows = {
      {"pipelined get (w" + window + "), ops/s", Workload::kPipelined, "ops_per_sec", 0, 1.2, true},
      {"pipelined get (w" + window + "), client CPU µs/op", Workload::kPipelined, "cpu_us_per_op",
       1, 0.5, false},
      {"sync get p50 µs", Workload::kSync, "p50_us", 0, 1.0, false},
      {"sync get p99 µs", Workload::kSync, "p99_us", 0, std::nullopt, false},
      {"sync get client CPU µs/op", Workload::kSync, "cpu_us_per_op", 1, std::nullopt, false},
  };
  std::vector<std::string> mt_keys = {"mt"};
  if (absl::GetFlag(FLAGS_mt_unfixed)) mt_keys.push_back("mt_unfixed");

  std::printf("\n");
  if (smoke) std::printf("**Smoke run: counts are tiny, the numbers mean nothing.**\n\n");
  for (const std::string& mt_key : mt_keys) {
    std::printf(
        "zkcpp vs libzookeeper_mt%s — %d rep(s), median (min–max); "
        "ratio = median over reps of zkcpp/mt in the same rep\n\n",
        mt_key == "mt" ? " + zoo_set_servers_resolution_delay(-1)"
                       : " as usually used (no resolution-delay fix)",
        sizes.reps);
    std::printf("| workload | zkcpp | libzookeeper_mt | ratio | target | met? |\n");
    std::printf("| --- | --- | --- | --- | --- | --- |\n");
    for (const char* zk_key : {"zkcpp_dispatcher", "zkcpp_inline"}) {
      for (const Row& row : rows) {
        const std::vector<Result>& zk_runs = results[row.workload][zk_key];
        const std::vector<Result>& mt_runs = results[row.workload][mt_key];
        std::vector<double> zk_values, mt_values, ratios;
        for (size_t i = 0; i < zk_runs.size() && i < mt_runs.size(); ++i) {
          double z = zk_runs[i].at(row.metric), m = mt_runs[i].at(row.metric);
          zk_values.push_back(z);
          mt_values.push_back(m);
          if (m > 0) ratios.push_back(z / m);
        }
        const Stats ratio = Summarize(ratios);
        std::string target = "—", met = "—";
        if (row.target) {
          target = absl::StrFormat("%s %.1f×", row.higher_is_better ? "≥" : "≤", *row.target);
          const bool ok =
              row.higher_is_better ? ratio.median >= *row.target : ratio.median <= *row.target;
          met = smoke ? "n/a" : (ok ? "yes" : "**no**");
        }
        std::printf("| %s [%s] | %s | %s | %s× | %s | %s |\n", row.label.c_str(), zk_key + 6,
                    Cell(Summarize(zk_values), row.decimals).c_str(),
                    Cell(Summarize(mt_values), row.decimals).c_str(), Cell(ratio, 2).c_str(),
                    target.c_str(), met.c_str());
      }
    }
    std::printf("\n");
  }
  std::printf(
      "Setup: ZooKeeper 3.8 standalone on loopback%s, 1 node of %d bytes; each run is a fresh "
      "driver process (connect + %lld/%lld warm-up gets unmeasured); pipelined runs %lld gets, "
      "sync runs %lld gets. Client CPU = getrusage(RUSAGE_SELF) user+sys of the driver process "
      "(all its threads) over the measured interval, divided by the gets. [dispatcher] = "
      "default callback executor, [inline] = CallbackExecution::kInline. The server shares "
      "the machine's CPUs with the client.\n",
      server ? " (tickTime 2000, forceSync=no, -Xmx512m)" : " (external server)",
      absl::GetFlag(FLAGS_node_size), static_cast<long long>(sizes.pipelined_warmup),
      static_cast<long long>(sizes.sync_warmup), static_cast<long long>(sizes.pipelined_ops),
      static_cast<long long>(sizes.sync_ops));
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace zkbench

int main(int argc, char** argv) { return zkbench::Main(argc, argv); }
