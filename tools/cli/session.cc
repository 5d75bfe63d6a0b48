#include "cli/session.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace zk::cli {
namespace {

absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> ConnectClient(const GlobalOptions& global,
                                                      std::optional<EngineKind> engine) {
  ClientOptions options;
  options.engine = engine;
  options.connect_string = global.connect;
  options.session_timeout = global.session_timeout;
  options.operation_timeout = global.timeout;
  if (global.verbose) {
    options.log_level = LogLevel::kInfo;
  } else {
    options.log_sink = [](LogLevel, std::string_view) {};
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(std::move(options));
  if (!client.ok()) return client.status();
  if (absl::Status s = (*client)->WaitUntilConnected(global.timeout); !s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("connect ", global.connect, ": no session within ",
                     absl::FormatDuration(absl::FromChrono(global.timeout)),
                     " (is ZooKeeper running there? see --verbose)"));
  }
  return client;
}

Subscription ReportSessionEvents(Client& client, Output& out) {
  return client.SubscribeSessionEvents([&out](const SessionEvent& event) {
    if (event.state == SessionState::kConnected) return;  // the session we started with
    std::string message = absl::StrCat("session ", AsAbsl(SessionStateName(event.state)));
    if (event.new_session) absl::StrAppend(&message, " (a new session: ephemeral nodes are gone)");
    out.Note(message);
  });
}

}  // namespace zk::cli
