// zkcpp watch <path> [--recursive] [--count=N]: prints the events of a persistent watch
// (zk::Client::AddPersistentWatch) until interrupted or N events were printed.

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/interrupt.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "cli/session.h"
#include "zk/internal/sync.h"

namespace zk::cli {
namespace {

// What the watch callback and the signal thread tell the main thread. Thread-safe.
class WatchProgress {
 public:
  explicit WatchProgress(int64_t count) : count_(count) {}

  // Prints `event` unless done; done after `count` events or a terminal one.
  void OnEvent(const WatchEvent& event, Output& out) {
    zk::internal::MutexLock lock(&mu_);
    if (done_) return;
    if (event.type == WatchEventType::kNotWatching) {
      failure_ =
          event.reason.ok()
              ? absl::CancelledError(absl::StrCat("watch ", event.path, ": the watch was removed"))
              : event.reason;
      done_ = true;
      return;
    }
    out.Emit(WatchEventJson(event), WatchEventText(event));
    ++seen_;
    done_ = count_ > 0 && seen_ >= count_;
  }
  void Stop() {
    zk::internal::MutexLock lock(&mu_);
    done_ = true;
  }
  // Waits until done; returns why it ended (OK: count reached or interrupted).
  absl::Status Wait() {
    zk::internal::MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return done_; });
    return failure_;
  }

 private:
  const int64_t count_;
  zk::internal::Mutex mu_;
  int64_t seen_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

CommandResult RunWatch(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  WatchProgress progress(invocation.options.count);
  Subscription session = ReportSessionEvents(client, out);
  ZK_ASSIGN_OR_RETURN(
      Watch watch,
      client.AddPersistentWatch(path, {.recursive = invocation.options.recursive},
                                [&](const WatchEvent& event) { progress.OnEvent(event, out); }));
  InterruptScope interrupt([&](int) { progress.Stop(); });
  // The watch is armed now: a change made from here on is reported.
  out.Note(absl::StrCat("watching ", path, invocation.options.recursive ? " (recursive)" : ""));
  const absl::Status ended = progress.Wait();
  watch.Cancel();  // the callback is not running and will not run any more
  if (!ended.ok()) return ended;
  return 0;
}

}  // namespace zk::cli
