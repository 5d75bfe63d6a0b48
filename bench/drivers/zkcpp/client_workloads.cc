// zk::Client's side of the client workloads (definitions: common/driver_common.h).

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "loops.h"
#include "workloads.h"

namespace zkbench {
namespace {

constexpr auto kWait = std::chrono::seconds(30);

bool Check(const absl::Status& status, const char* what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "zkcpp driver: %s: %s\n", what, status.ToString().c_str());
  return false;
}

int RunWatch(zk::Client& watcher, zk::Client& writer, const DriverConfig& config, int watchers) {
  Countdown fired;
  const std::string value(16, 'w');
  auto once = [&]() -> int64_t {
    fired.Reset(watchers);
    std::vector<zk::Watch> watches;
    for (int i = 0; i < watchers; ++i) {
      auto armed = watcher.ExistsAndWatch(config.path, [&](const zk::WatchEvent&) { fired.Arrive(); });
      if (!Check(armed.status(), "watch")) return -1;
      watches.push_back(std::move(armed->watch));
    }
    const int64_t t0 = NowNanos();
    if (!Check(writer.Set(config.path, value).status(), "set")) return -1;
    const int64_t t1 = fired.Wait(kWait);
    return t1 == 0 ? -1 : t1 - t0;
  };
  auto run = [&](int64_t n) { return TimeEvents(n, once); };
  return WarmAndMeasure(config, run);
}

// A recursive persistent watch on the run's path with kSubtreeNodes children; each event: the
// writer sets one child → the watch's callback for that child.
constexpr int kSubtreeNodes = 10;

int RunSubtreeWatch(zk::Client& watcher, zk::Client& writer, const DriverConfig& config) {
  std::vector<std::string> children;
  for (int i = 0; i < kSubtreeNodes; ++i) {
    children.push_back(absl::StrCat(config.path, "/c", i));
    absl::Status s = writer.Create(children.back(), "").status();
    if (!s.ok() && !zk::IsNodeExists(s)) return Check(s, "create") ? 1 : 1;
  }
  Countdown fired;
  std::mutex mu;
  std::string expected;
  absl::StatusOr<zk::Watch> watch = watcher.AddPersistentWatch(
      config.path, {.recursive = true}, [&](const zk::WatchEvent& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (e.type == zk::WatchEventType::kDataChanged && e.path == expected) fired.Arrive();
      });
  if (!Check(watch.status(), "add_persistent_watch")) return 1;
  const std::string value(16, 'w');
  int64_t next = 0;
  auto once = [&]() -> int64_t {
    const std::string& target = children[next++ % kSubtreeNodes];
    {
      std::lock_guard<std::mutex> lock(mu);
      expected = target;
      fired.Reset(1);
    }
    const int64_t t0 = NowNanos();
    if (!Check(writer.Set(target, value).status(), "set")) return -1;
    const int64_t t1 = fired.Wait(kWait);
    return t1 == 0 ? -1 : t1 - t0;
  };
  return WarmAndMeasure(config, [&](int64_t n) { return TimeEvents(n, once); });
}

int RunSession(const DriverConfig& config) {
  auto run = [&](int64_t n) {
    return TimeEvents(n, [&]() -> int64_t {
      const int64_t t0 = NowNanos();
      absl::StatusOr<std::unique_ptr<zk::Client>> client = ConnectClient(config);
      const int64_t t1 = NowNanos();
      if (!Check(client.status(), "connect")) return -1;
      (*client)->Close();  // unmeasured, but finished before the next connect
      return t1 - t0;
    });
  };
  return WarmAndMeasure(config, run);
}

}  // namespace

absl::StatusOr<std::unique_ptr<zk::Client>> ConnectClient(const DriverConfig& config) {
  zk::ClientOptions options;
  options.connect_string = config.hosts;
  options.session_timeout = std::chrono::milliseconds(10000);
  options.callback_execution = config.exec == "inline" ? zk::CallbackExecution::kInline
                                                       : zk::CallbackExecution::kDispatcherThread;
  if (!config.engine.empty()) {
    options.engine =
        config.engine == "native" ? zk::EngineKind::kNative : zk::EngineKind::kCLibrary;
  }
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, zk::Client::Connect(std::move(options)));
  ZK_RETURN_IF_ERROR(client->WaitUntilConnected(kWait));
  return client;
}

int RunClientWorkload(const DriverConfig& config) {
  const std::string& w = config.workload;
  if (w == "session") return RunSession(config);
  absl::StatusOr<std::unique_ptr<zk::Client>> connected = ConnectClient(config);
  if (!connected.ok()) return Check(connected.status(), "connect") ? 1 : 1;
  zk::Client& client = **connected;
  const std::string& path = config.path;
  const size_t size = static_cast<size_t>(config.size);
  const std::string value(size, 'v');

  if (w == "sync_get") {
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        absl::StatusOr<zk::GetResult> r = client.Get(path);
        return Check(r.status(), "get") && r->data.size() == size;
      });
    });
  }
  if (w == "sync_set") {
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] { return Check(client.Set(path, value).status(), "set"); });
    });
  }
  if (w == "pipelined_get") {
    return WarmAndMeasure(config, [&](int64_t n) {
      return Pipeline::Run(n, config.window, [&](Pipeline* p) {
        client.AsyncGet(path, [p, size](absl::StatusOr<zk::GetResult> r) {
          p->Done(r.ok() && r->data.size() == size);
        });
      });
    });
  }
  if (w == "pipelined_set") {
    return WarmAndMeasure(config, [&](int64_t n) {
      return Pipeline::Run(n, config.window, [&](Pipeline* p) {
        client.AsyncSet(path, value, std::nullopt,
                        [p](absl::StatusOr<zk::Stat> r) { p->Done(r.ok()); });
      });
    });
  }
  if (w == "create_delete") {
    const std::string child = absl::StrCat(path, "/n");
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        return Check(client.Create(child, "").status(), "create") &&
               Check(client.Delete(child), "delete");
      });
    });
  }
  if (w == "multi") {
    std::vector<std::string> nodes;
    for (int i = 0; i < 10; ++i) {
      nodes.push_back(absl::StrCat(path, "/m", i));
      absl::Status s = client.Create(nodes.back(), "").status();
      if (!s.ok() && !zk::IsNodeExists(s)) return Check(s, "create") ? 1 : 1;
    }
    const std::string data(16, 'm');
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        std::vector<zk::Op> ops;
        for (const std::string& node : nodes) ops.push_back(zk::op::Set{node, data, std::nullopt});
        return Check(client.Multi(std::move(ops)).status(), "multi");
      });
    });
  }
  if (w == "children") {
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        absl::StatusOr<zk::ChildrenResult> r = client.GetChildren(path);
        return Check(r.status(), "getChildren") && r->children.size() == size;
      });
    });
  }
  if (w == "watch" || w == "fanout") {
    absl::StatusOr<std::unique_ptr<zk::Client>> writer = ConnectClient(config);
    if (!writer.ok()) return Check(writer.status(), "connect") ? 1 : 1;
    return RunWatch(client, **writer, config, w == "watch" ? 1 : config.contenders);
  }
  if (w == "subtree_watch") {
    absl::StatusOr<std::unique_ptr<zk::Client>> writer = ConnectClient(config);
    if (!writer.ok()) return Check(writer.status(), "connect") ? 1 : 1;
    return RunSubtreeWatch(client, **writer, config);
  }
  std::fprintf(stderr, "zkcpp driver: unknown workload %s\n", w.c_str());
  return 2;
}

}  // namespace zkbench
