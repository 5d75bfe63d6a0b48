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
  if (!global.tls_ca_file.empty() || !global.tls_cert_file.empty() ||
      !global.tls_key_file.empty()) {
    options.tls = TlsOptions{.ca_file = global.tls_ca_file,
                             .cert_file = global.tls_cert_file,
                             .key_file = global.tls_key_file};
  }
  if (!global.sasl_user.empty()) {
    options.sasl = SaslOptions{.mechanism = global.sasl_mechanism,
                               .user = global.sasl_user,
                               .password = global.sasl_password};
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(std::move(options));
  if (!client.ok()) return client.status();
  if (absl::Status s = (*client)->WaitUntilConnected(global.timeout); !s.ok()) {
    // Refused credentials (SASL): the server's answer, not a missing session.
    if (absl::IsUnauthenticated(s)) return s;
    // The reason of the last failed attempt (e.g. a TLS certificate refused), if any.
    const std::string_view message(s.message().data(), s.message().size());
    constexpr std::string_view kLastError = "; last connection error: ";
    const size_t last = message.find(kLastError);
    return absl::UnavailableError(
        absl::StrCat("connect ", global.connect, ": no session within ",
                     absl::FormatDuration(absl::FromChrono(global.timeout)),
                     last == std::string_view::npos
                         ? " (is ZooKeeper running there? see --verbose)"
                         : absl::StrCat(" (last connection error: ",
                                        AsAbsl(message.substr(last + kLastError.size())), ")")));
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
