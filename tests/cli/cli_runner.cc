#include "cli_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace zk::cli_test {
namespace {

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

std::string CliPath() { return ZKCPP_CLI_PATH; }

absl::StatusOr<std::unique_ptr<CliProcess>> CliProcess::Start(const std::vector<std::string>& args,
                                                              std::string_view input) {
  std::vector<std::string> argv = {CliPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  absl::StatusOr<zk::testing::ChildProcess> child =
      zk::testing::ChildProcess::Spawn(argv, {.in = in[0], .out = out[1], .err = err[1]});
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!child.ok()) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return child.status();
  }
  // The inputs of these tests are small: they fit in the pipe's buffer.
  const ssize_t written = input.empty() ? 0 : ::write(in[1], input.data(), input.size());
  ::close(in[1]);
  std::unique_ptr<CliProcess> process(new CliProcess(*std::move(child), out[0], err[0]));
  if (written != static_cast<ssize_t>(input.size())) {
    return absl::InternalError("writing the child's stdin failed");
  }
  return process;
}

CliProcess::~CliProcess() {
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

template <typename Done>
void CliProcess::Pump(absl::Time deadline, Done done) {
  while (!done() && (out_fd_ >= 0 || err_fd_ >= 0)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return;
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) return;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      int& fd = i == 0 ? out_fd_ : err_fd_;
      if (n > 0) {
        (i == 0 ? out_ : err_).append(buffer, n);
      } else if (n == 0 || errno != EINTR) {
        ::close(fd);
        fd = -1;
      }
    }
  }
}

bool CliProcess::WaitForStderr(std::string_view text, absl::Duration timeout) {
  Pump(absl::Now() + timeout, [&] { return err_.find(text) != std::string::npos; });
  return err_.find(text) != std::string::npos;
}

void CliProcess::Signal(int signal) { child_.Signal(signal).IgnoreError(); }

CliResult CliProcess::Finish(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Pump(deadline, [] { return false; });
  CliResult result;
  absl::StatusOr<int> wait_status = child_.WaitForExit(deadline);
  if (wait_status.ok()) {
    result.exit_code = ExitCodeOf(*wait_status);
  } else {
    child_.KillAndReap();
  }
  result.out = out_;
  result.err = err_;
  return result;
}

CliResult RunCli(const std::vector<std::string>& args, std::string_view input,
                 absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<CliProcess>> process = CliProcess::Start(args, input);
  if (!process.ok())
    return CliResult{.exit_code = -1, .err = std::string(process.status().message())};
  return (*process)->Finish(timeout);
}

}  // namespace zk::cli_test
