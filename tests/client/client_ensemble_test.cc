// zkcpp client tests on a real 3-node ZooKeeper ensemble: failover to another member keeps the
// session, its ephemerals and its watches; Sync makes a follower catch up.
//
// EnsembleFailoverTest.* kill members (labels "ensemble;fault"); EnsembleTest.* do not
// (label "ensemble").

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/net.h"
#include "zk/client.h"
#include "zk/testing/real_ensemble.h"

namespace zk::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;

class EnsembleTestBase : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<RealEnsemble>> started = RealEnsemble::Start({});
    if (started.ok()) {
      ensemble_ = started->release();
    } else {
      start_error_ = new absl::Status(started.status());
    }
  }
  static void TearDownTestSuite() {
    delete ensemble_;
    ensemble_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(ensemble_, nullptr) << "cannot start the ensemble: " << *start_error_;
    ASSERT_THAT(ensemble_->ReviveAll(), IsOk());
    root_ = "/zkcpp-test/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  RealEnsemble& ensemble() { return *ensemble_; }
  std::string P(std::string_view name) const { return JoinPath(root_, name); }

  // The member whose `cons` lists `session_id`, or -1.
  int MemberServing(int64_t session_id) {
    const std::string needle = absl::StrCat("sid=0x", absl::Hex(session_id));
    for (int i = 0; i < ensemble_->size(); ++i) {
      if (!ensemble_->member_running(i)) continue;
      absl::StatusOr<std::string> cons =
          FourLetterWord(ensemble_->member_connect_string(i), "cons", absl::Now() + absl::Seconds(5));
      if (cons.ok() && cons->find(needle) != std::string::npos) return i;
    }
    return -1;
  }

  static RealEnsemble* ensemble_;
  static absl::Status* start_error_;
  std::string root_;
};
RealEnsemble* EnsembleTestBase::ensemble_ = nullptr;
absl::Status* EnsembleTestBase::start_error_ = nullptr;

class EnsembleTest : public EnsembleTestBase {};
class EnsembleFailoverTest : public EnsembleTestBase {};

// Writes through one member are visible through another after Sync.
TEST_F(EnsembleTest, SyncMakesAnotherMemberSeeTheWrite) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> writer,
                          ConnectAndWait(TestOptions(ensemble().member_connect_string(0))));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> reader,
                          ConnectAndWait(TestOptions(ensemble().member_connect_string(2))));
  ASSERT_THAT(writer->EnsurePath(root_), IsOk());
  for (int i = 0; i < 20; ++i) {
    ASSERT_THAT(writer->Create(P("n" + std::to_string(i)), std::to_string(i)), IsOk());
    ASSERT_THAT(reader->Sync(P("n" + std::to_string(i))), IsOk());
    EXPECT_THAT(reader->Get(P("n" + std::to_string(i))),
                IsOkAndHolds(::testing::Field(&GetResult::data, std::to_string(i))));
  }
}

// Kill the member the client is connected to: the client fails over to another member with the
// same session; ephemerals and watches survive, and the watches fire afterwards.
TEST_F(EnsembleFailoverTest, KillingTheConnectedMemberKeepsSessionAndWatches) {
  ClientOptions options = TestOptions(ensemble().connect_string(), std::chrono::milliseconds(8000));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, ConnectAndWait(options));
  SessionLog log;
  Subscription sub = client->SubscribeSessionEvents(log.Callback());
  ASSERT_THAT(client->EnsurePath(root_), IsOk());
  ASSERT_THAT(client->Create(P("data"), "v0"), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult eph,
                          client->Create(P("eph"), "", {.mode = CreateMode::kEphemeral}));
  EventLog data_watch, child_watch;
  ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> w1, client->GetAndWatch(P("data"), data_watch.Callback()));
  ZK_ASSERT_OK_AND_ASSIGN(Watched<ChildrenResult> w2,
                          client->GetChildrenAndWatch(root_, child_watch.Callback()));
  EventLog persistent;
  ZK_ASSERT_OK_AND_ASSIGN(Watch pw, client->AddPersistentWatch(P("data"), {}, persistent.Callback()));
  const int64_t session = client->session_id();

  const int member = MemberServing(session);
  ASSERT_GE(member, 0) << "no member lists session 0x" << std::hex << session;
  ASSERT_THAT(ensemble().KillMember(member), IsOk());

  ASSERT_TRUE(log.WaitForResumption(session));
  EXPECT_EQ(client->session_id(), session);
  const int new_member = MemberServing(session);
  EXPECT_NE(new_member, member);
  EXPECT_GE(new_member, 0);

  ZK_ASSERT_OK_AND_ASSIGN(std::optional<Stat> still, client->Exists(P("eph")));
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->ephemeral_owner, session);
  EXPECT_EQ(still->czxid, eph.stat.czxid);

  // Changes made by someone else after the failover reach the old watches.
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> other,
                          ConnectAndWait(TestOptions(ensemble().connect_string())));
  ASSERT_THAT(other->Set(P("data"), "v1"), IsOk());
  ASSERT_THAT(other->Create(P("kid"), ""), IsOk());
  ASSERT_TRUE(data_watch.WaitForSize(1));
  ASSERT_TRUE(child_watch.WaitForSize(1));
  EXPECT_THAT(data_watch.events(), ElementsAre(EventIs(WatchEventType::kDataChanged, P("data"))));
  EXPECT_THAT(child_watch.events(), ElementsAre(EventIs(WatchEventType::kChildrenChanged, root_)));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::vector<WatchEvent> events = persistent.events();
        return !events.empty() && events.back().type == WatchEventType::kDataChanged;
      },
      kWait));
  EXPECT_THAT(client->Get(P("data")), IsOkAndHolds(::testing::Field(&GetResult::data, "v1")));
}

// Kill the leader (whoever the client talks to): writes resume after the election, on the same
// session.
TEST_F(EnsembleFailoverTest, LeaderLossKeepsSession) {
  ClientOptions options = TestOptions(ensemble().connect_string(), std::chrono::milliseconds(8000));
  options.operation_timeout = std::chrono::seconds(20);
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, ConnectAndWait(options));
  ASSERT_THAT(client->EnsurePath(root_), IsOk());
  ASSERT_THAT(client->Create(P("eph"), "", {.mode = CreateMode::kEphemeral}), IsOk());
  const int64_t session = client->session_id();
  ZK_ASSERT_OK_AND_ASSIGN(int leader, ensemble().LeaderIndex());
  ASSERT_THAT(ensemble().KillMember(leader), IsOk());
  ASSERT_THAT(ensemble().WaitForQuorum(absl::Now() + absl::Seconds(30)), IsOk());
  // Writes work again (possibly after a retry while the client reconnects).
  ASSERT_TRUE(WaitFor([&] { return client->Create(P("after"), "").ok() ||
                                   client->Exists(P("after")).value_or(std::nullopt).has_value(); },
                      kWait));
  EXPECT_EQ(client->session_id(), session);
  ZK_ASSERT_OK_AND_ASSIGN(std::optional<Stat> eph, client->Exists(P("eph")));
  ASSERT_TRUE(eph.has_value());
  EXPECT_EQ(eph->ephemeral_owner, session);
}

}  // namespace
}  // namespace zk::testing
