// SASL for the native transport (ClientOptions::sasl), with Cyrus SASL (libsasl2):
//   - ValidateSaslOptions: the checks Client::Connect makes before any I/O;
//   - SaslSession: the client side of one exchange on one connection: the first token, then
//     one answer per server token, until Cyrus says the authentication is complete.
// The library is initialized once per process (sasl_client_init, with mutexes), on first use,
// from whichever thread gets there first. Only sasl_session.cc includes <sasl/sasl.h>.
//
// The transport carries the tokens (opcode 102 packets); this file knows nothing of sockets.

#ifndef ZK_CLIENT_SRC_SASL_SESSION_H_
#define ZK_CLIENT_SRC_SASL_SESSION_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/types.h"

// Cyrus' connection type, declared here so that its header stays in sasl_session.cc.
struct sasl_conn;

namespace zk::internal {

// Checks `options` as Client::Connect does. Errors: InvalidArgument naming the field ("connect:
// sasl.user is empty ..."), or the mechanism Cyrus has no plugin for; Internal if Cyrus cannot
// be initialized. Thread-safe.
absl::Status ValidateSaslOptions(const SaslOptions& options);

// The server name an exchange uses (SaslOptions::host, or its default for the mechanism) when
// connected to `connected_host`.
std::string SaslServerName(const SaslOptions& options, std::string_view connected_host);

// One SASL exchange. Not thread-safe: the loop thread uses it. Lifetime: one connection.
class SaslSession {
 public:
  // What the transport does after a step.
  struct Step {
    bool send = false;     // send `token` to the server (in an opcode-102 packet)
    std::string token;     // possibly empty, even when sent
    bool complete = false;  // Cyrus is done: after the server's answer to `token` (if sent),
                            // the connection is authenticated
  };

  // Starts an exchange with the server named by SaslServerName(options, connected_host); calls
  // the password callback. The first Step is always sent (an empty token when the mechanism has
  // no initial response, as for DIGEST-MD5). Errors: Unauthenticated with Cyrus' reason.
  static absl::StatusOr<std::unique_ptr<SaslSession>> Start(const SaslOptions& options,
                                                            std::string_view connected_host,
                                                            Step* first);
  ~SaslSession();
  SaslSession(const SaslSession&) = delete;
  SaslSession& operator=(const SaslSession&) = delete;

  // What Cyrus' callbacks answer (user, password, realm), alive as long as the session; defined
  // in sasl_session.cc, where the callbacks read it.
  struct Context;

  // Evaluates the server's answer `challenge` to the last token. Errors: Unauthenticated with
  // Cyrus' reason (a server that proves nothing, a malformed challenge, ...).
  absl::StatusOr<Step> Answer(std::string_view challenge);
  // True once Cyrus completed the exchange.
  bool complete() const { return complete_; }
  const std::string& user() const { return user_; }

 private:
  explicit SaslSession(std::unique_ptr<Context> context);
  // "<what>: <Cyrus' detail>" for result `rc`.
  std::string CyrusError(std::string_view what, int rc) const;
  // The Step after a Cyrus call returned `rc` with `out`.
  absl::StatusOr<Step> Next(std::string_view what, int rc, const char* out, unsigned out_size);

  std::unique_ptr<Context> context_;
  std::string user_;
  sasl_conn* conn_ = nullptr;
  bool complete_ = false;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_SASL_SESSION_H_
