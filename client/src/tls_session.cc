#include "tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "string_util.h"

namespace zk::internal {
namespace {

// OpenSSL's queued errors of this thread as "reason; reason", and the queue
// emptied.
std::string DrainErrors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    char buffer[256];
    if (reason == nullptr) {
      ERR_error_string_n(code, buffer, sizeof(buffer));
      reason = buffer;
    }
    StrAppend(&text, text.empty() ? "" : "; ", reason);
  }
  return text.empty() ? std::string("no OpenSSL error recorded") : text;
}

// ---------------------------------------------------------------------------------------------
// A socket BIO that sends with MSG_NOSIGNAL (OpenSSL's own socket BIO uses
// write(2), which raises SIGPIPE when the peer is gone).

int FdOf(BIO* bio) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio))); }

int SocketWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = send(FdOf(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(n);
}

int SocketRead(BIO* bio, char* buffer, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = recv(FdOf(bio), buffer, static_cast<size_t>(size), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_read(bio);
  }
  return static_cast<int>(n);
}

long SocketCtrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

int SocketCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* SocketMethod() {
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "zkcpp socket");
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_ctrl(m, SocketCtrl);
    BIO_meth_set_create(m, SocketCreate);
    return m;
  }();
  return method;
}

// InvalidArgument "connect: tls.<field> <path>: <problem>".
absl::Status BadFile(std::string_view field, const std::string& path, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat("connect: tls.", field, " ", path, ": ", problem));
}

// OK if `path` is a regular file this process can read.
absl::Status CheckReadable(std::string_view field, const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return BadFile(field, path, std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return BadFile(field, path, "not a regular file");
  std::ifstream in(path);
  if (!in) return BadFile(field, path, "cannot be read");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::Create(const TlsOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        options.cert_file.empty()
            ? StrCat("connect: tls.key_file ", options.key_file, " is set without tls.cert_file")
            : StrCat("connect: tls.cert_file ", options.cert_file,
                     " is set without tls.key_file (its private key)"));
  }
  if (!options.ca_file.empty()) {
    if (absl::Status s = CheckReadable("ca_file", options.ca_file); !s.ok()) return s;
  }
  if (!options.ca_directory.empty()) {
    struct stat info {};
    if (stat(options.ca_directory.c_str(), &info) != 0) {
      return BadFile("ca_directory", options.ca_directory, std::strerror(errno));
    }
    if (!S_ISDIR(info.st_mode)) {
      return BadFile("ca_directory", options.ca_directory, "not a directory");
    }
  }
  if (!options.cert_file.empty()) {
    if (absl::Status s = CheckReadable("cert_file", options.cert_file); !s.ok()) return s;
    if (absl::Status s = CheckReadable("key_file", options.key_file); !s.ok()) return s;
  }

  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return absl::InternalError(StrCat("connect: SSL_CTX_new: ", DrainErrors()));
  }
  std::shared_ptr<TlsContext> context(new TlsContext(ctx, options.verify_hostname));
  SSL_CTX_set_min_proto_version(
      ctx, options.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // The transport's output buffer may grow (and move) between a short write and
  // its retry.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (options.ca_file.empty() && options.ca_directory.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return absl::InvalidArgumentError(
          StrCat("connect: tls: the system trust store cannot be loaded: ", DrainErrors()));
    }
  } else {
    if (!options.ca_file.empty() && SSL_CTX_load_verify_file(ctx, options.ca_file.c_str()) != 1) {
      return BadFile("ca_file", options.ca_file,
                     StrCat("no PEM certificate could be loaded (", DrainErrors(), ")"));
    }
    if (!options.ca_directory.empty() &&
        SSL_CTX_load_verify_dir(ctx, options.ca_directory.c_str()) != 1) {
      return BadFile("ca_directory", options.ca_directory,
                     StrCat("cannot be used as a CA directory (", DrainErrors(), ")"));
    }
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
      return BadFile("cert_file", options.cert_file,
                     StrCat("no PEM certificate could be loaded (", DrainErrors(), ")"));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
        return BadFile("key_file", options.key_file,
                       StrCat("does not match the certificate of tls.cert_file ", options.cert_file,
                              " (", DrainErrors(), ")"));
      }
      return BadFile(
          "key_file", options.key_file,
          StrCat("no unencrypted PEM private key could be loaded (", DrainErrors(), ")"));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return BadFile("key_file", options.key_file,
                     StrCat("does not match the certificate of tls.cert_file ", options.cert_file,
                            " (", DrainErrors(), ")"));
    }
  }
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsSession::TlsSession(const TlsContext& context, int fd, const std::string& host) {
  ERR_clear_error();
  ssl_ = SSL_new(context.get());
  if (ssl_ == nullptr) {
    failed_ = true;
    error_ = StrCat("SSL_new: ", DrainErrors());
    return;
  }
  BIO* bio = BIO_new(SocketMethod());
  if (bio == nullptr) {
    failed_ = true;
    error_ = StrCat("BIO_new: ", DrainErrors());
    return;
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_connect_state(ssl_);
  // An IP address is checked against the certificate's IP SANs; a name goes out
  // as SNI and is checked against its DNS names.
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  const bool is_ip = ip != nullptr;
  ASN1_OCTET_STRING_free(ip);
  ERR_clear_error();
  bool ok = true;
  if (!is_ip) ok = SSL_set_tlsext_host_name(ssl_, host.c_str()) == 1;
  if (ok && context.verify_hostname()) {
    ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str()) == 1
               : SSL_set1_host(ssl_, host.c_str()) == 1;
  }
  if (!ok) {
    failed_ = true;
    error_ = StrCat("cannot set the expected server name ", host, ": ", DrainErrors());
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::Step TlsSession::Classify(int rc, std::string_view what) {
  wants_write_ = false;
  if (rc > 0) return Step::kDone;
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) return Step::kWantRead;
  if (error == SSL_ERROR_WANT_WRITE) {
    wants_write_ = true;
    return Step::kWantWrite;
  }
  const int reason = ERR_GET_REASON(ERR_peek_error());
  const int saved_errno = errno;
  std::string hint;
  if (error == SSL_ERROR_ZERO_RETURN) {
    error_ = StrCat(what, ": the server closed the TLS connection");
  } else if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    error_ =
        StrCat(what, ": ",
               saved_errno != 0 ? std::strerror(saved_errno) : "the server closed the connection");
    if (!established_) hint = "does the server speak TLS on this port?";
  } else {
    error_ = StrCat(what, ": ", DrainErrors());
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      hint = X509_verify_cert_error_string(verify);
    } else if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
               reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      hint = "does the server speak TLS on this port?";
    } else if (reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
               reason == SSL_R_UNSUPPORTED_PROTOCOL) {
      hint = "no TLS version in common: see TlsOptions::min_version";
    } else if (reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
               reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
               reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA) {
      hint =
          "the server refused the client's certificate, or wants one: see "
          "TlsOptions::cert_file";
    } else if (reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE) {
      // An OpenSSL server's answer to a missing client certificate under TLS 1.2 (a Java
      // server answers bad_certificate), and to a handshake with no cipher in common.
      hint =
          "the server ended the handshake: it may want a client certificate (see "
          "TlsOptions::cert_file), or no cipher is in common";
    }
  }
  if (!hint.empty()) StrAppend(&error_, " (", hint, ")");
  failed_ = true;
  ERR_clear_error();
  return Step::kFailed;
}

TlsSession::Step TlsSession::Handshake() {
  if (failed_) return Step::kFailed;
  if (established_) return Step::kDone;
  ERR_clear_error();
  const Step step = Classify(SSL_do_handshake(ssl_), "TLS handshake");
  if (step == Step::kDone) established_ = true;
  return step;
}

ssize_t TlsSession::Read(char* buffer, size_t size) {
  if (failed_) {
    errno = EIO;
    return -1;
  }
  ERR_clear_error();
  size_t got = 0;
  const int rc = SSL_read_ex(ssl_, buffer, size, &got);
  if (rc == 1) return static_cast<ssize_t>(got);
  if (SSL_get_error(ssl_, rc) == SSL_ERROR_ZERO_RETURN) return 0;
  const Step step = Classify(rc, "TLS read");
  errno = step == Step::kFailed ? EIO : EAGAIN;
  return -1;
}

ssize_t TlsSession::Write(const char* data, size_t size) {
  if (failed_) {
    errno = EIO;
    return -1;
  }
  ERR_clear_error();
  size_t written = 0;
  const int rc = SSL_write_ex(ssl_, data, size, &written);
  if (rc == 1) return static_cast<ssize_t>(written);
  const Step step = Classify(rc, "TLS write");
  errno = step == Step::kFailed ? EIO : EAGAIN;
  return -1;
}

bool TlsSession::HasBufferedData() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

void TlsSession::Shutdown() {
  if (ssl_ == nullptr || failed_ || !established_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace zk::internal
