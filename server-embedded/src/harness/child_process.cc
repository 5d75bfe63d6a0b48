#include "harness/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <functional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace zk::testing {
namespace {

// Runs closures on one thread that lives as long as the process (see the header for why).
// Thread-safe. Uses std::mutex rather than absl::Mutex on purpose: Debian's Abseil is not
// built with ThreadSanitizer, so TSan cannot see absl::Mutex's hand-offs between threads and
// would report false races here; libstdc++'s pthread-based primitives are intercepted.
class SpawnerThread {
 public:
  static SpawnerThread& Get() {
    // Leaked on purpose: the thread must outlive every static destructor that might still
    // own a child, and it dies with the process (which is when PDEATHSIG should fire).
    static SpawnerThread* const instance = new SpawnerThread();
    return *instance;
  }

  // Runs `task` on the spawner thread and waits for it.
  void Run(std::function<void()> task) {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t ticket = ++submitted_;
    queue_.push_back(std::move(task));
    wake_.notify_all();
    wake_.wait(lock, [&] { return completed_ >= ticket; });
  }

 private:
  SpawnerThread() {
    std::thread([this] { Loop(); }).detach();
  }

  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return !queue_.empty(); });
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      ++completed_;  // Tasks run in submission order, so tickets complete in order.
      wake_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // Guarded by mutex_.
  uint64_t submitted_ = 0;                   // Guarded by mutex_.
  uint64_t completed_ = 0;                   // Guarded by mutex_.
};

// The child half of Spawn, between fork and exec: only async-signal-safe calls.
[[noreturn]] void RunChild(const char* path, char* const* argv, const ChildProcess::Stdio& stdio,
                           pid_t parent) {
  // Die with the spawner thread (i.e. with the test process).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before prctl took effect.
  if (::getppid() != parent) ::_exit(127);
  // Undo signal state inherited from the test binary (gtest or sanitizers may block signals).
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  if (::dup2(stdio.in, STDIN_FILENO) < 0 || ::dup2(stdio.out, STDOUT_FILENO) < 0 ||
      ::dup2(stdio.err, STDERR_FILENO) < 0) {
    ::_exit(126);
  }
  // Keep the test's sockets (e.g. an embedded server's listener) and pipes out of the child.
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  ::execv(path, argv);
  static constexpr char kExecFailed[] = "zkcpp test support: execv failed\n";
  ssize_t ignored = ::write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
  (void)ignored;
  ::_exit(127);
}

// Resolves `name` like execvp would, but before fork (execvp is not async-signal-safe).
absl::StatusOr<std::string> ResolveExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path_env = ::getenv("PATH");
  const std::string path_list = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(path_list, ':')) {
    if (dir.empty()) continue;
    std::string candidate = absl::StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("spawn ", name, ": not found on PATH ", path_list));
}

}  // namespace

absl::StatusOr<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                                 const std::string& log_path) {
  if (argv.empty()) return absl::InvalidArgumentError("spawn: empty argv");
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("spawn ", argv[0], ": open log ", log_path, ": ", std::strerror(errno)));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    return absl::InternalError(
        absl::StrCat("spawn ", argv[0], ": open /dev/null: ", std::strerror(errno)));
  }
  absl::StatusOr<ChildProcess> child = Spawn(argv, Stdio{.in = null_fd, .out = log_fd, .err = log_fd});
  ::close(log_fd);
  ::close(null_fd);
  return child;
}

absl::StatusOr<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                                 const Stdio& stdio) {
  if (argv.empty()) return absl::InvalidArgumentError("spawn: empty argv");
  absl::StatusOr<std::string> resolved = ResolveExecutable(argv[0]);
  if (!resolved.ok()) return resolved.status();
  const std::string& path = *resolved;
  // Everything the child needs is prepared before fork (no allocation after it).
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);

  pid_t pid = -1;
  int fork_errno = 0;
  SpawnerThread::Get().Run([&] {
    const pid_t parent = ::getpid();
    pid = ::fork();
    if (pid == 0) RunChild(path.c_str(), c_argv.data(), stdio, parent);
    if (pid < 0) fork_errno = errno;
  });
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("spawn ", absl::StrJoin(argv, " "),
                                            ": fork: ", std::strerror(fork_errno)));
  }
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    KillAndReap();
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

ChildProcess::~ChildProcess() { KillAndReap(); }

absl::Status ChildProcess::Signal(int signal) {
  if (!running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("signal ", signal, ": process not running"));
  }
  if (::kill(pid_, signal) != 0) {
    return absl::InternalError(
        absl::StrCat("signal ", signal, " to pid ", pid_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status ChildProcess::Stop() {
  if (absl::Status s = Signal(SIGSTOP); !s.ok()) return s;
  for (;;) {
    int status = 0;
    const pid_t rc = ::waitpid(pid_, &status, WUNTRACED);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == pid_ && WIFSTOPPED(status)) return absl::OkStatus();
    if (rc == pid_) {
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("stop: the process ended: ", DescribeWaitStatus(status)));
    }
    return absl::InternalError(absl::StrCat("stop: waitpid: ", std::strerror(errno)));
  }
}

std::optional<int> ChildProcess::TryReap() {
  if (!running()) return std::nullopt;
  int status = 0;
  const pid_t rc = ::waitpid(pid_, &status, WNOHANG);
  if (rc == pid_) {
    pid_ = -1;
    return status;
  }
  if (rc < 0 && errno == ECHILD) {  // Reaped elsewhere: treat as gone.
    pid_ = -1;
    return 0;
  }
  return std::nullopt;
}

absl::StatusOr<int> ChildProcess::WaitForExit(absl::Time deadline) {
  if (!running()) return absl::FailedPreconditionError("wait: process not running");
  const pid_t pid = pid_;
  for (;;) {
    if (std::optional<int> status = TryReap()) return *status;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("wait: pid ", pid, " still running at the deadline"));
    }
    // waitpid has no timeout; a short poll keeps exit detection prompt.
    absl::SleepFor(absl::Milliseconds(5));
  }
}

void ChildProcess::KillAndReap() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exited with code ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return absl::StrCat("killed by signal ", WTERMSIG(wait_status));
  return absl::StrCat("wait status ", wait_status);
}

}  // namespace zk::testing
