#include "tls_server.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

#if ZKCPP_SERVER_TLS
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>
#endif

namespace zk::testing::internal {

#if ZKCPP_SERVER_TLS

namespace {

// This thread's queued OpenSSL errors as "reason; reason", the queue emptied.
std::string TakeErrors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    const char* reason = ERR_reason_error_string(code);
    absl::StrAppend(&text, text.empty() ? "" : "; ", reason != nullptr ? reason : buffer);
  }
  return text.empty() ? std::string("no OpenSSL error recorded") : text;
}

absl::Status BadOption(const char* field, const std::string& path,
                       const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat("tls.", field, " ", path, ": ", problem));
}

// OK if `path` names a regular file this process can read.
absl::Status CheckFile(const char* field, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("tls.", field, " is empty"));
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return BadOption(field, path, std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return BadOption(field, path, "not a regular file");
  if (!std::ifstream(path)) return BadOption(field, path, "cannot be read");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerTlsContext>> ServerTlsContext::Create(
    const EmbeddedServerTls& tls) {
  if (tls.secure_port < 0 || tls.secure_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("tls.secure_port ", tls.secure_port,
                                                   " is not a port number"));
  }
  if (absl::Status s = CheckFile("cert_file", tls.cert_file); !s.ok()) return s;
  if (absl::Status s = CheckFile("key_file", tls.key_file); !s.ok()) return s;
  if (tls.client_auth != TlsClientAuth::kNone || !tls.ca_file.empty()) {
    if (tls.ca_file.empty()) {
      return absl::InvalidArgumentError(
          "tls.ca_file is empty: client_auth want and need verify client certificates "
          "against it");
    }
    if (absl::Status s = CheckFile("ca_file", tls.ca_file); !s.ok()) return s;
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError(absl::StrCat("tls: SSL_CTX_new: ", TakeErrors()));
  std::unique_ptr<ServerTlsContext> context(new ServerTlsContext(ctx));
  // As ZooKeeper 3.8 (zookeeper.ssl.protocol TLSv1.2): TLS 1.2 only.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  // A renegotiation request is refused (a no_renegotiation alert); the connection goes on.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  // The server sends the chain of cert_file as it is, as ZooKeeper does: OpenSSL would
  // otherwise complete it from ca_file (the CAs of client certificates).
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    return BadOption("cert_file", tls.cert_file,
                     absl::StrCat("no PEM certificate could be loaded (", TakeErrors(), ")"));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return BadOption("key_file", tls.key_file,
                       absl::StrCat("does not match the certificate of tls.cert_file ",
                                    tls.cert_file, " (", TakeErrors(), ")"));
    }
    return BadOption(
        "key_file", tls.key_file,
        absl::StrCat("no unencrypted PEM private key could be loaded (", TakeErrors(), ")"));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return BadOption("key_file", tls.key_file,
                     absl::StrCat("does not match the certificate of tls.cert_file ",
                                  tls.cert_file, " (", TakeErrors(), ")"));
  }
  if (!tls.ca_file.empty()) {
    if (SSL_CTX_load_verify_file(ctx, tls.ca_file.c_str()) != 1) {
      return BadOption("ca_file", tls.ca_file,
                       absl::StrCat("no PEM certificate could be loaded (", TakeErrors(), ")"));
    }
    // Tells clients which CAs' certificates the server takes.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
    ERR_clear_error();
  }
  int verify = SSL_VERIFY_NONE;
  if (tls.client_auth == TlsClientAuth::kWant) verify = SSL_VERIFY_PEER;
  if (tls.client_auth == TlsClientAuth::kNeed) {
    verify = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx, verify, nullptr);
  return context;
}

ServerTlsContext::~ServerTlsContext() { SSL_CTX_free(ctx_); }

ServerTlsConnection::ServerTlsConnection(const ServerTlsContext& context) {
  ERR_clear_error();
  ssl_ = SSL_new(context.get());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
    BIO_free(in_);
    BIO_free(out_);
    in_ = out_ = nullptr;
    failed_ = true;
    error_ = absl::StrCat("TLS setup: ", TakeErrors());
    return;
  }
  // An empty input BIO means "wait for more bytes", not end of file.
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_, in_, out_);
  SSL_set_accept_state(ssl_);
}

ServerTlsConnection::~ServerTlsConnection() { SSL_free(ssl_); }

void ServerTlsConnection::TakeRecords(std::string* records) {
  if (out_ == nullptr) return;
  char* data = nullptr;
  const long size = BIO_get_mem_data(out_, &data);
  if (size > 0) {
    records->append(data, static_cast<size_t>(size));
    (void)BIO_reset(out_);
  }
}

bool ServerTlsConnection::Failed(int rc, const char* what) {
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) return true;
  if (error == SSL_ERROR_ZERO_RETURN) {
    peer_closed_ = true;
    return false;
  }
  failed_ = true;
  error_ = absl::StrCat(what, ": ", TakeErrors());
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    absl::StrAppend(&error_, " (client certificate: ", X509_verify_cert_error_string(verify), ")");
  }
  return false;
}

bool ServerTlsConnection::Receive(std::string_view bytes, std::string* plain,
                                  std::string* records) {
  if (failed_ || peer_closed_) return false;
  ERR_clear_error();
  if (!bytes.empty() && BIO_write(in_, bytes.data(), static_cast<int>(bytes.size())) <= 0) {
    failed_ = true;
    error_ = absl::StrCat("TLS input: ", TakeErrors());
    return false;
  }
  bool ok = true;
  if (!established_) {
    const int rc = SSL_do_handshake(ssl_);
    if (rc == 1) {
      established_ = true;
    } else {
      ok = Failed(rc, "TLS handshake");
    }
  }
  if (ok && established_) {
    if (!waiting_.empty()) {
      std::string waiting;
      waiting.swap(waiting_);
      ok = Send(waiting, records);
    }
    char buffer[16384];
    while (ok) {
      size_t got = 0;
      const int rc = SSL_read_ex(ssl_, buffer, sizeof(buffer), &got);
      if (rc == 1) {
        plain->append(buffer, got);
        continue;
      }
      ok = Failed(rc, "TLS read") && !peer_closed_;
      break;
    }
  }
  TakeRecords(records);
  return ok;
}

bool ServerTlsConnection::Send(std::string_view plain, std::string* records) {
  if (failed_) return false;
  if (!established_) {
    waiting_.append(plain);
    return true;
  }
  ERR_clear_error();
  while (!plain.empty()) {
    size_t written = 0;
    const int rc = SSL_write_ex(ssl_, plain.data(), plain.size(), &written);
    if (rc != 1) {
      // Writes go to a memory BIO, which never pushes back.
      Failed(rc, "TLS write");
      failed_ = true;
      break;
    }
    plain.remove_prefix(written);
  }
  TakeRecords(records);
  return !failed_;
}

void ServerTlsConnection::Shutdown(std::string* records) {
  if (failed_ || !established_ || peer_closed_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
  TakeRecords(records);
}

#else  // !ZKCPP_SERVER_TLS

absl::StatusOr<std::unique_ptr<ServerTlsContext>> ServerTlsContext::Create(
    const EmbeddedServerTls&) {
  return absl::FailedPreconditionError(
      "tls: this build of the embedded server has no OpenSSL, so it cannot serve TLS "
      "(install OpenSSL 3 development files and rebuild)");
}

ServerTlsContext::~ServerTlsContext() = default;

ServerTlsConnection::ServerTlsConnection(const ServerTlsContext&) {
  failed_ = true;
  error_ = "TLS is not built in";
}

ServerTlsConnection::~ServerTlsConnection() = default;

bool ServerTlsConnection::Receive(std::string_view, std::string*, std::string*) {
  return false;
}

bool ServerTlsConnection::Send(std::string_view, std::string*) { return false; }

void ServerTlsConnection::Shutdown(std::string*) {}

#endif  // ZKCPP_SERVER_TLS

}  // namespace zk::testing::internal
