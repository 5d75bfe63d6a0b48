#include "cli_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "testing/wait_for.h"

namespace zk::cli_test {
namespace {

// The child half, between fork and exec: async-signal-safe calls only.
[[noreturn]] void RunChild(const char* path, char* const* argv, int in_fd, int out_fd, int err_fd,
                           pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  if (::dup2(in_fd, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 ||
      ::dup2(err_fd, STDERR_FILENO) < 0) {
    ::_exit(126);
  }
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  ::execv(path, argv);
  ::_exit(127);
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

std::string CliPath() { return ZKCPP_CLI_PATH; }

absl::StatusOr<std::unique_ptr<CliProcess>> CliProcess::Start(const std::vector<std::string>& args,
                                                              std::string_view input) {
  const std::string path = CliPath();
  std::vector<std::string> argv_strings = {path};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) RunChild(path.c_str(), argv.data(), in[0], out[1], err[1], parent);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  // The inputs of these tests are small: they fit in the pipe's buffer.
  const ssize_t written = input.empty() ? 0 : ::write(in[1], input.data(), input.size());
  ::close(in[1]);
  std::unique_ptr<CliProcess> process(new CliProcess(pid, out[0], err[0]));
  if (written != static_cast<ssize_t>(input.size())) {
    return absl::InternalError("writing the child's stdin failed");
  }
  return process;
}

CliProcess::~CliProcess() {
  KillAndReap();
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

void CliProcess::Signal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

CliResult CliProcess::Finish(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Pump(deadline, [] { return false; });
  CliResult result;
  int wait_status = 0;
  const bool exited = zk::testing::WaitFor(
      [&] { return pid_ <= 0 || ::waitpid(pid_, &wait_status, WNOHANG) == pid_; },
      std::max(deadline - absl::Now(), absl::ZeroDuration()));
  if (exited && pid_ > 0) {
    result.exit_code = ExitCodeOf(wait_status);
    pid_ = -1;
  } else {
    KillAndReap();
  }
  result.out = out_;
  result.err = err_;
  return result;
}

void CliProcess::KillAndReap() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int wait_status = 0;
  while (::waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

CliResult RunCli(const std::vector<std::string>& args, std::string_view input,
                 absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<CliProcess>> process = CliProcess::Start(args, input);
  if (!process.ok())
    return CliResult{.exit_code = -1, .err = std::string(process.status().message())};
  return (*process)->Finish(timeout);
}

}  // namespace zk::cli_test
