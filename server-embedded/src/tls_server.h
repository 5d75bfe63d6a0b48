// Server-side TLS of the embedded server (EmbeddedServerOptions::tls), with OpenSSL 3 when the
// build found it (ZKCPP_SERVER_TLS), else a stub whose Create() refuses.
//   - ServerTlsContext: the SSL_CTX of one server, built once by Start() from EmbeddedServerTls.
//   - ServerTlsConnection: one accepted TLS connection over memory buffers. The loop reads the
//     socket itself and hands the bytes in; what TLS wants sent comes back as bytes the loop
//     queues like plaintext output. So the socket I/O (non-blocking reads, MSG_NOSIGNAL sends,
//     EPOLLOUT) stays the loop's, and a handshake never blocks it: it only advances when bytes
//     arrive.
// The client's TLS (client/src/tls_session.cc) drives OpenSSL over the socket itself with a
// socket BIO; the two share no code (server-embedded does not depend on client/).

#ifndef ZK_SERVER_EMBEDDED_SRC_TLS_SERVER_H_
#define ZK_SERVER_EMBEDDED_SRC_TLS_SERVER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "zk/testing/embedded_server.h"

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace zk::testing::internal {

// An SSL_CTX configured from EmbeddedServerTls; immutable after Create. Loop thread only.
class ServerTlsContext {
 public:
  // Errors: InvalidArgument naming the option, its file and the problem; FailedPrecondition if
  // this build has no OpenSSL.
  static absl::StatusOr<std::unique_ptr<ServerTlsContext>> Create(const EmbeddedServerTls& tls);
  ~ServerTlsContext();
  ServerTlsContext(const ServerTlsContext&) = delete;
  ServerTlsContext& operator=(const ServerTlsContext&) = delete;

  ssl_ctx_st* get() const { return ctx_; }

 private:
  explicit ServerTlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* const ctx_;
};

// The server's end of one TLS connection. Not thread-safe: the loop thread uses it.
class ServerTlsConnection {
 public:
  explicit ServerTlsConnection(const ServerTlsContext& context);
  ~ServerTlsConnection();
  ServerTlsConnection(const ServerTlsConnection&) = delete;
  ServerTlsConnection& operator=(const ServerTlsConnection&) = delete;

  // Takes bytes read from the socket: advances the handshake, appends the application bytes
  // they carry to *plain and the TLS records to send back (handshake, alerts) to *records.
  // Returns false once the connection has failed (error() says why; *records may hold an
  // alert worth sending before closing) or the peer sent close_notify (peer_closed()).
  bool Receive(std::string_view bytes, std::string* plain, std::string* records);
  // Encrypts application bytes into *records; before the handshake is done they wait and go
  // out with the records of the Receive() that finishes it. Returns false on failure.
  bool Send(std::string_view plain, std::string* records);

  // Appends a close_notify to *records if the connection is established and healthy.
  void Shutdown(std::string* records);

  bool established() const { return established_; }
  bool peer_closed() const { return peer_closed_; }
  const std::string& error() const { return error_; }

 private:
  // Moves what OpenSSL wrote into the outgoing BIO to *records.
  void TakeRecords(std::string* records);
  // Records why the last SSL_* call with result `rc` failed; false. True for "want read".
  bool Failed(int rc, const char* what);

  ssl_st* ssl_ = nullptr;
  bio_st* out_ = nullptr;  // owned by ssl_
  bio_st* in_ = nullptr;   // owned by ssl_
  bool established_ = false;
  bool peer_closed_ = false;
  bool failed_ = false;
  std::string waiting_;  // application bytes sent before the handshake finished
  std::string error_;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_TLS_SERVER_H_
