// zkcpp client tests: the ZooKeeper 3.6+ ops (WhoAmI, GetEphemerals, GetAllChildrenNumber,
// MultiRead), on every backend. Registered once per engine: on the native engine they must give
// the server's answers; on the C-library engine, which has no call for them, Unimplemented
// before any I/O.
// Their coroutine awaiters are tested in client_coro_test.cc.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "zk/client.h"
#include "zk/internal/sync.h"

namespace zk::testing {
namespace {

using ::testing::Contains;
using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class ClientNewOpsTest : public ClientTest {
 protected:
  void SetUp() override {
    if (!NativeEngineFromEnvironment()) {
      GTEST_SKIP() << "native engine only; ClientNewOpsClibTest covers the C-library engine";
    }
    ClientTest::SetUp();
  }
};

// --- whoAmI -----------------------------------------------------------------------------------

TEST_P(ClientNewOpsTest, WhoAmIListsTheConnectionsIpAndAddedCredentials) {
  ZK_ASSERT_OK_AND_ASSIGN(std::vector<ClientIdentity> before, client().WhoAmI());
  EXPECT_THAT(before, UnorderedElementsAre(ClientIdentity{"ip", "127.0.0.1"}));

  ASSERT_THAT(client().AddAuth("digest", "alice:secret"), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(std::vector<ClientIdentity> after, client().WhoAmI());
  // The digest scheme reports the user name, not the ACL id "alice:<hash>".
  EXPECT_THAT(after, UnorderedElementsAre(ClientIdentity{"ip", "127.0.0.1"},
                                          ClientIdentity{"digest", "alice"}));
  EXPECT_GE(client().Metrics().of(Operation::kWhoAmI).count, 2u);
}

TEST_P(ClientNewOpsTest, WhoAmIIncludesDigestAuthOfTheOptions) {
  ClientOptions options = Options();
  options.digest_auth.push_back({.user = "bob", .password = "pw"});
  std::unique_ptr<Client> other = NewClient(std::move(options));
  ASSERT_NE(other, nullptr);
  EXPECT_THAT(other->WhoAmI(), IsOkAndHolds(UnorderedElementsAre(ClientIdentity{"ip", "127.0.0.1"},
                                                                 ClientIdentity{"digest", "bob"})));
}

// --- getEphemerals --------------------------------------------------------------------------

TEST_P(ClientNewOpsTest, GetEphemeralsListsOwnEphemeralsByStringPrefix) {
  const CreateOptions ephemeral{.mode = CreateMode::kEphemeral};
  ASSERT_THAT(client().Create(P("e1"), "", ephemeral), IsOk());
  ASSERT_THAT(client().Create(P("e1x"), "", ephemeral), IsOk());
  ASSERT_THAT(client().Create(P("dir"), ""), IsOk());
  ASSERT_THAT(client().Create(P("dir/e2"), "", ephemeral), IsOk());
  ASSERT_THAT(client().Create(P("persistent"), ""), IsOk());
  // Another session's ephemeral is not ours.
  std::unique_ptr<Client> other = NewClient();
  ASSERT_NE(other, nullptr);
  ASSERT_THAT(other->Create(P("theirs"), "", ephemeral), IsOk());

  EXPECT_THAT(client().GetEphemerals(),
              IsOkAndHolds(UnorderedElementsAre(P("e1"), P("e1x"), P("dir/e2"))));
  EXPECT_THAT(client().GetEphemerals("/"),
              IsOkAndHolds(UnorderedElementsAre(P("e1"), P("e1x"), P("dir/e2"))));
  // A string prefix, as the server matches it: "e1" also matches "e1x".
  EXPECT_THAT(client().GetEphemerals(P("e1")),
              IsOkAndHolds(UnorderedElementsAre(P("e1"), P("e1x"))));
  EXPECT_THAT(client().GetEphemerals(P("dir")), IsOkAndHolds(UnorderedElementsAre(P("dir/e2"))));
  EXPECT_THAT(client().GetEphemerals(P("missing")), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(other->GetEphemerals(Root()), IsOkAndHolds(UnorderedElementsAre(P("theirs"))));

  ASSERT_THAT(client().Delete(P("e1x")), IsOk());
  EXPECT_THAT(client().GetEphemerals(P("e1")), IsOkAndHolds(UnorderedElementsAre(P("e1"))));
}

TEST_P(ClientNewOpsTest, GetEphemeralsRejectsAnInvalidPrefixBeforeIo) {
  EXPECT_THAT(client().GetEphemerals("relative"),
              StatusIs(absl::StatusCode::kInvalidArgument, "get_ephemerals relative"));
  EXPECT_THAT(client().GetEphemerals(P("dir/")),
              StatusIs(absl::StatusCode::kInvalidArgument, "get_ephemerals " + P("dir/")));
  EXPECT_EQ(client().Metrics().of(Operation::kGetEphemerals).count, 0u);
}

TEST_P(ClientNewOpsTest, GetEphemeralsUnderAChrootReturnsClientPaths) {
  const std::string chroot = P("app");
  ASSERT_THAT(client().Create(chroot, ""), IsOk());
  ClientOptions options = Options();
  options.chroot = chroot;
  std::unique_ptr<Client> rooted = NewClient(std::move(options));
  ASSERT_NE(rooted, nullptr);
  const CreateOptions ephemeral{.mode = CreateMode::kEphemeral};
  ASSERT_THAT(rooted->Create("/e", "", ephemeral), IsOk());
  ASSERT_THAT(rooted->Create("/d", ""), IsOk());
  ASSERT_THAT(rooted->Create("/d/e2", "", ephemeral), IsOk());

  EXPECT_THAT(rooted->GetEphemerals(), IsOkAndHolds(UnorderedElementsAre("/e", "/d/e2")));
  EXPECT_THAT(rooted->GetEphemerals("/d"), IsOkAndHolds(UnorderedElementsAre("/d/e2")));
  EXPECT_THAT(rooted->GetEphemerals("/e"), IsOkAndHolds(UnorderedElementsAre("/e")));
  // The same nodes, seen from outside the chroot, are another session's.
  EXPECT_THAT(client().GetEphemerals(chroot), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(client().Exists(chroot + "/d/e2"), IsOkAndHolds(::testing::Optional(::testing::_)));
}

// --- getAllChildrenNumber -------------------------------------------------------------------

TEST_P(ClientNewOpsTest, GetAllChildrenNumberCountsEveryDescendant) {
  for (const char* name : {"t", "t/a", "t/b", "t/b/c", "t/b/d", "t/b/d/e"}) {
    ASSERT_THAT(client().Create(P(name), ""), IsOk());
  }
  EXPECT_THAT(client().GetAllChildrenNumber(P("t")), IsOkAndHolds(5));
  EXPECT_THAT(client().GetAllChildrenNumber(P("t/b")), IsOkAndHolds(3));
  EXPECT_THAT(client().GetAllChildrenNumber(P("t/b/d/e")), IsOkAndHolds(0));
  // "/" counts the whole tree, ZooKeeper's own /zookeeper nodes included.
  EXPECT_THAT(client().GetAllChildrenNumber("/"), IsOkAndHolds(Ge(6 + 2)));

  ASSERT_THAT(client().Delete(P("t/b/d/e")), IsOk());
  EXPECT_THAT(client().GetAllChildrenNumber(P("t")), IsOkAndHolds(4));
}

TEST_P(ClientNewOpsTest, GetAllChildrenNumberErrorsNameOpAndPath) {
  const std::string missing = P("missing");
  absl::StatusOr<int32_t> count = client().GetAllChildrenNumber(missing);
  EXPECT_THAT(count, StatusIs(absl::StatusCode::kNotFound, "get_all_children_number " + missing));
  EXPECT_TRUE(IsNoNode(count.status()));

  // No READ permission for anyone: NOAUTH.
  const std::string closed = P("closed");
  ASSERT_THAT(client().Create(closed, "",
                              {.acl = {Acl{kPermWrite | kPermAdmin, Id{"world", "anyone"}}}}),
              IsOk());
  EXPECT_THAT(client().GetAllChildrenNumber(closed),
              StatusIs(absl::StatusCode::kPermissionDenied, "get_all_children_number " + closed));

  EXPECT_THAT(client().GetAllChildrenNumber("no-slash"),
              StatusIs(absl::StatusCode::kInvalidArgument, "get_all_children_number no-slash"));
}

// --- chroot ------------------------------------------------------------------------------

TEST_P(ClientNewOpsTest, GetAllChildrenNumberUnderAChroot) {
  const std::string chroot = P("app");
  ASSERT_THAT(client().Create(chroot, ""), IsOk());
  ASSERT_THAT(client().Create(chroot + "/a", ""), IsOk());
  ASSERT_THAT(client().Create(chroot + "/a/b", ""), IsOk());
  ClientOptions options = Options();
  options.chroot = chroot;
  std::unique_ptr<Client> rooted = NewClient(std::move(options));
  ASSERT_NE(rooted, nullptr);
  EXPECT_THAT(rooted->GetAllChildrenNumber("/"), IsOkAndHolds(2));
  EXPECT_THAT(rooted->GetAllChildrenNumber("/a"), IsOkAndHolds(1));
  EXPECT_THAT(rooted->GetAllChildrenNumber("/nope"),
              StatusIs(absl::StatusCode::kNotFound, "get_all_children_number /nope"));
}

// --- multiRead ------------------------------------------------------------------------------

TEST_P(ClientNewOpsTest, MultiReadAnswersEveryOpOnItsOwn) {
  ASSERT_THAT(client().Create(P("a"), "A"), IsOk());
  ASSERT_THAT(client().Create(P("a/c1"), ""), IsOk());
  ASSERT_THAT(client().Create(P("a/c2"), ""), IsOk());
  ASSERT_THAT(client().Create(P("closed"), "",
                              {.acl = {Acl{kPermWrite | kPermAdmin, Id{"world", "anyone"}}}}),
              IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(Stat a_stat, client().Set(P("a"), "A2"));
  ZK_ASSERT_OK_AND_ASSIGN(
      MultiReadResult read,
      client().MultiRead({op::Get{P("a")}, op::GetChildren{P("a")}, op::Get{P("missing")},
                          op::GetChildren{P("missing")}, op::Get{P("closed")},
                          op::Get{P("a/c1")}}));
  ASSERT_EQ(read.results.size(), 6u);
  EXPECT_THAT(read.results[0].status, IsOk());
  EXPECT_EQ(read.results[0].data, "A2");
  EXPECT_EQ(read.results[0].stat, a_stat);
  EXPECT_THAT(read.results[1].status, IsOk());
  EXPECT_THAT(read.results[1].children, UnorderedElementsAre("c1", "c2"));
  EXPECT_THAT(read.results[2].status,
              StatusIs(absl::StatusCode::kNotFound, "get " + P("missing")));
  EXPECT_TRUE(IsNoNode(read.results[2].status));
  EXPECT_THAT(read.results[3].status,
              StatusIs(absl::StatusCode::kNotFound, "get_children " + P("missing")));
  EXPECT_THAT(read.results[4].status,
              StatusIs(absl::StatusCode::kPermissionDenied, "get " + P("closed")));
  // An op after failed ones is still answered.
  EXPECT_THAT(read.results[5].status, IsOk());
  EXPECT_EQ(read.results[5].data, "");
  EXPECT_GT(read.results[5].stat.czxid, 0);
  EXPECT_GE(client().Metrics().of(Operation::kMultiRead).count, 1u);
}

TEST_P(ClientNewOpsTest, MultiReadChecksPathsBeforeIoAndAcceptsNoOps) {
  EXPECT_THAT(client().MultiRead({op::Get{P("a")}, op::GetChildren{"relative"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "multi_read op 2 of 2 (get_children) relative"));
  ZK_ASSERT_OK_AND_ASSIGN(MultiReadResult none, client().MultiRead({}));
  EXPECT_THAT(none.results, IsEmpty());
  EXPECT_EQ(client().Metrics().of(Operation::kMultiRead).count, 0u);
}

TEST_P(ClientNewOpsTest, MultiReadUnderAChroot) {
  const std::string chroot = P("app");
  ASSERT_THAT(client().Create(chroot, "root"), IsOk());
  ASSERT_THAT(client().Create(chroot + "/x", "X"), IsOk());
  ClientOptions options = Options();
  options.chroot = chroot;
  std::unique_ptr<Client> rooted = NewClient(std::move(options));
  ASSERT_NE(rooted, nullptr);
  ZK_ASSERT_OK_AND_ASSIGN(
      MultiReadResult read,
      rooted->MultiRead({op::Get{"/"}, op::GetChildren{"/"}, op::Get{"/x"}, op::Get{"/y"}}));
  ASSERT_EQ(read.results.size(), 4u);
  EXPECT_EQ(read.results[0].data, "root");
  EXPECT_THAT(read.results[1].children, UnorderedElementsAre("x"));
  EXPECT_EQ(read.results[2].data, "X");
  EXPECT_THAT(read.results[3].status, StatusIs(absl::StatusCode::kNotFound, "get /y"));
}

// --- the C-library engine -------------------------------------------------------------------

class ClientNewOpsClibTest : public ClientTest {
 protected:
  void SetUp() override {
    if (NativeEngineFromEnvironment()) {
      GTEST_SKIP() << "C-library engine only; ClientNewOpsTest covers the native engine";
    }
    ClientTest::SetUp();
  }
};

TEST_P(ClientNewOpsClibTest, EveryNewOpIsUnimplementedAndPointsToTheNativeEngine) {
  ASSERT_THAT(client().Create(P("node"), ""), IsOk());
  const auto unimplemented = [](std::string_view op) {
    return StatusIs(absl::StatusCode::kUnimplemented, std::string(op));
  };
  absl::StatusOr<std::vector<ClientIdentity>> who = client().WhoAmI();
  EXPECT_THAT(who, unimplemented("who_am_i: the C library engine lacks this operation"));
  EXPECT_THAT(who.status().message(), HasSubstr("use the native engine"));
  EXPECT_THAT(client().GetEphemerals(Root()),
              unimplemented("get_ephemerals " + Root() + ": the C library engine lacks"));
  EXPECT_THAT(client().GetAllChildrenNumber(P("node")),
              unimplemented("get_all_children_number " + P("node") + ": the C library engine"));
  EXPECT_THAT(client().MultiRead({op::Get{P("node")}}),
              unimplemented("multi_read: the C library engine lacks this operation"));
  // Refused before any I/O: nothing was sent, and the session carries on.
  EXPECT_EQ(client().Metrics().of(Operation::kWhoAmI).count, 0u);
  EXPECT_THAT(client().Get(P("node")), IsOk());

  // The async forms complete through the callback as well.
  zk::internal::Notification done;
  absl::Status async_status;
  client().AsyncGetAllChildrenNumber(P("node"), [&](absl::StatusOr<int32_t> result) {
    async_status = result.status();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_THAT(async_status, StatusIs(absl::StatusCode::kUnimplemented));
}

ZK_INSTANTIATE_BACKEND_TEST(ClientNewOpsTest);
ZK_INSTANTIATE_BACKEND_TEST(ClientNewOpsClibTest);

}  // namespace
}  // namespace zk::testing
