// zk::Client over TLS (ClientOptions::tls, the native engine) against a real 3-node
// ZooKeeper 3.8 ensemble whose members all serve TLS on a secureClientPort of their own
// (RealEnsembleOptions::tls), with key material made for the run
// (zk/testing/test_certificates.h).
//
// One ensemble serves the whole suite: its JVMs start once. The failover test kills the member
// the client talks to and checks that a new TLS handshake with another member resumes the same
// session, with its ephemeral node and its watch.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "client_test_util.h"
#include "harness/net.h"
#include "tls_suite_test.h"
#include "zk/testing/real_ensemble.h"

namespace zk::testing {
namespace {

using ::testing::ElementsAre;

class ClientTlsEnsembleTest : public TlsSuiteTest {
 protected:
  static void SetUpTestSuite() {
    if (!CreateCertificates()) return;
    RealEnsembleOptions options;
    options.tls = RealZooKeeperTls{.key_store = pki_->server_key_store(),
                                   .trust_store = pki_->ca_file()};
    absl::StatusOr<std::unique_ptr<RealEnsemble>> started = RealEnsemble::Start(std::move(options));
    if (!started.ok()) {
      SetSetupError(started.status());
      return;
    }
    ensemble_ = started->release();
  }

  static void TearDownTestSuite() {
    delete ensemble_;
    ensemble_ = nullptr;
    DeleteCertificates();
  }

  void SetUp() override {
    TlsSuiteTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_THAT(ensemble_->ReviveAll(), IsOk());
  }

  // Options for a native-engine TLS client of every member's TLS port that trusts the test CA.
  static ClientOptions TlsClientOptions() {
    ClientOptions options =
        TestOptions(ensemble_->secure_connect_string(), std::chrono::milliseconds(8000));
    options.engine = EngineKind::kNative;
    options.tls = TlsOptions{.ca_file = pki_->ca_file()};
    return options;
  }

  // Returns the running member whose `wchc` (watches by session, asked on its plain port)
  // lists `session_id`, or -1: the member the session's connection is on, if it has a watch.
  // (`cons` on the plain port lists only that port's connections, not the TLS port's.)
  static int MemberWatchingFor(int64_t session_id) {
    const std::string needle = absl::StrCat("0x", absl::Hex(session_id), "\n");
    for (int i = 0; i < ensemble_->size(); ++i) {
      if (!ensemble_->member_running(i)) continue;
      absl::StatusOr<std::string> wchc = FourLetterWord(ensemble_->member_connect_string(i),
                                                        "wchc", absl::Now() + absl::Seconds(5));
      if (wchc.ok() && wchc->find(needle) != std::string::npos) return i;
    }
    return -1;
  }

  static inline RealEnsemble* ensemble_ = nullptr;
};

// Every member serves TLS on its own port, and the connect string lists them all.
TEST_F(ClientTlsEnsembleTest, EveryMemberServesTls) {
  std::string expected;
  for (int i = 0; i < ensemble_->size(); ++i) {
    EXPECT_GT(ensemble_->member_secure_port(i), 0);
    EXPECT_EQ(ensemble_->member_secure_connect_string(i),
              absl::StrCat("127.0.0.1:", ensemble_->member_secure_port(i)));
    absl::StrAppend(&expected, i == 0 ? "" : ",", ensemble_->member_secure_connect_string(i));
    ClientOptions options = TlsClientOptions();
    options.connect_string = ensemble_->member_secure_connect_string(i);
    absl::StatusOr<std::unique_ptr<Client>> client = ConnectAndWait(std::move(options));
    ASSERT_THAT(client, IsOk()) << "member " << i;
    EXPECT_THAT((*client)->Exists("/"), IsOk()) << "member " << i;
    (*client)->Close();
  }
  EXPECT_EQ(ensemble_->secure_connect_string(), expected);
}

// Kill (SIGKILL) the member the TLS client talks to: the client fails over to another member's
// TLS port with the same session; its ephemeral node stays its own, its watch fires for a
// change made after the failover, and operations work.
TEST_F(ClientTlsEnsembleTest, KillingTheConnectedMemberFailsOverOverTlsWithTheSameSession) {
  SessionLog sessions;
  EventLog events;
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, ConnectAndWait(TlsClientOptions()));
  CloseOnExit close(client);
  Subscription subscription = client->SubscribeSessionEvents(sessions.Callback());
  const int64_t session = client->session_id();
  ASSERT_THAT(client->EnsurePath("/tls-failover"), IsOk());
  absl::StatusOr<CreateResult> eph =
      client->Create("/tls-failover/eph", "", {.mode = CreateMode::kEphemeral});
  ASSERT_THAT(eph, IsOk());
  ASSERT_THAT(client->Create("/tls-failover/data", "v0"), IsOk());
  absl::StatusOr<Watched<GetResult>> watched =
      client->GetAndWatch("/tls-failover/data", events.Callback());
  ASSERT_THAT(watched, IsOk());

  const int member = MemberWatchingFor(session);
  ASSERT_GE(member, 0) << "no member holds a watch of session 0x" << std::hex << session;
  ASSERT_THAT(ensemble_->KillMember(member), IsOk());

  ASSERT_TRUE(sessions.WaitForResumption(session));
  EXPECT_EQ(client->session_id(), session);

  absl::StatusOr<std::optional<Stat>> still = client->Exists("/tls-failover/eph");
  ASSERT_THAT(still, IsOk());
  ASSERT_TRUE(still->has_value());
  EXPECT_EQ((*still)->ephemeral_owner, session);
  EXPECT_EQ((*still)->czxid, eph->stat.czxid);
  // The watch was restored on the member the client now talks to (the Exists above went after
  // it on the same connection). The client knows only TLS ports: that connection is TLS.
  const int new_member = MemberWatchingFor(session);
  EXPECT_GE(new_member, 0);
  EXPECT_NE(new_member, member);

  // A change made by another client after the failover reaches the watch.
  absl::StatusOr<std::unique_ptr<Client>> other = ConnectAndWait(TlsClientOptions());
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT((*other)->Set("/tls-failover/data", "v1"), IsOk());
  ASSERT_TRUE(events.WaitForSize(1));
  EXPECT_THAT(events.events(),
              ElementsAre(EventIs(WatchEventType::kDataChanged, "/tls-failover/data")));
  (*other)->Close();

  // Reads and writes work on the resumed session.
  EXPECT_THAT(client->Get("/tls-failover/data"),
              IsOkAndHolds(::testing::Field(&GetResult::data, "v1")));
  ASSERT_THAT(client->Create("/tls-failover/after", "x"), IsOk());
  EXPECT_THAT(client->Delete("/tls-failover/after"), IsOk());
}

}  // namespace
}  // namespace zk::testing
