// TLS on the embedded server (EmbeddedServerOptions::tls), byte by byte: a blocking OpenSSL
// client of the test's own speaks ZooKeeper frames over the TLS port; raw TCP connections send
// what a TLS client would not (garbage, a plaintext handshake, half a ClientHello). The server
// must close those, keep serving everyone else meanwhile, and never spin.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "raw_client.h"
#include "test_util.h"
#include "zk/proto/jute_writer.h"
#include "zk/proto/connect.h"
#include "zk/proto/headers.h"
#include "zk/testing/embedded_server.h"
#include "zk/testing/test_certificates.h"

namespace zk::testing {
namespace {

// A blocking TLS connection to 127.0.0.1:port (5 s socket timeouts: a test never hangs).
class TlsTestClient {
 public:
  TlsTestClient(int port, const std::string& ca_file, const std::string& cert_file = "",
                const std::string& key_file = "") {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_load_verify_file(ctx_, ca_file.c_str());
    if (!cert_file.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, cert_file.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM);
    }
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      error_ = "connect failed";
      return;
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) {
      error_ = Errors("handshake");
      return;
    }
    // TLS 1.2: a refused client certificate fails SSL_connect itself.
    established_ = true;
  }
  ~TlsTestClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }

  bool established() const { return established_; }
  const std::string& error() const { return error_; }
  ssl_st* ssl() { return ssl_; }

  bool Write(const std::string& bytes) {
    size_t written = 0;
    return SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) == 1 &&
           written == bytes.size();
  }
  // Returns the next frame body, or nullopt on failure, EOF or timeout.
  std::optional<std::string> ReadFrame() {
    std::string length;
    if (!ReadExact(4, &length)) return std::nullopt;
    const uint32_t n = (uint8_t(length[0]) << 24) | (uint8_t(length[1]) << 16) |
                       (uint8_t(length[2]) << 8) | uint8_t(length[3]);
    std::string body;
    if (!ReadExact(n, &body)) return std::nullopt;
    return body;
  }
  // Runs the ZooKeeper handshake; returns the session id, or 0.
  int64_t Handshake() {
    zk::proto::JuteWriter request;
    zk::proto::ConnectRequest{.timeout_ms = 10000, .passwd = std::string(16, '\0')}.Encode(
        request);
    if (!Write(request.TakeFrame())) return 0;
    std::optional<std::string> reply = ReadFrame();
    if (!reply) return 0;
    Cursor cursor(*reply);
    cursor.Int();  // protocol version
    cursor.Int();  // timeout
    return cursor.Long();
  }
  // Sends RequestHeader{xid, type} + body; returns the reply's err and the rest of it.
  std::optional<std::pair<int32_t, std::string>> Call(int32_t xid, int32_t type,
                                                      const Bytes& body) {
    zk::proto::JuteWriter request;
    zk::proto::RequestHeader{.xid = xid, .type = type}.Encode(request);
    request.WriteRaw(body.str());
    if (!Write(request.TakeFrame())) return std::nullopt;
    std::optional<std::string> reply = ReadFrame();
    if (!reply || reply->size() < 16) return std::nullopt;
    Cursor cursor(*reply);
    EXPECT_EQ(cursor.Int(), xid);
    cursor.Long();  // zxid
    return std::pair(cursor.Int(), reply->substr(16));
  }

 private:
  bool ReadExact(size_t n, std::string* out) {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      size_t chunk = 0;
      if (SSL_read_ex(ssl_, out->data() + got, n - got, &chunk) != 1) return false;
      got += chunk;
    }
    return true;
  }
  static std::string Errors(const char* what) {
    std::string text = what;
    while (unsigned long code = ERR_get_error()) {
      char buffer[256];
      ERR_error_string_n(code, buffer, sizeof(buffer));
      absl::StrAppend(&text, ": ", buffer);
    }
    return text;
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool established_ = false;
  std::string error_;
};

// Create / getData over `client`: the session works.
void ExpectCreateAndGet(TlsTestClient& client, const std::string& path) {
  Bytes create;
  create.Str(path).Str("hello").Int(1).Int(31).Str("world").Str("anyone").Int(0);
  auto created = client.Call(1, 1, create);
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->first, 0);
  Bytes get;
  get.Str(path).Bool(false);
  auto got = client.Call(2, 4, get);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->first, 0);
  Cursor data(got->second);
  EXPECT_EQ(data.Str(), "hello");
}

double CpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec / 1e9;
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<TestCertificates>> pki = TestCertificates::Create();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = pki->release();
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  static EmbeddedServerTls Tls(TlsClientAuth client_auth) {
    return EmbeddedServerTls{.cert_file = pki_->server_key_store(),
                             .key_file = pki_->server_key_store(),
                             .ca_file = pki_->ca_file(),
                             .client_auth = client_auth};
  }
  std::unique_ptr<EmbeddedServer> StartServer(TlsClientAuth client_auth,
                                              std::chrono::milliseconds handshake_timeout =
                                                  std::chrono::milliseconds(10000)) {
    EmbeddedServerOptions options;
    options.tls = Tls(client_auth);
    options.handshake_timeout = handshake_timeout;
    options.tick_time = std::chrono::milliseconds(100);
    absl::StatusOr<std::unique_ptr<EmbeddedServer>> server = EmbeddedServer::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }
  std::unique_ptr<TlsTestClient> MutualClient(int port) {
    return std::make_unique<TlsTestClient>(port, pki_->ca_file(), pki_->client_cert_file(),
                                           pki_->client_key_file());
  }

  static TestCertificates* pki_;
};

TestCertificates* TlsTest::pki_ = nullptr;

TEST_F(TlsTest, BothPortsServeOneTree) {
  std::unique_ptr<EmbeddedServer> server = StartServer(TlsClientAuth::kNeed);
  ASSERT_NE(server, nullptr);
  const int port = server->member_secure_port(0);
  ASSERT_GT(port, 0);
  EXPECT_NE(port, server->member_port(0));
  EXPECT_EQ(server->secure_connect_string(), absl::StrCat("127.0.0.1:", port));
  auto client = MutualClient(port);
  ASSERT_TRUE(client->established()) << client->error();
  ASSERT_NE(client->Handshake(), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectCreateAndGet(*client, "/over-tls"));
  // The plain port sees the node.
  RawClient plain(server->member_port(0));
  ASSERT_TRUE(plain.Handshake(10000).has_value());
  Bytes get;
  get.Str("/over-tls").Bool(false);
  plain.Request(7, 4, get);
  std::optional<std::string> reply = plain.ReadFrame();
  ASSERT_TRUE(reply.has_value());
  Cursor cursor(*reply);
  EXPECT_EQ(cursor.Int(), 7);
  cursor.Long();
  EXPECT_EQ(cursor.Int(), 0);
  EXPECT_EQ(cursor.Str(), "hello");
}

TEST_F(TlsTest, WithoutTlsThereIsNoSecurePort) {
  absl::StatusOr<std::unique_ptr<EmbeddedServer>> server = EmbeddedServer::Start();
  ASSERT_TRUE(server.ok());
  EXPECT_EQ((*server)->member_secure_port(0), -1);
  EXPECT_EQ((*server)->secure_connect_string(), "");
}

TEST_F(TlsTest, GarbageAndPlaintextOnTheTlsPortAreClosed) {
  std::unique_ptr<EmbeddedServer> server = StartServer(TlsClientAuth::kNone);
  ASSERT_NE(server, nullptr);
  const int port = server->member_secure_port(0);
  zk::proto::JuteWriter connect;
  zk::proto::ConnectRequest{.timeout_ms = 10000, .passwd = std::string(16, '\0')}.Encode(connect);
  std::string random(8192, '\0');
  for (size_t i = 0; i < random.size(); ++i) random[i] = static_cast<char>((i * 7919) >> 3);
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"a plaintext ConnectRequest", connect.TakeFrame()},
      {"a four-letter word typed in telnet", "srvr\r\n"},
      {"an HTTP request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"8 KB of noise", random},
      // A TLS handshake record whose ClientHello is nonsense.
      {"a bad ClientHello", std::string("\x16\x03\x01\x00\x08\x01\x00\x00\x04\xff\xff\xff\xff", 13)},
  };
  for (const auto& [what, bytes] : inputs) {
    RawClient raw(port);
    ASSERT_TRUE(raw.connected());
    raw.Send(bytes);
    EXPECT_TRUE(raw.WaitClosed()) << what << " left the connection open";
  }
  // The server goes on.
  auto client = std::make_unique<TlsTestClient>(port, pki_->ca_file());
  ASSERT_TRUE(client->established()) << client->error();
  EXPECT_NE(client->Handshake(), 0);
}

TEST_F(TlsTest, TlsOnThePlainPortIsClosed) {
  std::unique_ptr<EmbeddedServer> server = StartServer(TlsClientAuth::kNone);
  ASSERT_NE(server, nullptr);
  TlsTestClient client(server->member_port(0), pki_->ca_file());
  EXPECT_FALSE(client.established());
}

TEST_F(TlsTest, ClientAuthNeedRefusesAClientWithoutCertificate) {
  std::unique_ptr<EmbeddedServer> server = StartServer(TlsClientAuth::kNeed);
  ASSERT_NE(server, nullptr);
  TlsTestClient without(server->member_secure_port(0), pki_->ca_file());
  EXPECT_FALSE(without.established());
  EXPECT_TRUE(absl::StrContains(without.error(), "handshake failure")) << without.error();
  auto with = MutualClient(server->member_secure_port(0));
  ASSERT_TRUE(with->established()) << with->error();
  EXPECT_NE(with->Handshake(), 0);
}

TEST_F(TlsTest, ClientAuthWantAcceptsAClientWithoutCertificate) {
  std::unique_ptr<EmbeddedServer> server = StartServer(TlsClientAuth::kWant);
  ASSERT_NE(server, nullptr);
  TlsTestClient without(server->member_secure_port(0), pki_->ca_file());
  ASSERT_TRUE(without.established()) << without.error();
  EXPECT_NE(without.Handshake(), 0);
  // A certificate that does not verify (an expired one) still fails the handshake.
  TlsTestClient expired(server->member_secure_port(0), pki_->ca_file(),
                        pki_->expired_server_key_store(), pki_->expired_server_key_store());
  EXPECT_FALSE(expired.established());
}

TEST_F(TlsTest, StalledHandshakesHoldUpNobodyAndTimeOutWithoutSpinning) {
  std::unique_ptr<EmbeddedServer> server =
      StartServer(TlsClientAuth::kNeed, std::chrono::milliseconds(600));
  ASSERT_NE(server, nullptr);
  const int port = server->member_secure_port(0);
  // Half a ClientHello: a record header announcing 512 bytes, and 10 of them.
  RawClient half(port);
  half.Send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00", 15));
  // A connection that says nothing at all.
  RawClient silent(port);
  // Half a ClientHello, then gone.
  {
    RawClient gone(port);
    gone.Send(std::string("\x16\x03\x01\x02\x00\x01", 6));
  }
  ASSERT_TRUE(half.connected() && silent.connected());
  // Meanwhile other clients get through, on both ports.
  auto client = MutualClient(port);
  ASSERT_TRUE(client->established()) << client->error();
  ASSERT_NE(client->Handshake(), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectCreateAndGet(*client, "/while-stalled"));
  RawClient plain(server->member_port(0));
  EXPECT_TRUE(plain.Handshake(10000).has_value());
  // The stalled handshakes are closed by handshake_timeout; waiting for that must not cost
  // the process (whose only busy thread would be the server's loop) the CPU of a spin.
  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  EXPECT_TRUE(half.WaitClosed(5000));
  EXPECT_TRUE(silent.WaitClosed(5000));
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu = CpuSeconds() - cpu_start;
  EXPECT_LT(cpu, 0.2 + wall / 4) << "cpu " << cpu << " s over " << wall << " s";
  // The completed session was not a stalled handshake: it still works.
  Bytes exists;
  exists.Str("/while-stalled").Bool(false);
  auto reply = client->Call(3, 3, exists);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->first, 0);
}

TEST_F(TlsTest, RenegotiationIsRefusedAndTheServerGoesOn) {
  std::unique_ptr<EmbeddedServer> server = StartServer(TlsClientAuth::kNone);
  ASSERT_NE(server, nullptr);
  const int port = server->member_secure_port(0);
  {
    TlsTestClient client(port, pki_->ca_file());
    ASSERT_TRUE(client.established()) << client.error();
    ASSERT_NE(client.Handshake(), 0);
    ASSERT_EQ(SSL_renegotiate(client.ssl()), 1);
    ERR_clear_error();
    EXPECT_NE(SSL_do_handshake(client.ssl()), 1) << "the server renegotiated";
    ERR_clear_error();
  }
  TlsTestClient other(port, pki_->ca_file());
  ASSERT_TRUE(other.established()) << other.error();
  EXPECT_NE(other.Handshake(), 0);
}

TEST_F(TlsTest, RequestsBeforeCloseNotifyAreServed) {
  std::unique_ptr<EmbeddedServer> server = StartServer(TlsClientAuth::kNone);
  ASSERT_NE(server, nullptr);
  TlsTestClient client(server->member_secure_port(0), pki_->ca_file());
  ASSERT_TRUE(client.established()) << client.error();
  ASSERT_NE(client.Handshake(), 0);
  // A create and the client's close_notify, in one TCP segment (corked): the server reads
  // both at once.
  Bytes create;
  create.Str("/before-close").Str("").Int(1).Int(31).Str("world").Str("anyone").Int(0);
  zk::proto::JuteWriter request;
  zk::proto::RequestHeader{.xid = 1, .type = 1}.Encode(request);
  request.WriteRaw(create.str());
  const int fd = SSL_get_fd(client.ssl());
  int cork = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof(cork));
  ASSERT_TRUE(client.Write(request.TakeFrame()));
  SSL_shutdown(client.ssl());
  cork = 0;
  setsockopt(fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof(cork));
  // The reply still comes (TLS closes one direction at a time).
  std::optional<std::string> reply = client.ReadFrame();
  ASSERT_TRUE(reply.has_value());
  Cursor cursor(*reply);
  EXPECT_EQ(cursor.Int(), 1);
  cursor.Long();
  EXPECT_EQ(cursor.Int(), 0);
  EXPECT_EQ(cursor.Str(), "/before-close");
}

TEST_F(TlsTest, PausedServerAnswersNoClientHelloUntilResumed) {
  std::unique_ptr<EmbeddedServer> server = StartServer(TlsClientAuth::kNone);
  ASSERT_NE(server, nullptr);
  server->Pause();
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server->member_secure_port(0)));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_file(ctx, pki_->ca_file().c_str());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  // The ClientHello goes out; no ServerHello comes back while paused.
  ASSERT_EQ(SSL_get_error(ssl, SSL_connect(ssl)), SSL_ERROR_WANT_READ);
  pollfd readable{.fd = fd, .events = POLLIN, .revents = 0};
  EXPECT_EQ(poll(&readable, 1, 300), 0) << "a paused server answered the ClientHello";
  server->Resume();
  int rc = 0;
  while ((rc = SSL_connect(ssl)) != 1 && SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ) {
    if (poll(&readable, 1, 5000) != 1) break;
  }
  EXPECT_EQ(rc, 1) << "no handshake after Resume()";
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
}

TEST_F(TlsTest, ServerBinaryFlags) {
  int status = -1;
  std::string out = RunCommand(
      absl::StrCat(ZKCPP_SERVER_BINARY, " --secure_port=0 --tls_cert_file=",
                   pki_->server_key_store(), " --tls_client_auth=maybe"),
      &status);
  EXPECT_NE(status, 0);
  EXPECT_TRUE(absl::StrContains(out, "--tls_client_auth=maybe: not none, want or need")) << out;
  out = RunCommand(
      absl::StrCat(ZKCPP_SERVER_BINARY, " --tls_cert_file=", pki_->server_key_store()), &status);
  EXPECT_NE(status, 0);
  EXPECT_TRUE(absl::StrContains(out, "need --secure_port")) << out;
  // need (the default) without --tls_ca_file: Start() refuses, naming the option.
  out = RunCommand(absl::StrCat(ZKCPP_SERVER_BINARY, " --secure_port=0 --tls_cert_file=",
                                pki_->server_key_store()),
                   &status);
  EXPECT_NE(status, 0);
  EXPECT_TRUE(absl::StrContains(out, "tls.ca_file is empty")) << out;
}

TEST_F(TlsTest, MembersEachServeTlsAndKillClosesBothPorts) {
  EmbeddedServerOptions options;
  options.members = 2;
  options.tls = Tls(TlsClientAuth::kNone);
  absl::StatusOr<std::unique_ptr<EmbeddedServer>> server = EmbeddedServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int secure1 = (*server)->member_secure_port(1);
  EXPECT_EQ((*server)->secure_connect_string(),
            absl::StrCat("127.0.0.1:", (*server)->member_secure_port(0), ",127.0.0.1:", secure1));
  ASSERT_TRUE((*server)->KillMember(1).ok());
  EXPECT_EQ((*server)->secure_connect_string(),
            absl::StrCat("127.0.0.1:", (*server)->member_secure_port(0)));
  EXPECT_FALSE(TlsTestClient(secure1, pki_->ca_file()).established());
  ASSERT_TRUE((*server)->ReviveMember(1).ok());
  TlsTestClient client(secure1, pki_->ca_file());
  ASSERT_TRUE(client.established()) << client.error();
  EXPECT_NE(client.Handshake(), 0);
}

TEST_F(TlsTest, BadOptionsFailStart) {
  struct Case {
    std::string what;
    EmbeddedServerTls tls;
    std::vector<std::string> message;
  };
  const std::string missing = pki_->directory() + "/missing.pem";
  std::vector<Case> cases = {
      {"missing cert", Tls(TlsClientAuth::kNone), {"tls.cert_file", missing, "No such file"}},
      {"key of another certificate", Tls(TlsClientAuth::kNone),
       {"tls.key_file", pki_->client_key_file(), "does not match"}},
      {"need without ca", Tls(TlsClientAuth::kNeed), {"tls.ca_file is empty"}},
      {"no certificate in cert_file", Tls(TlsClientAuth::kNone),
       {"tls.cert_file", pki_->client_key_file(), "no PEM certificate"}},
      {"bad port", Tls(TlsClientAuth::kNone), {"tls.secure_port"}},
  };
  cases[0].tls.cert_file = missing;
  cases[1].tls.key_file = pki_->client_key_file();
  cases[2].tls.ca_file.clear();
  cases[3].tls.cert_file = pki_->client_key_file();
  cases[4].tls.secure_port = 70000;
  for (const Case& c : cases) {
    EmbeddedServerOptions options;
    options.tls = c.tls;
    absl::StatusOr<std::unique_ptr<EmbeddedServer>> server = EmbeddedServer::Start(options);
    ASSERT_FALSE(server.ok()) << c.what;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
    for (const std::string& part : c.message) {
      EXPECT_TRUE(absl::StrContains(server.status().message(), part))
          << c.what << ": " << server.status();
    }
  }
}

}  // namespace
}  // namespace zk::testing
