// zkcpp watch <path> [--recursive] [--count=N]: prints the events of a persistent watch
// (zk::Client::AddPersistentWatch) until interrupted or N events were printed.

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/event_stream.h"
#include "cli/format.h"
#include "cli/interrupt.h"
#include "cli/invocation.h"
#include "cli/output.h"
#include "cli/session.h"

namespace zk::cli {

CommandResult RunWatch(const Invocation& invocation, Client& client, Output& out) {
  const std::string& path = invocation.args[0];
  EventStream stream(out, invocation.options.count);
  Subscription session = ReportSessionEvents(client, out);
  ZK_ASSIGN_OR_RETURN(
      Watch watch,
      client.AddPersistentWatch(path, {.recursive = invocation.options.recursive},
                                [&](const WatchEvent& event) {
                                  if (event.type != WatchEventType::kNotWatching) {
                                    stream.Emit(WatchEventJson(event), WatchEventText(event));
                                  } else if (event.reason.ok()) {
                                    stream.Fail(absl::CancelledError(absl::StrCat(
                                        "watch ", event.path, ": the watch was removed")));
                                  } else {
                                    stream.Fail(event.reason);
                                  }
                                }));
  InterruptScope interrupt([&](int) { stream.Stop(); });
  // The watch is armed now: a change made from here on is reported.
  out.Note(absl::StrCat("watching ", path, invocation.options.recursive ? " (recursive)" : ""));
  const absl::Status ended = stream.Wait();
  watch.Cancel();  // the callback is not running and will not run any more
  if (!ended.ok()) return ended;
  return 0;
}

}  // namespace zk::cli
