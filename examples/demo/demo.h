// zkcpp-demo — what the four used-by scenarios share: where they run, how they print, how they
// connect, and the subtree each one owns and removes.
//
// Every scenario is a function that returns a one-line summary of what it verified, or an
// error that says which claim did not hold (or which call failed). It prints as it goes, so
// that a person can follow the story; all waiting is on listeners and watches with deadlines.

#ifndef ZKCPP_EXAMPLES_DEMO_DEMO_H_
#define ZKCPP_EXAMPLES_DEMO_DEMO_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/client.h"
#include "zk/testing/embedded_server.h"

namespace zkcpp_demo {

// Where the scenarios run.
struct DemoContext {
  std::string connect_string;
  // The in-process server, or null against a real ensemble (then faults are client closes).
  zk::testing::EmbeddedServer* embedded_server = nullptr;
  // Show the C library's own log lines (connection losses, expiries) as they happen.
  bool verbose = false;
};

// The session timeout of every demo client: short, so that a real crash would be noticed in
// seconds, long enough for a loaded 2-core machine.
inline constexpr std::chrono::milliseconds kSessionTimeout{4000};
// The deadline of every wait for something the scenario caused (a listener, a watch).
inline constexpr std::chrono::milliseconds kWaitTimeout{15000};

// Prints one indented line of the scenario's story (a newline is added). Thread-safe: each line
// is written whole.
void Say(const char* format, ...) ABSL_PRINTF_ATTRIBUTE(1, 2);
// Prints a scenario's header: "=== 2/4 order lock: <what it shows>".
void Header(int index, int total, std::string_view name, std::string_view what);

// Returns "NOT_FOUND: get /x: node does not exist" (the code and the message, no payloads).
std::string Describe(const absl::Status& status);
// Returns a zxid-like number as ZooKeeper prints it: "0x100000005".
std::string Hex(int64_t value);
// Returns the milliseconds from `start` to `end`.
double Millis(std::chrono::steady_clock::time_point start,
              std::chrono::steady_clock::time_point end);

// Returns the error a scenario reports when what it set out to show did not hold.
absl::Status ClaimFailed(std::string_view what);

// Connects a client named `name` (the name prefixes its library log lines with --verbose) and
// waits for its session. Errors: the client's (DeadlineExceeded if no server answers).
absl::StatusOr<std::unique_ptr<zk::Client>> ConnectClient(const DemoContext& context,
                                                          std::string name);

// Waits until `path` has at least `count` children, on child watches (no polling), at most
// `timeout`. Errors: DeadlineExceeded, the client's.
absl::Status WaitForChildren(zk::Client& client, const std::string& path, size_t count,
                             std::chrono::milliseconds timeout);

// The subtree one scenario owns: "/zkcpp-demo/<scenario>-<random>", created on Create() and
// deleted (with "/zkcpp-demo" once empty) by the destructor, through a client of its own, so
// that nothing is left on a shared ensemble even when the scenario fails half-way. Declare it
// before the scenario's clients: they must be closed first, or their ephemerals would block
// the delete. Thread-compatible.
class ScenarioRoot {
 public:
  static absl::StatusOr<std::unique_ptr<ScenarioRoot>> Create(const DemoContext& context,
                                                              std::string_view scenario);
  ~ScenarioRoot();
  ScenarioRoot(const ScenarioRoot&) = delete;
  ScenarioRoot& operator=(const ScenarioRoot&) = delete;

  const std::string& path() const { return path_; }
  // Returns "<root>/<child>".
  std::string Child(std::string_view child) const;

 private:
  ScenarioRoot(std::unique_ptr<zk::Client> admin, std::string path)
      : admin_(std::move(admin)), path_(std::move(path)) {}
  std::unique_ptr<zk::Client> admin_;
  const std::string path_;
};

// The scenarios, in the order the demo runs them. Each returns its one-line summary.
absl::StatusOr<std::string> RunRegistryScenario(const DemoContext& context);
absl::StatusOr<std::string> RunOrderLockScenario(const DemoContext& context);
absl::StatusOr<std::string> RunActiveStandbyScenario(const DemoContext& context);
absl::StatusOr<std::string> RunConfigPushScenario(const DemoContext& context);

}  // namespace zkcpp_demo

#endif  // ZKCPP_EXAMPLES_DEMO_DEMO_H_
