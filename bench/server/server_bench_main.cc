// zkcpp_server_bench: zk::testing::EmbeddedServer side by side with a real ZooKeeper 3.8.
//
// In one run, rep after rep (the order of the two servers alternates between reps):
//   start → serving     EmbeddedServer::Start() in this process vs Debian's JVM
//                       (ZooKeeperServerMain, as bench/peer starts it); both until a `srvr`
//                       four-letter word answers "Mode: standalone" (polled every 2 ms).
//   pipelined get/set   zk::Client (inline executor), window 128, 1 KB values, one node; after
//                       the nodes below exist and an unmeasured warm-up.
//   RSS idle / N nodes  real: the JVM's VmRSS right after it serves, and after N nodes of
//                       1 KB were created. embedded: a child process hosting only the server
//                       (this binary with --rss_child); its VmRSS delta over the process before
//                       the server started, right after Start() and after the same N creates
//                       (sent over TCP by this process). The child's whole VmRSS is shown too.
// Prints a markdown table: median (min–max) over reps, and the ratio as the median over reps of
// the paired per-rep ratio, against the targets (start ≥ 100× faster, throughput ≥ 2×,
// RSS ≤ 0.1×).
//
//   zkcpp_server_bench            3 reps
//   zkcpp_server_bench --full     5 reps, longer throughput runs
//   zkcpp_server_bench --smoke    1 rep, tiny counts (< 20 s); for CI, numbers meaningless
//
// The exit status says whether every run succeeded, never whether a target was met.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "driver_common.h"
#include "zk/client.h"
#include "zk/testing/embedded_server.h"
#include "zookeeper_server.h"

ABSL_FLAG(bool, smoke, false, "One rep, tiny counts (CI; the numbers mean nothing).");
ABSL_FLAG(bool, full, false, "5 reps with longer throughput runs instead of the quick 3.");
ABSL_FLAG(int, reps, 0, "Interleaved repetitions (0: 1 smoke / 3 quick / 5 full).");
ABSL_FLAG(int64_t, ops, 0, "Measured ops per throughput run (0: by mode).");
ABSL_FLAG(int, window, 128, "Pipelined window (requests in flight).");
ABSL_FLAG(int, value_size, 1024, "Data size of every node and every set, bytes.");
ABSL_FLAG(int, nodes, 0, "Nodes created before the RSS measurement (0: 10000; 2000 smoke).");
ABSL_FLAG(bool, rss_child, false,
          "Internal: host only an EmbeddedServer, print BASE <kB> and PORT <port>, run until "
          "stdin closes.");

extern char** environ;

namespace zkbench {
namespace {

constexpr auto kRunTimeout = std::chrono::seconds(300);
constexpr char kNodePath[] = "/zkcpp-server-bench";
constexpr char kRssRoot[] = "/zkcpp-server-bench-rss";

enum Server { kEmbedded = 0, kReal = 1 };
constexpr const char* kServerNames[] = {"embedded", "real"};

struct Sizes {
  int reps;
  int64_t ops;
  int64_t warmup;
  int nodes;
};

Sizes SizesFromFlags() {
  Sizes s;
  if (absl::GetFlag(FLAGS_smoke)) {
    s = {1, 2000, 500, 2000};
  } else if (absl::GetFlag(FLAGS_full)) {
    s = {5, 150000, 30000, 10000};
  } else {
    s = {3, 50000, 10000, 10000};
  }
  if (absl::GetFlag(FLAGS_reps) > 0) s.reps = absl::GetFlag(FLAGS_reps);
  if (absl::GetFlag(FLAGS_ops) > 0) s.ops = absl::GetFlag(FLAGS_ops);
  if (absl::GetFlag(FLAGS_nodes) > 0) s.nodes = absl::GetFlag(FLAGS_nodes);
  return s;
}

// VmRSS of `pid` in kB, or -1.
int64_t VmRssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    int64_t kb = -1;
    std::string digits;
    for (char c : line) {
      if (c >= '0' && c <= '9') digits += c;
    }
    return absl::SimpleAtoi(digits, &kb) ? kb : -1;
  }
  return -1;
}

// Polls `srvr` on 127.0.0.1:`port` until it reports standalone mode.
absl::Status WaitServing(int port) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    absl::StatusOr<std::string> reply = FourLetterWord(port, "srvr");
    if (reply.ok() && reply->find("Mode: standalone") != std::string::npos) {
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return absl::DeadlineExceededError("server did not serve in time");
}

// Runs `total` async ops with `window` in flight; each completion issues the next one from
// inside its callback. `issue(i, done)` starts op i and calls done(status) when it completes.
// Returns ops per second.
absl::StatusOr<double> RunPipeline(
    int64_t total, int window,
    std::function<void(int64_t, std::function<void(const absl::Status&)>)> issue) {
  struct State {
    int64_t total = 0;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> completed{0};
    std::atomic<int64_t> errors{0};
    std::function<void(int64_t, std::function<void(const absl::Status&)>)> issue;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::string first_error;

    void Start(int64_t i, const std::shared_ptr<State>& self) {
      issue(i, [self](const absl::Status& status) { self->OnDone(status, self); });
    }
    void OnDone(const absl::Status& status, const std::shared_ptr<State>& self) {
      if (!status.ok() && errors.fetch_add(1) == 0) {
        std::lock_guard<std::mutex> lock(mu);
        first_error = status.ToString();
      }
      const int64_t i = next.fetch_add(1);
      if (i < total) Start(i, self);
      if (completed.fetch_add(1) + 1 == total) {
        std::lock_guard<std::mutex> lock(mu);
        done = true;
        cv.notify_all();
      }
    }
  };
  if (total <= 0) return 0.0;
  auto state = std::make_shared<State>();
  state->total = total;
  state->issue = std::move(issue);
  const int64_t first = std::min<int64_t>(window, total);
  state->next.store(first);
  const int64_t t0 = NowNanos();
  for (int64_t i = 0; i < first; ++i) state->Start(i, state);
  {
    std::unique_lock<std::mutex> lock(state->mu);
    if (!state->cv.wait_for(lock, kRunTimeout, [&] { return state->done; })) {
      // Callbacks may still run and touch the client: leave at once rather than unwind.
      std::fprintf(stderr, "zkcpp_server_bench: pipelined run timed out\n");
      std::_Exit(1);
    }
  }
  const int64_t t1 = NowNanos();
  if (state->errors.load() > 0) {
    std::lock_guard<std::mutex> lock(state->mu);
    return absl::InternalError(absl::StrCat(state->errors.load(), " of ", total,
                                            " ops failed; first: ", state->first_error));
  }
  return static_cast<double>(total) / (static_cast<double>(t1 - t0) / 1e9);
}

absl::StatusOr<std::unique_ptr<zk::Client>> ConnectClient(const std::string& hosts) {
  zk::ClientOptions options;
  options.connect_string = hosts;
  options.session_timeout = std::chrono::milliseconds(20000);
  options.callback_execution = zk::CallbackExecution::kInline;
  absl::StatusOr<std::unique_ptr<zk::Client>> client = zk::Client::Connect(std::move(options));
  if (!client.ok()) return client.status();
  if (absl::Status s = (*client)->WaitUntilConnected(std::chrono::seconds(30)); !s.ok()) return s;
  return client;
}

// Creates `count` nodes of `value` under kRssRoot, pipelined.
absl::Status CreateNodes(zk::Client& client, int count, const std::string& value, int window) {
  if (absl::Status s = client.EnsurePath(kRssRoot); !s.ok()) return s;
  absl::StatusOr<double> rate = RunPipeline(
      count, window, [&client, &value](int64_t i, std::function<void(const absl::Status&)> done) {
        client.AsyncCreate(absl::StrCat(kRssRoot, "/n", i), value, {},
                           [done = std::move(done)](absl::StatusOr<zk::CreateResult> r) {
                             done(r.status());
                           });
      });
  return rate.status();
}

struct Throughput {
  double get = 0;
  double set = 0;
};

// Warm-up then measured pipelined gets, then sets, of one node holding `value`.
absl::StatusOr<Throughput> MeasureThroughput(zk::Client& client, const Sizes& sizes,
                                             const std::string& value, int window) {
  absl::StatusOr<zk::CreateResult> created = client.Create(kNodePath, value);
  if (!created.ok()) return created.status();
  const size_t expected = value.size();
  auto get = [&client, expected](int64_t, std::function<void(const absl::Status&)> done) {
    client.AsyncGet(kNodePath, [expected, done = std::move(done)](
                                   absl::StatusOr<zk::GetResult> r) {
      if (r.ok() && r->data.size() != expected) {
        done(absl::InternalError("get returned the wrong data"));
      } else {
        done(r.status());
      }
    });
  };
  auto set = [&client, &value](int64_t, std::function<void(const absl::Status&)> done) {
    client.AsyncSet(kNodePath, value, std::nullopt,
                    [done = std::move(done)](absl::StatusOr<zk::Stat> r) { done(r.status()); });
  };
  Throughput result;
  if (auto warm = RunPipeline(sizes.warmup, window, get); !warm.ok()) return warm.status();
  absl::StatusOr<double> gets = RunPipeline(sizes.ops, window, get);
  if (!gets.ok()) return gets.status();
  if (auto warm = RunPipeline(sizes.warmup, window, set); !warm.ok()) return warm.status();
  absl::StatusOr<double> sets = RunPipeline(sizes.ops, window, set);
  if (!sets.ok()) return sets.status();
  result.get = *gets;
  result.set = *sets;
  return result;
}

// One rep's measurements of one server.
struct Sample {
  double start_ms = 0;
  double get = 0;
  double set = 0;
  double rss_idle_mb = 0;   // real: JVM VmRSS; embedded: delta over the bare child process
  double rss_nodes_mb = 0;
  double total_idle_mb = 0;  // embedded: the child's whole VmRSS
  double total_nodes_mb = 0;
};

absl::StatusOr<Sample> RunReal(const Sizes& sizes, const std::string& value, int window) {
  Sample sample;
  ZooKeeperServerOptions options;
  options.ready_poll_ms = 2;
  const int64_t t0 = NowNanos();
  absl::StatusOr<std::unique_ptr<ZooKeeperServer>> server = ZooKeeperServer::Start(options);
  const int64_t t1 = NowNanos();
  if (!server.ok()) return server.status();
  sample.start_ms = static_cast<double>(t1 - t0) / 1e6;
  sample.rss_idle_mb = sample.total_idle_mb = VmRssKb((*server)->pid()) / 1024.0;
  absl::StatusOr<std::unique_ptr<zk::Client>> client = ConnectClient((*server)->connect_string());
  if (!client.ok()) return client.status();
  if (absl::Status s = CreateNodes(**client, sizes.nodes, value, window); !s.ok()) return s;
  sample.rss_nodes_mb = sample.total_nodes_mb = VmRssKb((*server)->pid()) / 1024.0;
  absl::StatusOr<Throughput> throughput = MeasureThroughput(**client, sizes, value, window);
  if (!throughput.ok()) return throughput.status();
  sample.get = throughput->get;
  sample.set = throughput->set;
  return sample;
}

// A child process hosting only an EmbeddedServer (this binary with --rss_child).
class RssChild {
 public:
  static absl::StatusOr<std::unique_ptr<RssChild>> Spawn() {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) return absl::InternalError("pipe2");
    if (pipe2(from_child, O_CLOEXEC) != 0) {
      close(to_child[0]);
      close(to_child[1]);
      return absl::InternalError("pipe2");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    std::string self = "/proc/self/exe";
    std::string flag = "--rss_child";
    char* argv[] = {self.data(), flag.data(), nullptr};
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    if (rc != 0) {
      close(to_child[1]);
      close(from_child[0]);
      return absl::InternalError("posix_spawn of the RSS child failed");
    }
    auto child = std::unique_ptr<RssChild>(new RssChild(pid, to_child[1], from_child[0]));
    // Reads "BASE <kB>\nPORT <port>\n".
    std::string text;
    char buffer[256];
    while (text.find("PORT ") == std::string::npos || text.back() != '\n') {
      const ssize_t n = read(child->out_fd_, buffer, sizeof(buffer));
      if (n <= 0) return absl::InternalError("RSS child died before serving");
      text.append(buffer, n);
    }
    int64_t base = 0;
    int port = 0;
    if (std::sscanf(text.c_str(), "BASE %lld\nPORT %d", reinterpret_cast<long long*>(&base),
                    &port) != 2) {
      return absl::InternalError(absl::StrCat("RSS child said: ", text));
    }
    child->base_kb_ = base;
    child->port_ = port;
    return child;
  }

  ~RssChild() {
    close(in_fd_);  // the child exits when its stdin closes
    close(out_fd_);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  int64_t base_kb() const { return base_kb_; }

 private:
  RssChild(pid_t pid, int in_fd, int out_fd) : pid_(pid), in_fd_(in_fd), out_fd_(out_fd) {}
  pid_t pid_;
  int in_fd_;
  int out_fd_;
  int port_ = 0;
  int64_t base_kb_ = 0;
};

int RssChildMain() {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int64_t base = VmRssKb(getpid());
  absl::StatusOr<std::unique_ptr<zk::testing::EmbeddedServer>> server =
      zk::testing::EmbeddedServer::Start({.tick_time = std::chrono::milliseconds(2000)});
  if (!server.ok()) {
    std::fprintf(stderr, "rss child: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("BASE %lld\nPORT %d\n", static_cast<long long>(base), (*server)->member_port(0));
  std::fflush(stdout);
  char buffer[64];
  while (read(0, buffer, sizeof(buffer)) > 0) {
  }
  return 0;
}

absl::StatusOr<Sample> RunEmbedded(const Sizes& sizes, const std::string& value, int window) {
  Sample sample;
  {
    // Start → serving, and throughput, in this process.
    const int64_t t0 = NowNanos();
    absl::StatusOr<std::unique_ptr<zk::testing::EmbeddedServer>> server =
        zk::testing::EmbeddedServer::Start({.tick_time = std::chrono::milliseconds(2000)});
    if (!server.ok()) return server.status();
    if (absl::Status s = WaitServing((*server)->member_port(0)); !s.ok()) return s;
    const int64_t t1 = NowNanos();
    sample.start_ms = static_cast<double>(t1 - t0) / 1e6;
    absl::StatusOr<std::unique_ptr<zk::Client>> client =
        ConnectClient((*server)->connect_string());
    if (!client.ok()) return client.status();
    if (absl::Status s = CreateNodes(**client, sizes.nodes, value, window); !s.ok()) return s;
    absl::StatusOr<Throughput> throughput = MeasureThroughput(**client, sizes, value, window);
    if (!throughput.ok()) return throughput.status();
    sample.get = throughput->get;
    sample.set = throughput->set;
  }
  {
    // RSS in a process of its own.
    absl::StatusOr<std::unique_ptr<RssChild>> child = RssChild::Spawn();
    if (!child.ok()) return child.status();
    const int64_t idle = VmRssKb((*child)->pid());
    absl::StatusOr<std::unique_ptr<zk::Client>> client =
        ConnectClient(absl::StrCat("127.0.0.1:", (*child)->port()));
    if (!client.ok()) return client.status();
    if (absl::Status s = CreateNodes(**client, sizes.nodes, value, window); !s.ok()) return s;
    const int64_t with_nodes = VmRssKb((*child)->pid());
    sample.rss_idle_mb = (idle - (*child)->base_kb()) / 1024.0;
    sample.rss_nodes_mb = (with_nodes - (*child)->base_kb()) / 1024.0;
    sample.total_idle_mb = idle / 1024.0;
    sample.total_nodes_mb = with_nodes / 1024.0;
  }
  return sample;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return Quantile(values, 0.5);
}

std::string Cell(const std::vector<double>& values, const char* format) {
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const std::string median = absl::StrFormat(format, Quantile(sorted, 0.5));
  if (sorted.size() < 2) return median;
  return absl::StrCat(median, " (", absl::StrFormat(format, sorted.front()), "–",
                      absl::StrFormat(format, sorted.back()), ")");
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "EmbeddedServer vs a real ZooKeeper 3.8: start time, pipelined throughput, RSS.");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_rss_child)) return RssChildMain();
  signal(SIGPIPE, SIG_IGN);

  const Sizes sizes = SizesFromFlags();
  const int window = absl::GetFlag(FLAGS_window);
  const std::string value(static_cast<size_t>(absl::GetFlag(FLAGS_value_size)), 'v');
  std::fprintf(stderr,
               "zkcpp_server_bench: %d reps; throughput %lld ops (+%lld warm-up) per run, "
               "window %d, %zu B values; RSS after %d nodes\n",
               sizes.reps, static_cast<long long>(sizes.ops), static_cast<long long>(sizes.warmup),
               window, value.size(), sizes.nodes);

  std::vector<Sample> samples[2];
  for (int rep = 0; rep < sizes.reps; ++rep) {
    const Server order[2] = {rep % 2 == 0 ? kEmbedded : kReal, rep % 2 == 0 ? kReal : kEmbedded};
    for (Server server : order) {
      absl::StatusOr<Sample> sample = server == kEmbedded ? RunEmbedded(sizes, value, window)
                                                          : RunReal(sizes, value, window);
      if (!sample.ok()) {
        std::fprintf(stderr, "zkcpp_server_bench: rep %d, %s server: %s\n", rep + 1,
                     kServerNames[server], sample.status().ToString().c_str());
        return 1;
      }
      std::fprintf(stderr,
                   "  rep %d %-8s start %.2f ms, get %.0f/s, set %.0f/s, RSS idle %.1f MB, "
                   "with nodes %.1f MB\n",
                   rep + 1, kServerNames[server], sample->start_ms, sample->get, sample->set,
                   sample->rss_idle_mb, sample->rss_nodes_mb);
      samples[server].push_back(*sample);
    }
  }

  // Column extractors and paired ratios.
  auto column = [&](Server server, double Sample::*field) {
    std::vector<double> out;
    for (const Sample& s : samples[server]) out.push_back(s.*field);
    return out;
  };
  auto paired = [&](double Sample::*field, bool real_over_embedded) {
    std::vector<double> out;
    for (size_t i = 0; i < samples[kEmbedded].size(); ++i) {
      const double e = samples[kEmbedded][i].*field;
      const double r = samples[kReal][i].*field;
      out.push_back(real_over_embedded ? r / e : e / r);
    }
    return Median(out);
  };

  struct Row {
    const char* metric;
    double Sample::*field;
    const char* format;
    bool real_over_embedded;  // ratio = real / embedded ("× faster") instead of embedded / real
    const char* ratio_unit;
    const char* target;
    std::function<bool(double)> met;
  };
  const Row rows[] = {
      {"start → serving (ms)", &Sample::start_ms, "%.2f", true, "× faster", "≥ 100× faster",
       [](double r) { return r >= 100; }},
      {"pipelined get, window 128 (ops/s)", &Sample::get, "%.0f", false, "×", "≥ 2×",
       [](double r) { return r >= 2; }},
      {"pipelined set, window 128 (ops/s)", &Sample::set, "%.0f", false, "×", "≥ 2×",
       [](double r) { return r >= 2; }},
      {"RSS idle (MB)", &Sample::rss_idle_mb, "%.1f", false, "×", "≤ 0.1×",
       [](double r) { return r <= 0.1; }},
      {"RSS after nodes (MB)", &Sample::rss_nodes_mb, "%.1f", false, "×", "≤ 0.1×",
       [](double r) { return r <= 0.1; }},
  };

  std::printf("\n| metric | embedded | real ZooKeeper 3.8 | ratio | target | met |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Row& row : rows) {
    const double ratio = paired(row.field, row.real_over_embedded);
    const std::string metric =
        row.field == &Sample::rss_nodes_mb ? absl::StrCat("RSS after ", sizes.nodes, " nodes (MB)")
                                           : std::string(row.metric);
    std::printf("| %s | %s | %s | %s%s | %s | %s |\n", metric.c_str(),
                Cell(column(kEmbedded, row.field), row.format).c_str(),
                Cell(column(kReal, row.field), row.format).c_str(),
                absl::StrFormat(ratio >= 10 ? "%.0f" : ratio >= 0.1 ? "%.2f" : "%.3f", ratio)
                    .c_str(),
                row.ratio_unit, row.target, row.met(ratio) ? "yes" : "**no**");
  }
  std::printf(
      "\nMedian (min–max) over %d interleaved reps; ratio = median of the per-rep pairs "
      "(start: real/embedded; others: embedded/real).\n"
      "Embedded RSS = the VmRSS growth of a process hosting only the server (whole process: "
      "idle %s MB, after nodes %s MB); real RSS = the JVM's VmRSS "
      "(-Xms512m -Xmx512m, tickTime 2000, forceSync=no).\n"
      "Throughput: zk::Client with the inline executor in this process; the embedded server "
      "runs in this process too, the JVM in its own. %zu B values, %lld measured ops per run "
      "after %lld warm-up ops and %d creates. Start: until `srvr` reports standalone (2 ms "
      "poll).\n",
      sizes.reps, Cell(column(kEmbedded, &Sample::total_idle_mb), "%.1f").c_str(),
      Cell(column(kEmbedded, &Sample::total_nodes_mb), "%.1f").c_str(), value.size(),
      static_cast<long long>(sizes.ops), static_cast<long long>(sizes.warmup), sizes.nodes);
  if (absl::GetFlag(FLAGS_smoke)) {
    std::printf("(smoke run: tiny counts, the numbers mean nothing)\n");
  }
  return 0;
}

}  // namespace
}  // namespace zkbench

int main(int argc, char** argv) { return zkbench::Main(argc, argv); }
