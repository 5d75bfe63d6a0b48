// TLS for the native transport (ClientOptions::tls), with OpenSSL 3:
//   - TlsContext: the SSL_CTX of one client, built once by Client::Connect from TlsOptions
//     (trust store, client certificate and key, lowest version); bad options fail there.
//   - TlsSession: one TLS connection over a connected non-blocking socket: the handshake, then
//     reads and writes that report "would block" as errno EAGAIN, as read()/send() do, so that
//     the transport's loop treats both byte streams alike.
// The socket is written with send(MSG_NOSIGNAL), never write(): a peer that is gone must not
// raise SIGPIPE in the user's process.

#ifndef ZK_CLIENT_SRC_TLS_SESSION_H_
#define ZK_CLIENT_SRC_TLS_SESSION_H_

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "zk/types.h"

// OpenSSL's types, declared here so that its headers stay in tls_session.cc.
struct ssl_ctx_st;
struct ssl_st;

namespace zk::internal {

// An SSL_CTX configured from TlsOptions. Immutable after Create; shared by the
// connections of one client (OpenSSL allows that from one thread at a time, and
// only the loop thread uses it).
class TlsContext {
 public:
  // Errors: InvalidArgument naming the option, the file and the problem
  // (missing, unreadable, no certificate in it, a key that does not match the
  // certificate, ...).
  static absl::StatusOr<std::shared_ptr<TlsContext>> Create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool verify_hostname() const { return verify_hostname_; }
  ssl_ctx_st* get() const { return ctx_; }

 private:
  TlsContext(ssl_ctx_st* ctx, bool verify_hostname)
      : ctx_(ctx), verify_hostname_(verify_hostname) {}
  ssl_ctx_st* const ctx_;
  const bool verify_hostname_;
};

// One TLS connection over a connected, non-blocking socket that the caller owns
// (and closes after destroying the session). Not thread-safe: the loop thread
// uses it.
class TlsSession {
 public:
  enum class Step { kDone, kWantRead, kWantWrite, kFailed };

  // `host` is the server's name or IP address as written in the connect string:
  // it is sent as SNI (names only) and, if the context verifies host names,
  // checked against the certificate.
  TlsSession(const TlsContext& context, int fd, const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Advances the handshake. After kFailed, error() says why.
  Step Handshake();
  bool established() const { return established_; }
  // True if the last step (handshake, read or write) stopped to wait for the socket to become
  // writable.
  bool wants_write() const { return wants_write_; }

  // As read(2) / send(2): > 0 bytes, 0 (Read only) the peer closed the TLS
  // connection, or -1 with errno EAGAIN (try again when the socket is ready) or
  // EIO (failed: see error()).
  ssize_t Read(char* buffer, size_t size);
  ssize_t Write(const char* data, size_t size);
  // True if decrypted bytes wait in OpenSSL's buffer (poll does not see them).
  bool HasBufferedData() const;

  // Sends close_notify if the connection is healthy (best effort, never
  // blocks).
  void Shutdown();

  // Why the last step failed: OpenSSL's reason, with the certificate check's
  // result if the server's certificate was refused.
  const std::string& error() const { return error_; }

 private:
  // Maps an SSL_* result `rc` to kDone / kWant* / kFailed (and error_).
  Step Classify(int rc, std::string_view what);

  ssl_st* ssl_ = nullptr;
  bool established_ = false;
  bool wants_write_ = false;
  bool failed_ = false;
  std::string error_;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_TLS_SESSION_H_
