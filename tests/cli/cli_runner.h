// zkcpp CLI tests: runs the zkcpp binary (tools/cli) as a child process and collects its exit
// code, stdout and stderr separately.
//
//   zk::cli_test::CliResult r = zk::cli_test::RunCli({"--connect=" + hosts, "get", "/a"});
//   EXPECT_EQ(r.exit_code, 0);
//
//   auto watch = zk::cli_test::CliProcess::Start({"--connect=" + hosts, "watch", "/a"});
//   ASSERT_TRUE(watch->WaitForStderr("watching /a", absl::Seconds(20)));
//   ... change /a ...
//   zk::cli_test::CliResult r = watch->Finish(absl::Seconds(20));
//
// The child is a zk::testing::ChildProcess: it dies with the test process, so a failed test
// leaks nothing.
// Nothing here sleeps: output is read with poll() up to a deadline.

#ifndef ZKCPP_TESTS_CLI_CLI_RUNNER_H_
#define ZKCPP_TESTS_CLI_CLI_RUNNER_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "harness/child_process.h"

namespace zk::cli_test {

// The path of the zkcpp binary under test.
std::string CliPath();

struct CliResult {
  // The exit code; 128+N if signal N killed it; -1 if it had to be killed at the deadline.
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A running zkcpp process. Move-only through its unique_ptr; thread-compatible. The destructor
// kills (SIGKILL) and reaps a process still running.
class CliProcess {
 public:
  // Starts zkcpp with `args` (not including argv[0]); `input` is its whole standard input.
  // Errors: Internal (pipe / fork failed).
  static absl::StatusOr<std::unique_ptr<CliProcess>> Start(const std::vector<std::string>& args,
                                                           std::string_view input = "");
  ~CliProcess();
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  // Reads output until stderr contains `text` (true), or the process closed its output or
  // `timeout` passed (false).
  bool WaitForStderr(std::string_view text, absl::Duration timeout);
  // Sends `signal` to the process.
  void Signal(int signal);
  // Reads the rest of the output and waits for the exit, at most `timeout` in all; past it,
  // kills the process and returns exit_code -1.
  CliResult Finish(absl::Duration timeout);

 private:
  CliProcess(zk::testing::ChildProcess child, int out_fd, int err_fd)
      : child_(std::move(child)), out_fd_(out_fd), err_fd_(err_fd) {}
  // Reads what is available until `done()` or both streams are closed or `deadline` passes.
  template <typename Done>
  void Pump(absl::Time deadline, Done done);

  zk::testing::ChildProcess child_;  // killed and reaped on destruction
  int out_fd_;
  int err_fd_;
  std::string out_;
  std::string err_;
};

// Runs zkcpp with `args` to completion (at most `timeout`).
CliResult RunCli(const std::vector<std::string>& args, std::string_view input = "",
                 absl::Duration timeout = absl::Seconds(60));

}  // namespace zk::cli_test

#endif  // ZKCPP_TESTS_CLI_CLI_RUNNER_H_
