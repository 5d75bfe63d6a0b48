// zkcpp_bench_mt_peer: the libzookeeper_mt baseline of the side-by-side benchmark.
//
// Drives Debian's libzookeeper_mt (runtime package libzookeeper-mt2) the way an application
// usually does: the library's own I/O and completion threads, zoo_aget with a completion that
// re-issues (pipelined workload, a fixed window in flight), and the THREADED sync zoo_get
// (sync workload). With --fixed=1 (default) it calls zoo_set_servers_resolution_delay(zh, -1)
// right after zookeeper_init, which stops the library from re-resolving the host list on every
// loop turn; without it the peer is ~2x more expensive per op (performance-baseline.md), and a
// comparison against that would flatter zkcpp.
//
// This binary must not link zkcpp::client: libzookeeper_st and libzookeeper_mt export the same
// symbols. Protocol and measurement: driver_common.h.

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "driver_common.h"

namespace zkbench {
namespace {

// Gives up on a run that stops making progress (server gone) instead of hanging the runner.
constexpr auto kRunTimeout = std::chrono::seconds(300);

struct Connection {
  std::mutex mu;
  std::condition_variable cv;
  bool connected = false;
};

void OnSessionEvent(zhandle_t* zh, int type, int state, const char* path, void* context) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* conn = static_cast<Connection*>(context);
  std::lock_guard<std::mutex> lock(conn->mu);
  conn->connected = state == ZOO_CONNECTED_STATE;
  conn->cv.notify_all();
}

// One pipelined run: `total` gets with at most `window` in flight. Completions run on the
// library's completion thread and each issues the next get, as an application would.
struct Pipeline {
  zhandle_t* zh = nullptr;
  const char* path = nullptr;
  int expected_length = 0;
  int64_t total = 0;
  std::atomic<int64_t> issued{0};
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> errors{0};
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
};

void IssueGet(Pipeline* p);

void Complete(Pipeline* p) {
  if (p->completed.fetch_add(1) + 1 == p->total) {
    std::lock_guard<std::mutex> lock(p->mu);
    p->done = true;
    p->cv.notify_all();
  }
}

void OnGet(int rc, const char* value, int value_len, const struct Stat* stat, const void* data) {
  auto* p = static_cast<Pipeline*>(const_cast<void*>(data));
  if (rc != ZOK || value_len != p->expected_length) p->errors.fetch_add(1);
  if (p->issued.fetch_add(1) < p->total) IssueGet(p);
  Complete(p);
}

void IssueGet(Pipeline* p) {
  if (zoo_aget(p->zh, p->path, 0, OnGet, p) != ZOK) {
    // Rejected synchronously: no completion will come, so count it here to avoid a hang.
    p->errors.fetch_add(1);
    Complete(p);
  }
}

// Exits the process on timeout.
void RunPipelined(zhandle_t* zh, const DriverConfig& config, int64_t total, Measurement* m) {
  Pipeline p;
  p.zh = zh;
  p.path = config.path.c_str();
  p.expected_length = config.expected_length;
  p.total = total;
  const int64_t first = std::min<int64_t>(config.window, total);
  p.issued.store(first);
  const CpuTime cpu0 = ProcessCpuTime();
  const int64_t t0 = NowNanos();
  for (int64_t i = 0; i < first; ++i) IssueGet(&p);
  {
    std::unique_lock<std::mutex> lock(p.mu);
    if (!p.cv.wait_for(lock, kRunTimeout, [&] { return p.done; })) {
      // Completions may still arrive and touch `p`: leave at once rather than unwind.
      std::fprintf(stderr, "mt_peer: run timed out (%lld of %lld done)\n",
                   static_cast<long long>(p.completed.load()), static_cast<long long>(total));
      std::_Exit(1);
    }
  }
  const int64_t t1 = NowNanos();
  const CpuTime cpu1 = ProcessCpuTime();
  m->ops = total;
  m->errors = p.errors.load();
  m->wall_ns = t1 - t0;
  m->cpu = {cpu1.user_us - cpu0.user_us, cpu1.sys_us - cpu0.sys_us};
}

void RunSync(zhandle_t* zh, const DriverConfig& config, int64_t total, Measurement* m) {
  std::vector<char> buffer(config.expected_length + 1024);
  m->latencies_ns.reserve(total);
  const CpuTime cpu0 = ProcessCpuTime();
  const int64_t t0 = NowNanos();
  for (int64_t i = 0; i < total; ++i) {
    int length = static_cast<int>(buffer.size());
    struct Stat stat;
    const int64_t start = NowNanos();
    int rc = zoo_get(zh, config.path.c_str(), 0, buffer.data(), &length, &stat);
    m->latencies_ns.push_back(NowNanos() - start);
    if (rc != ZOK || length != config.expected_length) ++m->errors;
  }
  const int64_t t1 = NowNanos();
  const CpuTime cpu1 = ProcessCpuTime();
  m->ops = total;
  m->wall_ns = t1 - t0;
  m->cpu = {cpu1.user_us - cpu0.user_us, cpu1.sys_us - cpu0.sys_us};
}

int Main(int argc, char** argv) {
  absl::StatusOr<DriverConfig> config = ParseDriverArgs(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "mt_peer: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
  Connection conn;
  zhandle_t* zh = zookeeper_init(config->hosts.c_str(), OnSessionEvent, 10000, nullptr, &conn, 0);
  if (zh == nullptr) {
    std::perror("mt_peer: zookeeper_init");
    return 1;
  }
  if (config->fixed) zoo_set_servers_resolution_delay(zh, -1);
  {
    std::unique_lock<std::mutex> lock(conn.mu);
    if (!conn.cv.wait_for(lock, std::chrono::seconds(30), [&] { return conn.connected; })) {
      std::fprintf(stderr, "mt_peer: not connected after 30 s\n");
      zookeeper_close(zh);
      return 1;
    }
  }

  Measurement warmup, measured;
  if (config->workload == Workload::kPipelined) {
    if (config->warmup_ops > 0) RunPipelined(zh, *config, config->warmup_ops, &warmup);
    RunPipelined(zh, *config, config->ops, &measured);
  } else {
    if (config->warmup_ops > 0) RunSync(zh, *config, config->warmup_ops, &warmup);
    RunSync(zh, *config, config->ops, &measured);
  }
  zookeeper_close(zh);
  std::printf("%s\n", FormatResult(measured).c_str());
  std::fflush(stdout);
  return measured.errors == 0 && warmup.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace zkbench

int main(int argc, char** argv) { return zkbench::Main(argc, argv); }
