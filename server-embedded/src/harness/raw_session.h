// zkcpp real-server harness (internal): a minimal raw-protocol ZooKeeper session, and
// server-side session expiry.
//
// RawSession speaks just enough of the 3.8 wire protocol (protocol.md §1-4) over one blocking
// TCP connection to open or resume a session, create a node, test existence, ping and close
// the session. It has no dependency on libzookeeper or zk::Client, so it can check servers
// (real or embedded) and the fixture itself independently of the client under test. Its bytes
// come from the records of zkcpp::proto (zk/proto/), the codec the embedded server uses too.
//
// ForceExpireSession makes the *server* expire a session now, as Curator once did: it resumes
// the session on a second connection (same id and password; the server drops the session's
// other connection) and sends closeSession (-11). The server deletes the session's ephemerals
// and answers the owner's next reconnect with the "invalid session" handshake (timeout 0).
//
// Example:
//   absl::StatusOr<std::unique_ptr<RawSession>> s = RawSession::Connect("127.0.0.1:2181", {});
//   (*s)->Create("/eph", "x", RawCreateMode::kEphemeral);
//   ZK_ASSERT_OK(ForceExpireSession("127.0.0.1:2181", (*s)->session_id(), (*s)->password()));

#ifndef ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_RAW_SESSION_H_
#define ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_RAW_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "harness/net.h"

namespace zk::testing {

// How RawSession::Connect opens its session.
struct RawConnectOptions {
  // 0 opens a new session; otherwise the session to resume.
  int64_t session_id = 0;
  // The session's password (16 bytes); zeros for a new session.
  std::string password = std::string(16, '\0');
  // Requested session timeout (the server clamps it to [2, 20] ticks).
  absl::Duration session_timeout = absl::Seconds(10);
  // Highest zxid seen; a server behind it drops the connection without a reply.
  int64_t last_zxid_seen = 0;
  // Whether a read-only server may accept the session.
  bool read_only = false;
  // Deadline for each network exchange (handshake, one request and its reply).
  absl::Duration io_timeout = absl::Seconds(5);
};

// Node modes of the create request's flags field.
enum class RawCreateMode : int32_t {
  kPersistent = 0,
  kEphemeral = 1,
  kPersistentSequential = 2,
  kEphemeralSequential = 3,
};

// One session over one TCP connection, with blocking calls. Thread-compatible.
class RawSession {
 public:
  // Connects to `host_port` and performs the handshake.
  // Errors: Aborted if the server answered "invalid session" (timeout 0: expired, closed or
  // wrong password); Unavailable if it closed the connection without an answer (e.g. read-only
  // server, zxid ahead) or cannot be reached; DeadlineExceeded; Internal (malformed answer).
  static absl::StatusOr<std::unique_ptr<RawSession>> Connect(std::string_view host_port,
                                                             RawConnectOptions options = {});

  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;
  // Drops the TCP connection; the session itself lives on until it times out.
  ~RawSession() = default;

  int64_t session_id() const { return session_id_; }
  const std::string& password() const { return password_; }
  absl::Duration negotiated_timeout() const { return negotiated_timeout_; }
  bool read_only() const { return read_only_; }
  // Highest zxid seen in replies to ordinary requests.
  int64_t last_zxid() const { return last_zxid_; }

  // Creates `path` with `data`, open ACL (world:anyone, all permissions). Returns the created
  // path (differs for sequential nodes). Errors: AlreadyExists, NotFound (no parent), Aborted
  // (session expired), Unavailable (connection lost), Unknown (other error codes, named).
  absl::StatusOr<std::string> Create(std::string_view path, std::string_view data,
                                     RawCreateMode mode = RawCreateMode::kPersistent);
  // Returns whether `path` exists. Errors: as Create.
  absl::StatusOr<bool> Exists(std::string_view path);
  // Sends a ping and waits for its reply. Errors: Unavailable, DeadlineExceeded.
  absl::Status Ping();
  // Closes the session (the server deletes its ephemerals) and the connection.
  // Errors: as Create.
  absl::Status CloseSession();
  // Drops the TCP connection without closing the session (like a network failure).
  void DropConnection() { fd_.reset(); }

 private:
  RawSession(std::string host_port, ScopedFd fd, RawConnectOptions options)
      : host_port_(std::move(host_port)), fd_(std::move(fd)), options_(std::move(options)) {}

  // Sends RequestHeader{xid, type} + `body` and reads the reply for `xid`. Returns the reply
  // body after the ReplyHeader; error replies become statuses naming `what`.
  absl::StatusOr<std::string> Call(int32_t type, std::string_view body, std::string_view what);

  const std::string host_port_;
  ScopedFd fd_;
  const RawConnectOptions options_;
  int64_t session_id_ = 0;
  std::string password_;
  absl::Duration negotiated_timeout_;
  bool read_only_ = false;
  int64_t last_zxid_ = 0;
  int32_t next_xid_ = 1;
};

// Expires session `session_id` on the server at `host_port` right now (see the banner): its
// ephemerals are deleted and its owner sees expiry on its next contact. For an ensemble any
// serving member will do.
// Errors: Aborted if the server says the session is invalid (already expired/closed, or a
// wrong `password`); Unavailable / DeadlineExceeded if the server cannot be reached.
absl::Status ForceExpireSession(std::string_view host_port, int64_t session_id,
                                std::string_view password);

}  // namespace zk::testing

#endif  // ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_RAW_SESSION_H_
