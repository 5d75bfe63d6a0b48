// zk::Client with SASL DIGEST-MD5 (ClientOptions::sasl, the native engine, Cyrus SASL) against
// a server that accepts the users alice and bob: a real ZooKeeper 3.8
// (RealZooKeeperOptions::sasl_users), or with ZKCPP_SASL_SERVER=embedded the embedded server
// (EmbeddedServerOptions::sasl_users). CTest runs the suite once against each.
//
// One suite shares one server, started once. Each test checks what the server says about the
// session (WhoAmI, ACL checks of `sasl:alice` nodes), not only what the client reports.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "client_test_util.h"
#include "suite_setup_test.h"
#include "testing/tcp_relay.h"
#include "zk/testing/embedded_server.h"
#include "zk/testing/real_zookeeper.h"

namespace zk::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kAlicePassword[] = "alice-secret";
constexpr char kBobPassword[] = "bob-secret";

class ClientSaslTest : public SuiteSetupTest {
 protected:
  static void SetUpTestSuite() {
    // The tests choose nothing: sasl alone must pick the native engine.
    unsetenv("ZKCPP_ENGINE");
    const std::map<std::string, std::string> users = {{"alice", kAlicePassword},
                                                      {"bob", kBobPassword}};
    const char* kind = std::getenv("ZKCPP_SASL_SERVER");
    if (kind != nullptr && std::string_view(kind) == "embedded") {
      EmbeddedServerOptions options;
      options.sasl_users = users;
      absl::StatusOr<std::unique_ptr<EmbeddedServer>> server =
          EmbeddedServer::Start(std::move(options));
      if (!server.ok()) return SetSetupError(server.status());
      embedded_ = server->release();
      server_ = std::make_unique<Server>(Server{
          .connect_string = embedded_->connect_string(),
          .expire = [](int64_t id, const std::string&) { return embedded_->ExpireSession(id); }});
      return;
    }
    RealZooKeeperOptions options;
    options.sasl_users = users;
    absl::StatusOr<std::unique_ptr<RealZooKeeper>> server =
        RealZooKeeper::Start(std::move(options));
    if (!server.ok()) return SetSetupError(server.status());
    real_ = server->release();
    server_ = std::make_unique<Server>(Server{
        .connect_string = real_->connect_string(),
        .expire = [](int64_t id, const std::string& password) {
          return real_->ExpireSession(id, password);
        }});
  }

  static void TearDownTestSuite() {
    server_.reset();
    delete real_;
    real_ = nullptr;
    delete embedded_;
    embedded_ = nullptr;
    ClearSetupError();
  }

  // Options of a client of `connect_string` that authenticates as `user` with `password`.
  ClientOptions SaslClientOptions(std::string user, std::string password,
                                  std::string connect_string = "") {
    ClientOptions options =
        TestOptions(connect_string.empty() ? server_->connect_string : connect_string);
    options.sasl = SaslOptions{.user = std::move(user), .password = std::move(password)};
    options.log_sink = log_.Sink();
    options.log_level = LogLevel::kInfo;
    return options;
  }

  // Creates `path` (once per suite run; the server is shared) that only alice may use.
  static void CreateAliceOnlyNode(Client& alice, const std::string& path) {
    const absl::Status created = alice.Create(
        path, "for alice", {.acl = {Acl{.perms = kPermAll, .id = {"sasl", "alice"}}}}).status();
    if (!created.ok()) {
      ASSERT_THAT(created, StatusIs(absl::StatusCode::kAlreadyExists));
    }
  }

  // What the tests need of either server.
  struct Server {
    std::string connect_string;
    std::function<absl::Status(int64_t session_id, const std::string& password)> expire;
  };
  static std::unique_ptr<Server> server_;
  static RealZooKeeper* real_;
  static EmbeddedServer* embedded_;
  LogCapture log_;
};

std::unique_ptr<ClientSaslTest::Server> ClientSaslTest::server_;
RealZooKeeper* ClientSaslTest::real_ = nullptr;
EmbeddedServer* ClientSaslTest::embedded_ = nullptr;

TEST_F(ClientSaslTest, AuthenticatedUserOwnsSaslAclAndOthersAreDenied) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> alice,
                          ConnectAndWait(SaslClientOptions("alice", kAlicePassword)));
  CloseOnExit close_alice(alice);
  ZK_ASSERT_OK_AND_ASSIGN(std::vector<ClientIdentity> ids, alice->WhoAmI());
  EXPECT_THAT(ids, Contains(ClientIdentity{"sasl", "alice"}));
  EXPECT_EQ(log_.Count("SASL authenticated as alice"), 1);

  ASSERT_NO_FATAL_FAILURE(CreateAliceOnlyNode(*alice, "/sasl-alice"));
  ZK_ASSERT_OK_AND_ASSIGN(AclResult acl, alice->GetAcl("/sasl-alice"));
  EXPECT_EQ(acl.acl, (AclList{Acl{.perms = kPermAll, .id = {"sasl", "alice"}}}));
  ZK_ASSERT_OK_AND_ASSIGN(GetResult got, alice->Get("/sasl-alice"));
  EXPECT_EQ(got.data, "for alice");
  ASSERT_THAT(alice->Set("/sasl-alice", "for alice"), IsOk());

  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> bob,
                          ConnectAndWait(SaslClientOptions("bob", kBobPassword)));
  CloseOnExit close_bob(bob);
  ZK_ASSERT_OK_AND_ASSIGN(ids, bob->WhoAmI());
  EXPECT_THAT(ids, Contains(ClientIdentity{"sasl", "bob"}));
  EXPECT_THAT(ids, ::testing::Not(Contains(ClientIdentity{"sasl", "alice"})));
  EXPECT_THAT(bob->Get("/sasl-alice"),
              StatusIs(absl::StatusCode::kPermissionDenied, "get /sasl-alice"));
  EXPECT_THAT(bob->Set("/sasl-alice", "bob was here"),
              StatusIs(absl::StatusCode::kPermissionDenied, "set /sasl-alice"));
}

// Requests made before the exchange ends wait for it: a read of alice's node issued right
// after Connect succeeds, which it could not if it reached the server before the credentials.
TEST_F(ClientSaslTest, RequestsMadeBeforeAuthenticationWaitForIt) {
  {
    ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> setup,
                            ConnectAndWait(SaslClientOptions("alice", kAlicePassword)));
    CloseOnExit close_setup(setup);
    ASSERT_NO_FATAL_FAILURE(CreateAliceOnlyNode(*setup, "/sasl-alice"));
  }
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> alice,
                          Client::Connect(SaslClientOptions("alice", kAlicePassword)));
  CloseOnExit close_alice(alice);
  ZK_ASSERT_OK_AND_ASSIGN(GetResult got, alice->Get("/sasl-alice"));
  EXPECT_EQ(got.data, "for alice");
}

TEST_F(ClientSaslTest, WrongPasswordFailsPromptlyWithUnauthenticatedAndRunsNoOp) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                          Client::Connect(SaslClientOptions("alice", "not-her-password")));
  CloseOnExit close_client(client);
  // Issued at once: it waits for the exchange, then fails with it.
  std::atomic<bool> done{false};
  absl::Status early;
  client->AsyncCreate("/sasl-never", "", {}, [&](absl::StatusOr<CreateResult> result) {
    early = result.status();
    done = true;
  });
  // WaitUntilConnected reports the refusal, not a timeout.
  const absl::Status waited = client->WaitUntilConnected(std::chrono::seconds(20));
  EXPECT_THAT(waited, StatusIs(absl::StatusCode::kUnauthenticated, "SASL authentication as alice"));
  EXPECT_THAT(std::string(waited.message()), HasSubstr("AUTHFAILED"));
  ASSERT_TRUE(WaitFor([&] { return done.load(); }, kWait));
  EXPECT_THAT(early, StatusIs(absl::StatusCode::kUnauthenticated, "create /sasl-never"));
  EXPECT_THAT(client->Get("/sasl-never"),
              StatusIs(absl::StatusCode::kUnauthenticated, "get /sasl-never"));
  EXPECT_THAT(client->Exists("/"), StatusIs(absl::StatusCode::kUnauthenticated, "exists /"));
  EXPECT_EQ(client->state(), SessionState::kLost);
  EXPECT_EQ(client->Metrics().connections, 0u);
  // The reason went to the log, once: no retry.
  EXPECT_EQ(log_.Count("the server refused the credentials"), 1);

  // Nothing reached the server.
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> alice,
                          ConnectAndWait(SaslClientOptions("alice", kAlicePassword)));
  CloseOnExit close_alice(alice);
  EXPECT_THAT(alice->Exists("/sasl-never"), IsOkAndHolds(std::optional<Stat>()));
}

TEST_F(ClientSaslTest, UnknownUserIsUnauthenticated) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                          Client::Connect(SaslClientOptions("mallory", "guess")));
  CloseOnExit close_client(client);
  EXPECT_THAT(client->WaitUntilConnected(std::chrono::seconds(20)),
              StatusIs(absl::StatusCode::kUnauthenticated, "SASL authentication as mallory"));
}

TEST_F(ClientSaslTest, PasswordCallbackIsAskedOncePerConnection) {
  std::atomic<int> asked{0};
  ClientOptions options = SaslClientOptions("alice", "");
  options.sasl->password_callback = [&asked] {
    ++asked;
    return std::string(kAlicePassword);
  };
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> alice, ConnectAndWait(std::move(options)));
  CloseOnExit close_alice(alice);
  EXPECT_EQ(asked.load(), 1);
  ZK_ASSERT_OK_AND_ASSIGN(std::vector<ClientIdentity> ids, alice->WhoAmI());
  EXPECT_THAT(ids, Contains(ClientIdentity{"sasl", "alice"}));
}

// A connection reset: the client reconnects to the same session and authenticates again
// before anything else; alice's node is still hers.
TEST_F(ClientSaslTest, ReauthenticatesAfterAReconnect) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<TcpRelay> relay,
                          TcpRelay::Start(server_->connect_string));
  std::atomic<int> asked{0};
  ClientOptions options = SaslClientOptions("alice", "", relay->connect_string());
  options.sasl->password_callback = [&asked] {
    ++asked;
    return std::string(kAlicePassword);
  };
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> alice, ConnectAndWait(std::move(options)));
  CloseOnExit close_alice(alice);
  ASSERT_NO_FATAL_FAILURE(CreateAliceOnlyNode(*alice, "/sasl-alice"));
  SessionLog sessions;
  Subscription subscription = alice->SubscribeSessionEvents(sessions.Callback());

  relay->ResetConnections();
  ASSERT_TRUE(sessions.WaitForResumption(alice->session_id()));
  EXPECT_EQ(asked.load(), 2);
  EXPECT_EQ(log_.Count("SASL authenticated as alice"), 2);
  ZK_ASSERT_OK_AND_ASSIGN(GetResult got, alice->Get("/sasl-alice"));
  EXPECT_EQ(got.data, "for alice");
  ZK_ASSERT_OK_AND_ASSIGN(std::vector<ClientIdentity> ids, alice->WhoAmI());
  EXPECT_THAT(ids, Contains(ClientIdentity{"sasl", "alice"}));
}

// The server expires the session: the client opens a new one and authenticates it too.
TEST_F(ClientSaslTest, ReauthenticatesTheNewSessionAfterExpiry) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> alice,
                          ConnectAndWait(SaslClientOptions("alice", kAlicePassword)));
  CloseOnExit close_alice(alice);
  ASSERT_NO_FATAL_FAILURE(CreateAliceOnlyNode(*alice, "/sasl-alice"));
  SessionLog sessions;
  Subscription subscription = alice->SubscribeSessionEvents(sessions.Callback());
  const int64_t old_session = alice->session_id();

  ASSERT_THAT(server_->expire(old_session, alice->session_password()), IsOk());
  const std::optional<size_t> lost = sessions.WaitForState(SessionState::kLost);
  ASSERT_TRUE(lost.has_value()) << ::testing::PrintToString(sessions.events());
  const std::optional<size_t> back = sessions.WaitForState(SessionState::kReconnected, *lost);
  ASSERT_TRUE(back.has_value()) << ::testing::PrintToString(sessions.events());
  EXPECT_TRUE(sessions.events()[*back].new_session);
  EXPECT_NE(alice->session_id(), old_session);
  ZK_ASSERT_OK_AND_ASSIGN(GetResult got, alice->Get("/sasl-alice"));
  EXPECT_EQ(got.data, "for alice");
  ZK_ASSERT_OK_AND_ASSIGN(std::vector<ClientIdentity> ids, alice->WhoAmI());
  EXPECT_THAT(ids, Contains(ClientIdentity{"sasl", "alice"}));
}

TEST_F(ClientSaslTest, InvalidOptionsFailConnect) {
  ClientOptions no_user = SaslClientOptions("", kAlicePassword);
  EXPECT_THAT(Client::Connect(no_user),
              StatusIs(absl::StatusCode::kInvalidArgument, "sasl.user is empty"));
  ClientOptions clib = SaslClientOptions("alice", kAlicePassword);
  clib.engine = EngineKind::kCLibrary;
  EXPECT_THAT(Client::Connect(clib), StatusIs(absl::StatusCode::kInvalidArgument, "sasl"));
}

}  // namespace
}  // namespace zk::testing
