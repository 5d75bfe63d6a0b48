// zkcpp client tests: shared helpers.
//
// - ClientTest: a BackendTest that connects one client (client()) and creates Root().
// - EventLog / SessionLog: thread-safe recorders of watch and session events, with waits.
// - Helpers to connect more clients with test-friendly options.
//
// Nothing here sleeps to synchronize: every wait is a condition with a deadline.

#ifndef ZKCPP_TESTS_CLIENT_CLIENT_TEST_UTIL_H_
#define ZKCPP_TESTS_CLIENT_CLIENT_TEST_UTIL_H_

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "zk/internal/sync.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/backend_test.h"
#include "testing/status_matchers.h"
#include "testing/wait_for.h"
#include "zk/client.h"
#include "zk/path.h"
#include "zk/status.h"
#include "zk/types.h"
#include "zk/watch.h"

namespace zk {

inline void PrintTo(WatchEventType type, std::ostream* os) { *os << WatchEventTypeName(type); }
inline void PrintTo(SessionState state, std::ostream* os) { *os << SessionStateName(state); }
inline void PrintTo(const ClientIdentity& identity, std::ostream* os) {
  *os << identity.scheme << ":" << identity.user;
}
inline void PrintTo(const WatchEvent& e, std::ostream* os) {
  *os << "{" << WatchEventTypeName(e.type) << " " << e.path;
  if (!e.reason.ok()) *os << " reason=" << e.reason.ToString();
  *os << "}";
}
inline void PrintTo(const SessionEvent& e, std::ostream* os) {
  *os << "{" << SessionStateName(e.state) << " 0x" << std::hex << e.session_id << std::dec
      << (e.new_session ? " new" : "") << "}";
}

}  // namespace zk

namespace zk::testing {

// How long a test waits for something that should happen promptly (an event, a callback).
// Generous, because sanitizer builds are slow; a correct run never waits this long.
inline constexpr absl::Duration kWait = absl::Seconds(20);

// Options for a test client of `connect_string`: a short-ish session so fault tests stay fast.
inline ClientOptions TestOptions(std::string connect_string,
                                 std::chrono::milliseconds session_timeout =
                                     std::chrono::milliseconds(10000)) {
  ClientOptions options;
  options.connect_string = std::move(connect_string);
  options.session_timeout = session_timeout;
  return options;
}

// True if this run's clients use the native engine: ClientOptions::engine left unset, so
// ZKCPP_ENGINE decides (the /native registrations set it; unset means the C library).
inline bool NativeEngineFromEnvironment() {
  const char* engine = std::getenv("ZKCPP_ENGINE");
  return engine != nullptr && std::string_view(engine) == "native";
}

// Connects a client and waits until it has a session.
inline absl::StatusOr<std::unique_ptr<Client>> ConnectAndWait(ClientOptions options) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(std::move(options));
  if (!client.ok()) return client.status();
  absl::Status connected = (*client)->WaitUntilConnected(std::chrono::seconds(20));
  if (!connected.ok()) return connected;
  return client;
}

// Closes a client when it goes out of scope, if it still exists. Declare it after the locals
// that the client's pending callbacks capture: an early return (a failed ASSERT) then closes
// the client, which completes every pending callback, before those locals are destroyed.
class CloseOnExit {
 public:
  explicit CloseOnExit(std::unique_ptr<Client>& client) : client_(client) {}
  CloseOnExit(const CloseOnExit&) = delete;
  CloseOnExit& operator=(const CloseOnExit&) = delete;
  ~CloseOnExit() {
    if (client_ != nullptr) client_->Close();
  }

 private:
  std::unique_ptr<Client>& client_;
};

// Records watch events; thread-safe.
class EventLog {
 public:
  WatchCallback Callback() {
    return [this](const WatchEvent& event) {
      zk::internal::MutexLock lock(&mu_);
      events_.push_back(event);
    };
  }
  std::vector<WatchEvent> events() const {
    zk::internal::MutexLock lock(&mu_);
    return events_;
  }
  size_t size() const {
    zk::internal::MutexLock lock(&mu_);
    return events_.size();
  }
  // Waits until at least `n` events were recorded.
  bool WaitForSize(size_t n, absl::Duration timeout = kWait) const {
    zk::internal::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return events_.size() >= n; };
    return mu_.AwaitWithTimeout(enough, timeout);
  }

 private:
  mutable zk::internal::Mutex mu_;
  std::vector<WatchEvent> events_ ABSL_GUARDED_BY(mu_);
};

// Records session events; thread-safe.
class SessionLog {
 public:
  SessionCallback Callback() {
    return [this](const SessionEvent& event) {
      zk::internal::MutexLock lock(&mu_);
      events_.push_back(event);
    };
  }
  std::vector<SessionEvent> events() const {
    zk::internal::MutexLock lock(&mu_);
    return events_;
  }
  // Waits until an event in `state` was recorded at index >= `from`; returns its index.
  std::optional<size_t> WaitForState(SessionState state, size_t from = 0,
                                     absl::Duration timeout = kWait) const {
    zk::internal::MutexLock lock(&mu_);
    std::optional<size_t> found;
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (size_t i = from; i < events_.size(); ++i) {
        if (events_[i].state == state) {
          found = i;
          return true;
        }
      }
      return false;
    };
    mu_.AwaitWithTimeout(seen, timeout);
    return found;
  }
  // Waits for a failover or reconnect that kept session `session_id`: kSuspended, then
  // kReconnected of that session (new_session false), and no kLost anywhere. The failure
  // names what was missing and lists the events.
  ::testing::AssertionResult WaitForResumption(int64_t session_id) const {
    const std::optional<size_t> suspended = WaitForState(SessionState::kSuspended);
    std::optional<size_t> back;
    if (suspended.has_value()) back = WaitForState(SessionState::kReconnected, *suspended);
    const std::vector<SessionEvent> seen = events();
    auto failure = [&seen](std::string_view what) {
      return ::testing::AssertionFailure() << what << "; events: " << ::testing::PrintToString(seen);
    };
    if (!suspended.has_value()) return failure("no kSuspended");
    if (!back.has_value()) return failure("no kReconnected after kSuspended");
    if (seen[*back].new_session) return failure("kReconnected with a new session");
    if (seen[*back].session_id != session_id) return failure("kReconnected to another session");
    for (const SessionEvent& event : seen) {
      if (event.state == SessionState::kLost) return failure("the session was lost (kLost)");
    }
    return ::testing::AssertionSuccess();
  }

 private:
  mutable zk::internal::Mutex mu_;
  std::vector<SessionEvent> events_ ABSL_GUARDED_BY(mu_);
};

// Records the log lines of a client (ClientOptions::log_sink); thread-safe.
class LogCapture {
 public:
  LogSink Sink() {
    return [this](LogLevel, std::string_view message) {
      zk::internal::MutexLock lock(&mu_);
      lines_.emplace_back(message);
    };
  }
  // How many lines hold `text` now.
  int Count(std::string_view text) const {
    zk::internal::MutexLock lock(&mu_);
    int n = 0;
    for (const std::string& line : lines_) {
      if (absl::StrContains(line, AsAbsl(text))) ++n;
    }
    return n;
  }
  // The first line holding `text`, or "" after `timeout`.
  std::string WaitForLine(std::string_view text, absl::Duration timeout = kWait) const {
    std::string found;
    WaitFor(
        [&] {
          zk::internal::MutexLock lock(&mu_);
          for (const std::string& line : lines_) {
            if (absl::StrContains(line, AsAbsl(text))) {
              found = line;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

 private:
  static absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }
  mutable zk::internal::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

// Matches a WatchEvent of `type` on `path`.
MATCHER_P2(EventIs, type, path, "") {
  *result_listener << "which is " << ::testing::PrintToString(arg);
  return arg.type == type && arg.path == path;
}

// A BackendTest with one connected client and Root() created.
class ClientTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<std::unique_ptr<Client>> client = ConnectAndWait(Options());
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
    ASSERT_THAT(client_->EnsurePath(Root()), IsOk());
  }

  // Options of client() and of NewClient(); tests override to shrink the session.
  virtual ClientOptions Options() { return TestOptions(connect_string()); }

  Client& client() { return *client_; }
  // Another connected client with Options() (optionally changed by `edit`).
  std::unique_ptr<Client> NewClient(ClientOptions options) {
    absl::StatusOr<std::unique_ptr<Client>> client = ConnectAndWait(std::move(options));
    EXPECT_THAT(client, IsOk());
    return client.ok() ? *std::move(client) : nullptr;
  }
  std::unique_ptr<Client> NewClient() { return NewClient(Options()); }

  std::string P(std::string_view name) const { return JoinPath(Root(), name); }

  std::unique_ptr<Client> client_;
};

}  // namespace zk::testing

#endif  // ZKCPP_TESTS_CLIENT_CLIENT_TEST_UTIL_H_
