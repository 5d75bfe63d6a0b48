// zkcpp-demo — the helpers every scenario shares (see demo.h).

#include "demo/demo.h"

#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "zk/path.h"

namespace zkcpp_demo {

namespace {

// All scenario subtrees live under one parent, so that an operator can see (and remove) what a
// demo left on a shared ensemble if it was killed before its cleanup ran.
constexpr char kDemoParent[] = "/zkcpp-demo";

}  // namespace

void Say(const char* format, ...) {
  char line[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  // One write per line, flushed at once: lines come from several threads (workers, listeners)
  // and the output is often a pipe (ctest, tee), which would otherwise buffer it.
  std::printf("  %s\n", line);
  std::fflush(stdout);
}

void Header(int index, int total, std::string_view name, std::string_view what) {
  std::printf("\n=== %d/%d %.*s: %.*s\n", index, total, static_cast<int>(name.size()), name.data(),
              static_cast<int>(what.size()), what.data());
  std::fflush(stdout);
}

std::string Describe(const absl::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ", std::string(status.message()));
}

std::string Hex(int64_t value) { return absl::StrFormat("0x%x", static_cast<uint64_t>(value)); }

double Millis(std::chrono::steady_clock::time_point start,
              std::chrono::steady_clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

absl::Status ClaimFailed(std::string_view what) {
  return absl::InternalError(absl::StrCat("claim not met: ", std::string(what)));
}

absl::StatusOr<std::unique_ptr<zk::Client>> ConnectClient(const DemoContext& context,
                                                          std::string name) {
  zk::ClientOptions options{.connect_string = context.connect_string,
                            .session_timeout = kSessionTimeout};
  // The C library logs every lost connection and expired session, which the scenarios cause on
  // purpose; they tell the story themselves, so the raw lines are shown only on request.
  if (context.verbose) {
    options.log_sink = [name](zk::LogLevel, std::string_view line) {
      Say("[libzookeeper %s] %.*s", name.c_str(), static_cast<int>(line.size()), line.data());
    };
  } else {
    options.log_sink = [](zk::LogLevel, std::string_view) {};
  }
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, zk::Client::Connect(std::move(options)));
  absl::Status connected = client->WaitUntilConnected(kWaitTimeout);
  if (!connected.ok()) {
    return absl::Status(connected.code(), absl::StrCat("client ", name, " could not connect to ",
                                                       context.connect_string, ": ",
                                                       std::string(connected.message())));
  }
  return client;
}

absl::Status WaitForChildren(zk::Client& client, const std::string& path, size_t count,
                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // Read and watch in one call, so that no change between the read and the wait is missed.
    std::mutex mu;
    std::condition_variable cv;
    bool changed = false;  // guarded by mu
    ZK_ASSIGN_OR_RETURN(zk::Watched<zk::ChildrenResult> watched,
                        client.GetChildrenAndWatch(path, [&](const zk::WatchEvent&) {
                          std::lock_guard<std::mutex> lock(mu);
                          changed = true;
                          cv.notify_all();
                        }));
    if (watched.result.children.size() >= count) return absl::OkStatus();
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_until(lock, deadline, [&] { return changed; })) {
      return absl::DeadlineExceededError(absl::StrCat("waiting for ", count, " children of ", path,
                                                      ": still ", watched.result.children.size()));
    }
    // Reverse order of declaration: `lock` releases mu, then `watched` cancels its watch (waiting
    // for a running callback), and only then do mu, cv and `changed` go.
  }
}

absl::StatusOr<std::unique_ptr<ScenarioRoot>> ScenarioRoot::Create(const DemoContext& context,
                                                                   std::string_view scenario) {
  // A random suffix keeps two demos on one ensemble (or a rerun after a crash) apart.
  std::random_device random;
  const std::string path = absl::StrFormat("%s/%s-%08x", kDemoParent, std::string(scenario),
                                           static_cast<uint32_t>(random()));
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> admin,
                      ConnectClient(context, absl::StrCat(std::string(scenario), "-admin")));
  ZK_RETURN_IF_ERROR(admin->EnsurePath(path));
  Say("base path %s", path.c_str());
  return std::unique_ptr<ScenarioRoot>(new ScenarioRoot(std::move(admin), path));
}

ScenarioRoot::~ScenarioRoot() {
  absl::Status deleted = admin_->DeleteRecursive(path_);
  if (!deleted.ok()) {
    Say("cleanup of %s failed: %s", path_.c_str(), Describe(deleted).c_str());
    return;
  }
  // Another demo may still use the parent: NOTEMPTY is expected then, and fine.
  absl::Status parent = admin_->Delete(kDemoParent);
  if (!parent.ok() && !zk::IsNotEmpty(parent) && !zk::IsNoNode(parent)) {
    Say("cleanup of %s failed: %s", kDemoParent, Describe(parent).c_str());
  }
  Say("removed %s", path_.c_str());
}

std::string ScenarioRoot::Child(std::string_view child) const { return zk::JoinPath(path_, child); }

}  // namespace zkcpp_demo
