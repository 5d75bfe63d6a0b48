// zkcpp elect <path> [--id=ID] [--count=N | [--wait=D] -- <command> [<arg>...]]: takes part in
// a zk::recipes::LeaderElection.
//
// Without a command it prints every change of leadership until interrupted (or N changes).
// With one, it waits until elected, runs the command, and exits with its exit code; the
// command gets ZKCPP_LEADER_EPOCH in its environment, and SIGTERM as soon as leadership is lost
// (the recipe gives it up the moment the connection is suspended). Leaving: the destructor of
// the election deletes our node, so the next participant leads at once.

#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

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
#include "zk/recipes/leader_election.h"

namespace zk::cli {
namespace {

// Leadership as the listener saw it, the command that runs while leading, and why the main
// thread should stop waiting. Thread-safe.
class Leadership {
 public:
  explicit Leadership(int64_t count) : count_(count) {}

  void OnEvent(const recipes::LeadershipEvent& event) {
    std::lock_guard<std::mutex> lock(mu_);
    leader_ = event.is_leader;
    epoch_ = event.epoch;
    ++events_;
    if (!leader_ && child_ != nullptr) child_->Signal(SIGTERM);
    changed_.notify_all();
  }
  void Interrupt() {
    std::lock_guard<std::mutex> lock(mu_);
    interrupted_ = true;
    changed_.notify_all();
  }
  // Waits until leading (returns its epoch), interrupted or `timeout` passed (nullopt).
  std::optional<int64_t> AwaitLeadership(std::optional<std::chrono::milliseconds> timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    auto ready = [this] { return leader_ || interrupted_; };
    if (timeout) {
      changed_.wait_for(lock, *timeout, ready);
    } else {
      changed_.wait(lock, ready);
    }
    if (!leader_ || interrupted_) return std::nullopt;
    return epoch_;
  }
  // Waits until interrupted or `count` events were seen (count 0: until interrupted).
  void AwaitEnd() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return interrupted_ || (count_ > 0 && events_ >= count_); });
  }
  bool interrupted() {
    std::lock_guard<std::mutex> lock(mu_);
    return interrupted_;
  }
  // Sets the running command (nullptr once it exited); ends it at once if leadership is gone.
  void Attach(ChildCommand* child) {
    std::lock_guard<std::mutex> lock(mu_);
    child_ = child;
    if (child_ != nullptr && !leader_) child_->Signal(SIGTERM);
  }

 private:
  const int64_t count_;
  std::mutex mu_;
  std::condition_variable changed_;  // notified when leader_, events_ or interrupted_ change
  // Guarded by mu_.
  bool leader_ = false;
  int64_t epoch_ = 0;
  int64_t events_ = 0;
  bool interrupted_ = false;
  ChildCommand* child_ = nullptr;
};

}  // namespace

CommandResult RunElect(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  const bool has_command = !invocation.child_argv.empty();
  if (has_command && invocation.options.count > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("elect ", path, ": --count applies only without a command"));
  }
  if (!has_command && invocation.options.wait) {
    return absl::InvalidArgumentError(
        absl::StrCat("elect ", path, ": --wait applies only with a command"));
  }
  const std::string id = invocation.options.id.empty() ? HolderId() : invocation.options.id;
  Output stderr_reports(out.json(), stderr);  // with a command, stdout is the command's
  Output& reports = has_command ? stderr_reports : out;

  Leadership leadership(invocation.options.count);
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<recipes::LeaderElection> election,
                      recipes::LeaderElection::Create(client, path, {.participant_id = id}));
  Subscription session = ReportSessionEvents(client, stderr_reports);
  Subscription listener = election->AddListener([&](const recipes::LeadershipEvent& event) {
    const char* state = event.is_leader ? "leader" : "not-leader";
    std::string text = absl::StrCat(state, " ", path, " ", id);
    if (event.is_leader) absl::StrAppend(&text, " epoch=", event.epoch);
    const std::string reason(recipes::LeadershipReasonName(event.reason));
    absl::StrAppend(&text, " (", reason, ")");
    const Json object = {{"event", state},
                         {"path", path},
                         {"id", id},
                         {"epoch", event.epoch},
                         {"reason", reason}};
    if (has_command) {
      reports.EmitOrNote(object, text);
    } else {
      reports.Emit(object, text);
    }
    leadership.OnEvent(event);
  });
  InterruptScope interrupt([&](int) { leadership.Interrupt(); });
  ZK_RETURN_IF_ERROR(election->Start());
  stderr_reports.Note(absl::StrCat("joined election ", path, " as ", id));

  if (!has_command) {
    leadership.AwaitEnd();
    return 0;
  }
  const std::optional<int64_t> epoch = leadership.AwaitLeadership(invocation.options.wait);
  if (!epoch) {
    if (leadership.interrupted()) {
      reports.Note(absl::StrCat("elect ", path, ": interrupted before being elected"));
    } else {
      reports.Note(absl::StrCat("elect ", path, ": not elected within ",
                                absl::FormatDuration(absl::FromChrono(*invocation.options.wait))));
    }
    return kExitFailed;
  }
  absl::StatusOr<std::unique_ptr<ChildCommand>> child =
      ChildCommand::Start(invocation.child_argv, {{"ZKCPP_LEADER_EPOCH", absl::StrCat(*epoch)}});
  if (!child.ok()) {
    reports.Error(child.status());
    return kExitCannotRun;
  }
  leadership.Attach(child->get());
  int exit_code = 0;
  {
    InterruptScope forward([&](int signal) { (*child)->Signal(signal); });
    exit_code = (*child)->Wait();
  }
  leadership.Attach(nullptr);
  return exit_code;
}

}  // namespace zk::cli
