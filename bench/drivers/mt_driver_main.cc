// zkcpp_bench_mt_driver: the libzookeeper_mt peer of the side-by-side suite (protocol and
// workloads: common/driver_common.h).
//
// Drives Debian's libzookeeper_mt (runtime package libzookeeper-mt2) the way an application
// usually does: the library's own I/O and completion threads, zoo_a* completions that re-issue
// (pipelined workloads), the THREADED sync calls (the others), zoo_wexists watchers. With
// --fixed=1 (default) it calls zoo_set_servers_resolution_delay(zh, -1) right after
// zookeeper_init, which stops the library from re-resolving the host list on every loop turn;
// without it the peer is ~2x more expensive per op (performance-baseline.md), and a comparison
// against that would flatter zkcpp.
//
// This binary must not link zkcpp::client: libzookeeper_st and libzookeeper_mt export the same
// symbols.

#include <zookeeper/zookeeper.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "driver_common.h"
#include "loops.h"

namespace zkbench {
namespace {

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

// A connected handle, closed by the destructor.
class Handle {
 public:
  static std::unique_ptr<Handle> Connect(const DriverConfig& config) {
    auto handle = std::unique_ptr<Handle>(new Handle);
    handle->zh_ = zookeeper_init(config.hosts.c_str(), OnSessionEvent, 10000, nullptr,
                                 &handle->conn_, 0);
    if (handle->zh_ == nullptr) {
      std::perror("mt driver: zookeeper_init");
      return nullptr;
    }
    if (config.fixed) zoo_set_servers_resolution_delay(handle->zh_, -1);
    std::unique_lock<std::mutex> lock(handle->conn_.mu);
    if (!handle->conn_.cv.wait_for(lock, std::chrono::seconds(30),
                                   [&] { return handle->conn_.connected; })) {
      std::fprintf(stderr, "mt driver: not connected after 30 s\n");
      return nullptr;
    }
    return handle;
  }
  ~Handle() {
    if (zh_ != nullptr) zookeeper_close(zh_);
  }
  zhandle_t* zh() const { return zh_; }

 private:
  Handle() = default;
  zhandle_t* zh_ = nullptr;
  Connection conn_;
};

bool Ok(int rc, const char* what) {
  if (rc == ZOK) return true;
  std::fprintf(stderr, "mt driver: %s: %s\n", what, zerror(rc));
  return false;
}

// The pipelined completions: `data` is the Pipeline; the expected length rides in a global
// because the C completion has one context pointer.
int64_t g_expected_length = 0;

void OnGet(int rc, const char* value, int value_len, const struct Stat*, const void* data) {
  static_cast<Pipeline*>(const_cast<void*>(data))->Done(rc == ZOK && value_len == g_expected_length);
}

void OnSet(int rc, const struct Stat*, const void* data) {
  static_cast<Pipeline*>(const_cast<void*>(data))->Done(rc == ZOK);
}

// The library keys watchers by (function, context): one context per watcher, so that fanout's
// watchers stay distinct, all forwarding to one countdown.
struct WatcherSlot {
  Countdown* countdown;
};
void OnSlotWatch(zhandle_t*, int type, int, const char*, void* context) {
  if (type == ZOO_CHANGED_EVENT) static_cast<WatcherSlot*>(context)->countdown->Arrive();
}

int RunSession(const DriverConfig& config) {
  return WarmAndMeasure(config, [&](int64_t n) {
    return TimeEvents(n, [&]() -> int64_t {
      const int64_t t0 = NowNanos();
      std::unique_ptr<Handle> handle = Handle::Connect(config);
      const int64_t t1 = NowNanos();
      return handle == nullptr ? -1 : t1 - t0;  // the destructor closes, unmeasured
    });
  });
}

int Run(const DriverConfig& config) {
  const std::string& w = config.workload;
  if (w == "session") return RunSession(config);
  std::unique_ptr<Handle> handle = Handle::Connect(config);
  if (handle == nullptr) return 1;
  zhandle_t* zh = handle->zh();
  const char* path = config.path.c_str();
  const std::string value(static_cast<size_t>(config.size), 'v');
  g_expected_length = config.size;

  if (w == "sync_get") {
    std::vector<char> buffer(config.size + 1024);
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        int length = static_cast<int>(buffer.size());
        struct Stat stat;
        return Ok(zoo_get(zh, path, 0, buffer.data(), &length, &stat), "get") &&
               length == config.size;
      });
    });
  }
  if (w == "sync_set") {
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        return Ok(zoo_set(zh, path, value.data(), static_cast<int>(value.size()), -1), "set");
      });
    });
  }
  if (w == "pipelined_get" || w == "pipelined_set") {
    const bool get = w == "pipelined_get";
    return WarmAndMeasure(config, [&](int64_t n) {
      return Pipeline::Run(n, config.window, [&](Pipeline* p) {
        const int rc = get ? zoo_aget(zh, path, 0, OnGet, p)
                           : zoo_aset(zh, path, value.data(), static_cast<int>(value.size()), -1,
                                      OnSet, p);
        // Rejected synchronously: no completion will come.
        if (rc != ZOK) p->Done(false);
      });
    });
  }
  if (w == "create_delete") {
    const std::string child = config.path + "/n";
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        return Ok(zoo_create(zh, child.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0),
                  "create") &&
               Ok(zoo_delete(zh, child.c_str(), -1), "delete");
      });
    });
  }
  if (w == "multi") {
    std::vector<std::string> nodes;
    for (int i = 0; i < 10; ++i) {
      nodes.push_back(config.path + "/m" + std::to_string(i));
      const int rc = zoo_create(zh, nodes.back().c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0,
                                nullptr, 0);
      if (rc != ZOK && rc != ZNODEEXISTS) return Ok(rc, "create") ? 1 : 1;
    }
    const std::string data(16, 'm');
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        zoo_op_t ops[10];
        zoo_op_result_t results[10];
        struct Stat stats[10];
        for (int i = 0; i < 10; ++i) {
          zoo_set_op_init(&ops[i], nodes[i].c_str(), data.data(), static_cast<int>(data.size()),
                          -1, &stats[i]);
        }
        return Ok(zoo_multi(zh, 10, ops, results), "multi");
      });
    });
  }
  if (w == "children") {
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        String_vector children{};
        const bool ok = Ok(zoo_get_children(zh, path, 0, &children), "getChildren") &&
                        children.count == config.size;
        deallocate_String_vector(&children);
        return ok;
      });
    });
  }
  if (w == "watch" || w == "fanout") {
    std::unique_ptr<Handle> writer = Handle::Connect(config);
    if (writer == nullptr) return 1;
    const int watchers = w == "watch" ? 1 : config.contenders;
    Countdown fired;
    std::vector<WatcherSlot> slots(watchers, WatcherSlot{&fired});
    const std::string data(16, 'w');
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeEvents(n, [&]() -> int64_t {
        fired.Reset(watchers);
        for (WatcherSlot& slot : slots) {
          struct Stat stat;
          if (!Ok(zoo_wexists(zh, path, OnSlotWatch, &slot, &stat), "exists")) return -1;
        }
        const int64_t t0 = NowNanos();
        if (!Ok(zoo_set(writer->zh(), path, data.data(), static_cast<int>(data.size()), -1),
                "set")) {
          return -1;
        }
        const int64_t t1 = fired.Wait(std::chrono::seconds(30));
        return t1 == 0 ? -1 : t1 - t0;
      });
    });
  }
  std::fprintf(stderr, "mt driver: unknown workload %s\n", w.c_str());
  return 2;
}

}  // namespace
}  // namespace zkbench

int main(int argc, char** argv) {
  zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
  return zkbench::Run(zkbench::StartDriver(argc, argv, "mt driver"));
}
