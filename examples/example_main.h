// What the recipe examples (examples/*.cc) share, so that each of them is only its story:
//
//   - where it runs: with no flags it starts zkcpp's embedded server in-process; with
//     --connect=host:port,... it runs against that ensemble instead;
//   - a fresh subtree of its own ("/zkcpp-examples/<name>-<random>"), removed at the end, so
//     that nothing is left behind on a shared ensemble;
//   - Claim(): an example checks what it shows, and exits non-zero if that did not hold;
//   - SharedState<T>: a value that listener threads update and main() waits on.
//
// Only public headers are used, as in your own program.

#ifndef ZKCPP_EXAMPLES_EXAMPLE_MAIN_H_
#define ZKCPP_EXAMPLES_EXAMPLE_MAIN_H_

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "zk/client.h"
#include "zk/status.h"
#include "zk/testing/embedded_server.h"

namespace zk_example {

// Where an example runs.
class Env {
 public:
  Env(std::string connect_string, std::string root)
      : connect_string_(std::move(connect_string)), root_(std::move(root)) {}
  const std::string& connect_string() const { return connect_string_; }
  // The example's own (initially missing) subtree: put every node under it.
  const std::string& root() const { return root_; }
  // Connects a new client (one per participant: a client is one process) and waits for its
  // session.
  absl::StatusOr<std::unique_ptr<zk::Client>> Connect() const {
    ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client,
                        zk::Client::Connect({.connect_string = connect_string_,
                                             .session_timeout = std::chrono::seconds(4)}));
    ZK_RETURN_IF_ERROR(client->WaitUntilConnected(std::chrono::seconds(10)));
    return client;
  }

 private:
  std::string connect_string_;
  std::string root_;
};

// Returns OK and prints "  ok: <what>" if `holds`; else the error that fails the example.
inline absl::Status Claim(bool holds, std::string_view what) {
  if (!holds) return absl::InternalError(absl::StrCat("claim does not hold: ", std::string(what)));
  std::printf("  ok: %.*s\n", static_cast<int>(what.size()), what.data());
  return absl::OkStatus();
}

// A value shared by listeners (which run on client threads) and main(). Thread-safe.
template <typename T>
class SharedState {
 public:
  // Runs `change(value)` under the lock.
  void Update(const std::function<void(T&)>& change) {
    absl::MutexLock lock(&mu_);
    change(value_);
  }
  T Get() const {
    absl::MutexLock lock(&mu_);
    return value_;
  }
  // Waits until `holds(value)`, at most `timeout`. Errors: DeadlineExceeded naming `what`.
  absl::Status WaitUntil(std::string_view what, const std::function<bool(const T&)>& holds,
                         absl::Duration timeout = absl::Seconds(15)) const {
    absl::MutexLock lock(&mu_);
    auto condition = [&] { return holds(value_); };
    if (mu_.AwaitWithTimeout(absl::Condition(&condition), timeout)) return absl::OkStatus();
    return absl::DeadlineExceededError(absl::StrCat("timed out waiting until ", std::string(what)));
  }

 private:
  mutable absl::Mutex mu_;
  T value_{};
};

// The main() of an example: parses --connect, starts the embedded server if none is given,
// runs `body` in a fresh subtree, removes the subtree, and returns the exit status.
inline int RunExample(int argc, char** argv, std::string_view name,
                      const std::function<absl::Status(const Env&)>& body) {
  std::string connect;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 10) == "--connect=") {
      connect = std::string(arg.substr(10));
    } else if (arg == "--connect" && i + 1 < argc) {
      connect = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--connect=host:port,...]\n", argv[0]);
      return 2;
    }
  }
  std::unique_ptr<zk::testing::EmbeddedServer> server;
  if (connect.empty()) {
    absl::StatusOr<std::unique_ptr<zk::testing::EmbeddedServer>> started =
        zk::testing::EmbeddedServer::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start the embedded server: %s\n",
                   started.status().ToString().c_str());
      return 1;
    }
    server = *std::move(started);
    connect = server->connect_string();
    std::printf("embedded server at %s\n", connect.c_str());
  }
  const std::string root =
      absl::StrFormat("/zkcpp-examples/%s-%08x", std::string(name), std::random_device{}());
  absl::Status status = body(Env(connect, root));
  // Clean up through a client of our own (the example's clients are closed by now).
  absl::StatusOr<std::unique_ptr<zk::Client>> admin = Env(connect, root).Connect();
  if (admin.ok()) {
    absl::Status removed = (*admin)->DeleteRecursive(root);
    if (!removed.ok()) std::fprintf(stderr, "cleanup: %s\n", removed.ToString().c_str());
    (*admin)->Delete("/zkcpp-examples").IgnoreError();  // NOTEMPTY while others run: fine
  }
  if (!status.ok()) {
    std::fprintf(stderr, "%.*s example FAILED: %s\n", static_cast<int>(name.size()), name.data(),
                 status.ToString().c_str());
    return 1;
  }
  std::printf("%.*s example: all claims hold\n", static_cast<int>(name.size()), name.data());
  return 0;
}

}  // namespace zk_example

#endif  // ZKCPP_EXAMPLES_EXAMPLE_MAIN_H_
