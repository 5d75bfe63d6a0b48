// zkcpp lock <path> [--wait=D] -- <command> [<arg>...]: runs a command while holding a
// zk::recipes::Lock; exits with the command's exit code.
//
// The command runs only while the lock is held: it gets SIGTERM as soon as the lock may be
// lost (the connection is suspended or the session lost), because from then on another holder
// may exist. It gets ZKCPP_LOCK_NODE and ZKCPP_FENCING_TOKEN (see LockGuard::fencing_token) in
// its environment. SIGINT / SIGTERM while waiting give up (exit 1); while the command runs they
// are forwarded to it.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/child_command.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/holder_id.h"
#include "cli/interrupt.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "cli/session.h"
#include "zk/recipes/lock.h"

namespace zk::cli {
namespace {

// Lock::Acquire needs a finite timeout: "forever" is ten years.
constexpr std::chrono::milliseconds kForever = std::chrono::hours(24 * 365 * 10);

// The command while it runs, and whether the lock may have been lost. Thread-safe.
class GuardedCommand {
 public:
  // Ends the command (SIGTERM) if it runs; later Attach()es end theirs at once.
  void LockLost() {
    std::lock_guard<std::mutex> lock(mu_);
    lost_ = true;
    if (child_ != nullptr) child_->Signal(SIGTERM);
  }
  bool lost() {
    std::lock_guard<std::mutex> lock(mu_);
    return lost_;
  }
  // Sets the running command (nullptr once it exited).
  void Attach(ChildCommand* child) {
    std::lock_guard<std::mutex> lock(mu_);
    child_ = child;
    if (child_ != nullptr && lost_) child_->Signal(SIGTERM);
  }

 private:
  std::mutex mu_;
  // Guarded by mu_.
  ChildCommand* child_ = nullptr;
  bool lost_ = false;
};

std::string DurationText(std::chrono::milliseconds d) {
  return absl::FormatDuration(absl::FromChrono(d));
}

}  // namespace

CommandResult RunLock(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  Output reports(out.json(), stderr);  // stdout is the command's
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<recipes::Lock> lock,
                      recipes::Lock::Create(client, path, {.node_data = HolderId()}));
  GuardedCommand command;
  Subscription session = ReportSessionEvents(client, reports);
  Subscription listener = lock->AddListener([&](const recipes::LockEvent& event) {
    const std::string type(recipes::LockEventTypeName(event.type));
    const bool may_be_lost = event.type != recipes::LockEventType::kReconnected;
    reports.EmitOrNote(
        {{"event", type}, {"path", path}, {"node", event.node_path}},
        absl::StrCat("lock ", path, ": ", type,
                     may_be_lost ? " (the lock may be lost: the command is ended)" : ""));
    if (may_be_lost) command.LockLost();
  });

  std::atomic<bool> interrupted{false};
  absl::StatusOr<recipes::LockGuard> guard;
  {
    InterruptScope interrupt([&](int) {
      interrupted = true;
      lock->Cancel();
    });
    guard = lock->Acquire(invocation.options.wait.value_or(kForever));
  }
  if (interrupted) {  // also if the signal came just as the lock was acquired
    reports.Note(absl::StrCat("lock ", path, ": interrupted while waiting"));
    return kExitFailed;
  }
  if (!guard.ok()) {
    const SessionState state = client.state();
    if (absl::IsDeadlineExceeded(guard.status()) && invocation.options.wait &&
        (state == SessionState::kConnected || state == SessionState::kReconnected)) {
      reports.Note(absl::StrCat("lock ", path, ": not acquired within ",
                                DurationText(*invocation.options.wait)));
      return kExitFailed;
    }
    return guard.status();
  }
  reports.EmitOrNote({{"event", "acquired"},
                      {"path", path},
                      {"node", guard->node_path()},
                      {"fencing_token", guard->fencing_token()}},
                     absl::StrCat("holding lock ", path, " (node ", guard->node_path(),
                                  ", fencing token ", guard->fencing_token(), ")"));

  absl::StatusOr<std::unique_ptr<ChildCommand>> child = ChildCommand::Start(
      invocation.child_argv, {{"ZKCPP_LOCK_NODE", guard->node_path()},
                              {"ZKCPP_FENCING_TOKEN", absl::StrCat(guard->fencing_token())}});
  int exit_code = kExitCannotRun;
  if (!child.ok()) {
    reports.Error(child.status());
  } else {
    command.Attach(child->get());
    InterruptScope forward([&](int signal) { (*child)->Signal(signal); });
    exit_code = (*child)->Wait();
    command.Attach(nullptr);
  }
  listener.Cancel();
  if (command.lost()) {
    // Releasing would wait for a server that may not answer; the guard's destructor releases
    // in the background, and the node goes with the session at the latest.
    return exit_code;
  }
  if (absl::Status released = guard->Release(); !released.ok()) {
    // The node goes with the session at the latest, when zkcpp exits.
    reports.Error(released);
  } else {
    reports.EmitOrNote({{"event", "released"}, {"path", path}},
                       absl::StrCat("released lock ", path));
  }
  return exit_code;
}

}  // namespace zk::cli
