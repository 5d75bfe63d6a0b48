// zk::Client over TLS (ClientOptions::tls, the native engine) against real
// ZooKeeper 3.8 servers serving TLS on their secureClientPort, or with
// ZKCPP_TLS_SERVER=embedded against embedded servers serving TLS on theirs
// (EmbeddedServerOptions::tls), with key material made for the run
// (zk/testing/test_certificates.h). CTest runs the suite once against each.
//
// One suite shares three servers, started side by side once: "good" (the test
// CA's server certificate, clientAuth=need), "expired" (a certificate that
// expired yesterday) and "elsewhere" (a certificate that names another host).
// Each failure case checks that the client never connects, logs the reason with
// the server's host:port, and that WaitUntilConnected reports it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client_test_util.h"
#include "tls_suite_test.h"
#include "zk/testing/embedded_server.h"
#include "zk/testing/real_zookeeper.h"
#include "zk/testing/test_certificates.h"

namespace zk::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// The message of `status`, which must have `code` ("" otherwise).
std::string MessageOf(const absl::Status& status, absl::StatusCode code) {
  EXPECT_EQ(status.code(), code) << status;
  return std::string(status.message());
}
template <typename T>
std::string MessageOf(const absl::StatusOr<T>& result, absl::StatusCode code) {
  return MessageOf(result.status(), code);
}

// A server with a plain and a TLS port: a real ZooKeeper or an embedded server.
struct TlsServer {
  std::unique_ptr<RealZooKeeper> real;
  std::unique_ptr<EmbeddedServer> embedded;

  std::string connect_string() const {
    return real ? real->connect_string() : embedded->connect_string();
  }
  std::string secure_connect_string() const {
    return real ? real->secure_connect_string() : embedded->secure_connect_string();
  }
  int secure_port() const { return real ? real->secure_port() : embedded->member_secure_port(0); }
  absl::Status Restart() { return real ? real->Restart() : embedded->Restart(); }
};

class ClientTlsTest : public TlsSuiteTest {
 protected:
  static void SetUpTestSuite() {
    if (!CreateCertificates()) return;
    struct Start {
      std::string key_store;
      TlsClientAuth client_auth;
      absl::StatusOr<std::unique_ptr<RealZooKeeper>> server = absl::UnknownError("not started");
    };
    std::vector<Start> starts(3);
    starts[0] = {pki_->server_key_store(), TlsClientAuth::kNeed};
    starts[1] = {pki_->expired_server_key_store(), TlsClientAuth::kNone};
    starts[2] = {pki_->elsewhere_server_key_store(), TlsClientAuth::kNone};
    const char* kind = std::getenv("ZKCPP_TLS_SERVER");
    if (kind != nullptr && std::string_view(kind) == "embedded") {
      std::vector<TlsServer*> servers;
      for (Start& start : starts) {
        EmbeddedServerOptions options;
        // The key store holds both the key and the certificate.
        options.tls = EmbeddedServerTls{.cert_file = start.key_store,
                                        .key_file = start.key_store,
                                        .ca_file = pki_->ca_file(),
                                        .client_auth = start.client_auth};
        absl::StatusOr<std::unique_ptr<EmbeddedServer>> server =
            EmbeddedServer::Start(std::move(options));
        if (!server.ok()) {
          for (TlsServer* started : servers) delete started;
          return SetSetupError(server.status());
        }
        servers.push_back(new TlsServer{.embedded = *std::move(server)});
      }
      good_ = servers[0];
      expired_ = servers[1];
      elsewhere_ = servers[2];
      return;
    }
    // JVM starts cost seconds: side by side.
    std::vector<std::thread> threads;
    for (Start& start : starts) {
      threads.emplace_back([&start] {
        RealZooKeeperOptions options;
        options.tls = RealZooKeeperTls{.key_store = start.key_store,
                                       .trust_store = pki_->ca_file(),
                                       .client_auth = start.client_auth};
        start.server = RealZooKeeper::Start(std::move(options));
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (Start& start : starts) {
      if (!start.server.ok()) {
        SetSetupError(start.server.status());
        return;
      }
    }
    good_ = new TlsServer{.real = *std::move(starts[0].server)};
    expired_ = new TlsServer{.real = *std::move(starts[1].server)};
    elsewhere_ = new TlsServer{.real = *std::move(starts[2].server)};
  }

  static void TearDownTestSuite() {
    delete good_;
    delete expired_;
    delete elsewhere_;
    good_ = expired_ = elsewhere_ = nullptr;
    DeleteCertificates();
  }

  // Options for a TLS client of `connect_string` that trusts the test CA and
  // presents the client certificate; logs go to log_.
  ClientOptions TlsClientOptions(std::string connect_string) {
    ClientOptions options = TestOptions(std::move(connect_string));
    options.tls = TlsOptions{.ca_file = pki_->ca_file(),
                             .cert_file = pki_->client_cert_file(),
                             .key_file = pki_->client_key_file()};
    options.log_sink = log_.Sink();
    options.log_level = LogLevel::kInfo;
    return options;
  }

  // Connects with `options`, expects every attempt to fail with a logged reason
  // holding `reason` and the server's `host_port`, and returns the reason line.
  // The client must never get a session.
  std::string ExpectNoConnection(ClientOptions options, std::string_view host_port,
                                 std::string_view reason) {
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(std::move(options));
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return "";
    const std::string line = log_.WaitForLine(reason);
    RecordProperty("reason", line);
    EXPECT_THAT(line, HasSubstr(std::string(host_port))) << "no log line holds: " << reason;
    // The attempt failed before any session: WaitUntilConnected names the
    // reason.
    EXPECT_THAT(MessageOf((*client)->WaitUntilConnected(std::chrono::milliseconds(50)),
                          absl::StatusCode::kDeadlineExceeded),
                AllOf(HasSubstr("last connection error: "), HasSubstr(std::string(host_port)),
                      HasSubstr("TLS")));
    EXPECT_EQ((*client)->Metrics().connections, 0u);
    EXPECT_EQ((*client)->session_id(), 0);
    return line;
  }

  static TlsServer* good_;
  static TlsServer* expired_;
  static TlsServer* elsewhere_;
  LogCapture log_;
};

TlsServer* ClientTlsTest::good_ = nullptr;
TlsServer* ClientTlsTest::expired_ = nullptr;
TlsServer* ClientTlsTest::elsewhere_ = nullptr;

TEST_F(ClientTlsTest, OperationsAndAWatchOverMutualTls) {
  // No engine chosen: TLS picks the native engine.
  absl::StatusOr<std::unique_ptr<Client>> connected =
      ConnectAndWait(TlsClientOptions(good_->secure_connect_string()));
  ASSERT_THAT(connected, IsOk());
  std::unique_ptr<Client> client = *std::move(connected);
  CloseOnExit close(client);

  ASSERT_THAT(client->Create("/tls", "v0"), IsOk());
  EventLog events;
  absl::StatusOr<Watched<GetResult>> watched = client->GetAndWatch("/tls", events.Callback());
  ASSERT_THAT(watched, IsOk());
  EXPECT_EQ(watched->result.data, "v0");
  ASSERT_THAT(client->Set("/tls", "v1"), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  EXPECT_EQ(events.events()[0].type, WatchEventType::kDataChanged);
  EXPECT_EQ(events.events()[0].path, "/tls");

  absl::StatusOr<GetResult> got = client->Get("/tls");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->data, "v1");
  // A value larger than one TLS record (16 KB) goes out and comes back in
  // several.
  const std::string big(300 * 1024, 'x');
  ASSERT_THAT(client->Create("/tls/big", big), IsOk());
  got = client->Get("/tls/big");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->data, big);

  absl::StatusOr<MultiResult> multi =
      client->Multi({op::Create{.path = "/tls/a", .data = "a"}, op::Check{.path = "/tls"},
                     op::Set{.path = "/tls/a", .data = "b"}});
  ASSERT_THAT(multi, IsOk());
  absl::StatusOr<ChildrenResult> children = client->GetChildren("/tls");
  ASSERT_THAT(children, IsOk());
  EXPECT_THAT(children->children, ::testing::UnorderedElementsAre("a", "big"));
  ASSERT_THAT(client->Delete("/tls/a"), IsOk());
  ASSERT_THAT(client->Delete("/tls/big"), IsOk());
  ASSERT_THAT(client->Delete("/tls"), IsOk());
  EXPECT_THAT(client->Get("/tls"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ClientTlsTest, ReconnectsOverTlsToTheSameSessionAfterAServerRestart) {
  absl::StatusOr<std::unique_ptr<Client>> connected =
      ConnectAndWait(TlsClientOptions(good_->secure_connect_string()));
  ASSERT_THAT(connected, IsOk());
  std::unique_ptr<Client> client = *std::move(connected);
  SessionLog sessions;
  EventLog events;
  CloseOnExit close(client);
  Subscription subscription = client->SubscribeSessionEvents(sessions.Callback());
  const int64_t session = client->session_id();
  ASSERT_THAT(client->Create("/tls-restart", "", {.mode = CreateMode::kEphemeral}), IsOk());
  absl::StatusOr<Watched<GetResult>> watched =
      client->GetAndWatch("/tls-restart", events.Callback());
  ASSERT_THAT(watched, IsOk());

  // A new TLS connection (a new handshake) to the restarted server resumes the session, and
  // the watch is restored over it.
  ASSERT_THAT(good_->Restart(), IsOk());
  ASSERT_TRUE(sessions.WaitForState(SessionState::kReconnected).has_value());
  EXPECT_EQ(client->session_id(), session);
  ASSERT_THAT(client->Delete("/tls-restart"), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  EXPECT_EQ(events.events()[0].type, WatchEventType::kDeleted);
}

TEST_F(ClientTlsTest, HostNameLocalhostVerifiesAgainstTheDnsName) {
  ClientOptions options = TlsClientOptions(absl::StrCat("localhost:", good_->secure_port()));
  options.engine = EngineKind::kNative;
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectAndWait(std::move(options));
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Get("/"), IsOk());
}

TEST_F(ClientTlsTest, CaDirectoryIsATrustStoreToo) {
  ClientOptions options = TlsClientOptions(good_->secure_connect_string());
  options.tls->ca_file.clear();
  options.tls->ca_directory = pki_->ca_directory();
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectAndWait(std::move(options));
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Get("/"), IsOk());
}

TEST_F(ClientTlsTest, ServerThatNeedsAClientCertificateRefusesAClientWithout) {
  ClientOptions options = TlsClientOptions(good_->secure_connect_string());
  options.tls->cert_file.clear();
  options.tls->key_file.clear();
  const std::string line =
      ExpectNoConnection(std::move(options), good_->secure_connect_string(), "TLS handshake");
  if (good_->real != nullptr) {
    EXPECT_THAT(line, HasSubstr("the server refused the client's certificate, or wants one"));
  } else {
    // OpenSSL's server answers TLS 1.2 without a client certificate with a handshake_failure
    // alert (Java's with bad_certificate), which can also mean no cipher in common.
    EXPECT_THAT(line, HasSubstr("alert handshake failure"));
    EXPECT_THAT(line, HasSubstr("it may want a client certificate (see TlsOptions::cert_file)"));
  }
}

TEST_F(ClientTlsTest, UnknownCaFailsVerification) {
  ClientOptions options = TlsClientOptions(good_->secure_connect_string());
  options.tls->ca_file = pki_->other_ca_file();
  const std::string line = ExpectNoConnection(std::move(options), good_->secure_connect_string(),
                                              "certificate verify failed");
  EXPECT_THAT(line, HasSubstr("unable to get local issuer certificate"));
}

TEST_F(ClientTlsTest, CertificateForAnotherHostFailsVerification) {
  const std::string line =
      ExpectNoConnection(TlsClientOptions(elsewhere_->secure_connect_string()),
                         elsewhere_->secure_connect_string(), "certificate verify failed");
  EXPECT_THAT(line, HasSubstr("IP address mismatch"));
}

TEST_F(ClientTlsTest, CertificateForAnotherHostIsAcceptedWithoutHostNameVerification) {
  ClientOptions options = TlsClientOptions(elsewhere_->secure_connect_string());
  options.tls->verify_hostname = false;
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectAndWait(std::move(options));
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Exists("/"), IsOk());
}

TEST_F(ClientTlsTest, ExpiredServerCertificateFailsVerification) {
  const std::string line =
      ExpectNoConnection(TlsClientOptions(expired_->secure_connect_string()),
                         expired_->secure_connect_string(), "certificate verify failed");
  EXPECT_THAT(line, HasSubstr("certificate has expired"));
}

TEST_F(ClientTlsTest, PlaintextPortFailsTheHandshake) {
  const std::string line = ExpectNoConnection(TlsClientOptions(good_->connect_string()),
                                              good_->connect_string(), "TLS handshake");
  EXPECT_THAT(line, HasSubstr("does the server speak TLS on this port?"));
}

TEST_F(ClientTlsTest, MinimumVersionAboveTheServersFailsTheHandshake) {
  // ZooKeeper 3.8.0 speaks TLS 1.2 unless configured otherwise.
  ClientOptions options = TlsClientOptions(good_->secure_connect_string());
  options.tls->min_version = TlsVersion::kTls13;
  const std::string line =
      ExpectNoConnection(std::move(options), good_->secure_connect_string(), "TLS handshake");
  EXPECT_THAT(line, HasSubstr("no TLS version in common"));
}

TEST_F(ClientTlsTest, SilentPeerTimesOutTheHandshake) {
  // A listening socket that is never read: the TCP connect succeeds (the kernel
  // accepts it), the ClientHello gets no answer.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string host_port = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
  // A third of the session timeout per attempt: about 670 ms here.
  ClientOptions options = TlsClientOptions(host_port);
  options.session_timeout = std::chrono::milliseconds(2000);
  ExpectNoConnection(std::move(options), host_port, "TLS handshake: not finished in time");
  close(listener);
}

TEST_F(ClientTlsTest, TheCLibraryEngineRefusesTls) {
  ClientOptions options = TlsClientOptions(good_->secure_connect_string());
  options.engine = EngineKind::kCLibrary;
  EXPECT_THAT(MessageOf(Client::Connect(options), absl::StatusCode::kInvalidArgument),
              HasSubstr("C library"));
  options.engine.reset();
  setenv("ZKCPP_ENGINE", "clib", 1);
  absl::StatusOr<std::unique_ptr<Client>> from_env = Client::Connect(options);
  unsetenv("ZKCPP_ENGINE");
  EXPECT_THAT(MessageOf(from_env, absl::StatusCode::kInvalidArgument),
              AllOf(HasSubstr("C library"), HasSubstr("ZKCPP_ENGINE")));
}

TEST_F(ClientTlsTest, BadTlsFilesFailConnect) {
  const std::string missing = absl::StrCat(pki_->directory(), "/missing.pem");
  ClientOptions options = TlsClientOptions(good_->secure_connect_string());
  options.tls->ca_file = missing;
  EXPECT_THAT(MessageOf(Client::Connect(options), absl::StatusCode::kInvalidArgument),
              AllOf(HasSubstr("tls.ca_file"), HasSubstr(missing), HasSubstr("No such file")));

  options = TlsClientOptions(good_->secure_connect_string());
  options.tls->key_file.clear();
  EXPECT_THAT(MessageOf(Client::Connect(options), absl::StatusCode::kInvalidArgument),
              AllOf(HasSubstr(pki_->client_cert_file()), HasSubstr("without tls.key_file")));

  // The server's key does not belong to the client's certificate.
  options = TlsClientOptions(good_->secure_connect_string());
  options.tls->key_file = pki_->server_key_store();
  EXPECT_THAT(MessageOf(Client::Connect(options), absl::StatusCode::kInvalidArgument),
              AllOf(HasSubstr(pki_->server_key_store()), HasSubstr("does not match")));

  options = TlsClientOptions(good_->secure_connect_string());
  options.tls->ca_directory = pki_->ca_file();
  EXPECT_THAT(MessageOf(Client::Connect(options), absl::StatusCode::kInvalidArgument),
              AllOf(HasSubstr("tls.ca_directory"), HasSubstr("not a directory")));

  // A file that holds no certificate.
  options = TlsClientOptions(good_->secure_connect_string());
  options.tls->ca_file = pki_->client_key_file();
  EXPECT_THAT(MessageOf(Client::Connect(options), absl::StatusCode::kInvalidArgument),
              AllOf(HasSubstr(pki_->client_key_file()), HasSubstr("no PEM certificate")));
}

}  // namespace
}  // namespace zk::testing
