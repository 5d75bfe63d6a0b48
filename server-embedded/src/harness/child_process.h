// zkcpp real-server harness (internal): a child process that can never outlive the test
// binary.
//
// The real-ZooKeeper fixture runs `java` as a child. A crashed or killed test binary must not
// leak a JVM that holds ports and memory, so each child asks the kernel for SIGKILL when its
// parent dies (prctl(PR_SET_PDEATHSIG)). The kernel delivers that signal when the *thread* that
// forked exits, not the process, so all children are forked by one process-lifetime "spawner"
// thread: a server restarted from a short-lived test thread survives that thread.
//
// Example:
//   absl::StatusOr<ChildProcess> java = ChildProcess::Spawn({"/usr/bin/java", "-version"},
//                                                            "/tmp/dir/out.log");
//   java->Signal(SIGTERM);
//   java->WaitForExit(absl::Now() + absl::Seconds(5));

#ifndef ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_CHILD_PROCESS_H_
#define ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace zk::testing {

// One spawned child process. Move-only; the destructor SIGKILLs and reaps a child still running.
// Thread-compatible: callers serialize calls on one object (the owners hold a mutex).
class ChildProcess {
 public:
  // Starts `argv` (argv[0] is a path or a name looked up on PATH) with stdout and stderr
  // appended to `log_path`, stdin from /dev/null, no inherited descriptors besides 0-2, and
  // SIGKILL on the death of the test process.
  // Errors: InvalidArgument (empty argv), NotFound (not on PATH), Internal (open/fork failed).
  static absl::StatusOr<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                            const std::string& log_path);

  // The descriptors a child gets as its stdin, stdout and stderr. The caller keeps (and
  // closes) its own; they should be O_CLOEXEC, so that only these copies reach the child.
  struct Stdio {
    int in;
    int out;
    int err;
  };
  // As above, with stdin, stdout and stderr from `stdio` (e.g. pipes the caller reads).
  // Errors: InvalidArgument (empty argv), NotFound (not on PATH), Internal (fork failed).
  static absl::StatusOr<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                            const Stdio& stdio);

  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // True between Spawn and the moment an exit was reaped.
  bool running() const { return pid_ > 0; }

  // Sends `signal` to the child. Errors: FailedPrecondition (not running), Internal.
  absl::Status Signal(int signal);

  // Stops the child (SIGSTOP) and returns once all of its threads have stopped. kill() returns
  // while a multi-threaded child (a JVM) may still run on another CPU for a moment; the kernel
  // reports the completed group stop to waitpid(WUNTRACED).
  // Errors: FailedPrecondition (not running, or it ended instead), Internal.
  absl::Status Stop();

  // Reaps the child if it has exited; returns its wait status then, std::nullopt if it still
  // runs (or was never started).
  std::optional<int> TryReap();

  // Waits until the child exits (polling waitpid every few milliseconds) or `deadline` passes.
  // Errors: DeadlineExceeded (still running), FailedPrecondition (not running).
  absl::StatusOr<int> WaitForExit(absl::Time deadline);

  // SIGKILLs (also a stopped child) and reaps. A no-op when not running.
  void KillAndReap();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

  pid_t pid_ = -1;
};

// Describes a wait status ("exited with code 1", "killed by signal 9").
std::string DescribeWaitStatus(int wait_status);

}  // namespace zk::testing

#endif  // ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_CHILD_PROCESS_H_
