// zkcpp_bench_zkcpp_driver: zk::Client's side of the side-by-side benchmark.
//
// Pipelined workload: AsyncGet with a fixed window in flight, each completion issuing the next
// get from inside the callback (what an application doing fan-out reads would write).
// --exec=dispatcher runs callbacks on the client's default FIFO dispatcher thread;
// --exec=inline runs them on the event-loop thread (CallbackExecution::kInline).
// Sync workload: blocking Get in a loop on the main thread, per-op latency recorded.
//
// Runs in its own process, like the libzookeeper_mt peer, so that both are measured the same way
// (whole-process getrusage over the measured interval; see driver_common.h).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "driver_common.h"
#include "zk/client.h"

namespace zkbench {
namespace {

constexpr auto kRunTimeout = std::chrono::seconds(300);

struct Pipeline {
  zk::Client* client = nullptr;
  const std::string* path = nullptr;
  size_t expected_length = 0;
  int64_t total = 0;
  std::atomic<int64_t> issued{0};
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> errors{0};
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
};

void IssueGet(Pipeline* p) {
  p->client->AsyncGet(*p->path, [p](absl::StatusOr<zk::GetResult> result) {
    if (!result.ok() || result->data.size() != p->expected_length) p->errors.fetch_add(1);
    if (p->issued.fetch_add(1) < p->total) IssueGet(p);
    if (p->completed.fetch_add(1) + 1 == p->total) {
      std::lock_guard<std::mutex> lock(p->mu);
      p->done = true;
      p->cv.notify_all();
    }
  });
}

void RunPipelined(zk::Client* client, const DriverConfig& config, int64_t total, Measurement* m) {
  Pipeline p;
  p.client = client;
  p.path = &config.path;
  p.expected_length = static_cast<size_t>(config.expected_length);
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
      std::fprintf(stderr, "zkcpp_driver: run timed out (%lld of %lld done)\n",
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

void RunSync(zk::Client* client, const DriverConfig& config, int64_t total, Measurement* m) {
  m->latencies_ns.reserve(total);
  const CpuTime cpu0 = ProcessCpuTime();
  const int64_t t0 = NowNanos();
  for (int64_t i = 0; i < total; ++i) {
    const int64_t start = NowNanos();
    absl::StatusOr<zk::GetResult> result = client->Get(config.path);
    m->latencies_ns.push_back(NowNanos() - start);
    if (!result.ok() || result->data.size() != static_cast<size_t>(config.expected_length)) {
      if (m->errors++ == 0 && !result.ok()) {
        std::fprintf(stderr, "zkcpp_driver: %s\n", result.status().ToString().c_str());
      }
    }
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
    std::fprintf(stderr, "zkcpp_driver: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  zk::ClientOptions options;
  options.connect_string = config->hosts;
  options.session_timeout = std::chrono::milliseconds(10000);
  options.callback_execution = config->exec == "inline" ? zk::CallbackExecution::kInline
                                                        : zk::CallbackExecution::kDispatcherThread;
  absl::StatusOr<std::unique_ptr<zk::Client>> client = zk::Client::Connect(std::move(options));
  if (!client.ok()) {
    std::fprintf(stderr, "zkcpp_driver: %s\n", client.status().ToString().c_str());
    return 1;
  }
  if (absl::Status s = (*client)->WaitUntilConnected(std::chrono::seconds(30)); !s.ok()) {
    std::fprintf(stderr, "zkcpp_driver: %s\n", s.ToString().c_str());
    return 1;
  }

  Measurement warmup, measured;
  if (config->workload == Workload::kPipelined) {
    if (config->warmup_ops > 0) RunPipelined(client->get(), *config, config->warmup_ops, &warmup);
    RunPipelined(client->get(), *config, config->ops, &measured);
  } else {
    if (config->warmup_ops > 0) RunSync(client->get(), *config, config->warmup_ops, &warmup);
    RunSync(client->get(), *config, config->ops, &measured);
  }
  client->reset();
  std::printf("%s\n", FormatResult(measured).c_str());
  std::fflush(stdout);
  return measured.errors == 0 && warmup.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace zkbench

int main(int argc, char** argv) { return zkbench::Main(argc, argv); }
