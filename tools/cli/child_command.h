// zkcpp CLI — the command that lock and elect run (given after "--").
//
// The child inherits stdin, stdout, stderr and the environment (plus the variables the caller
// adds); no other descriptor (in particular not the ZooKeeper connection), and none of the
// CLI's blocked signals.

#ifndef ZKCPP_TOOLS_CLI_CHILD_COMMAND_H_
#define ZKCPP_TOOLS_CLI_CHILD_COMMAND_H_

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace zk::cli {

// One running child command. Thread-safe: Signal may be called from any thread, also while
// another thread is in Wait.
class ChildCommand {
 public:
  using Environment = std::vector<std::pair<std::string, std::string>>;

  // Starts `argv` (argv[0] is looked up on PATH) with `extra_env` added to the environment.
  // Errors: NotFound, PermissionDenied or Internal, as "run <argv[0]>: <reason>".
  static absl::StatusOr<std::unique_ptr<ChildCommand>> Start(const std::vector<std::string>& argv,
                                                             const Environment& extra_env);
  ChildCommand(const ChildCommand&) = delete;
  ChildCommand& operator=(const ChildCommand&) = delete;
  // Waits for the child if Wait was not called (never leaves a zombie behind).
  ~ChildCommand();

  // Sends `signal` to the child, unless it has already exited.
  void Signal(int signal);
  // Waits until the child exits; returns its exit code, or 128+N if signal N killed it.
  // Call once.
  int Wait();

 private:
  explicit ChildCommand(pid_t pid) : pid_(pid) {}

  const pid_t pid_;
  std::mutex mu_;
  bool exited_ = false;  // guarded by mu_; the pid may be reused from then on
  bool reaped_ = false;                       // only Wait's thread
};

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_CHILD_COMMAND_H_
