// zkcpp client tests: every operation and its error paths, on every backend.

#include <atomic>
#include <chrono>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "zk/internal/sync.h"
#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "zk/client.h"

namespace zk::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

class ClientOpsTest : public ClientTest {};

bool MatchesRegex(const std::string& text, const std::string& pattern) {
  return std::regex_match(text, std::regex(pattern));
}

// --- create -----------------------------------------------------------------------------------

TEST_P(ClientOpsTest, CreatePersistentReturnsPathAndStat) {
  const std::string path = P("node");
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult created, client().Create(path, "hello"));
  EXPECT_EQ(created.path, path);
  EXPECT_EQ(created.stat.version, 0);
  EXPECT_EQ(created.stat.data_length, 5);
  EXPECT_EQ(created.stat.ephemeral_owner, 0);
  EXPECT_EQ(created.stat.num_children, 0);
  EXPECT_GT(created.stat.czxid, 0);
  EXPECT_EQ(created.stat.czxid, created.stat.mzxid);
  EXPECT_GT(created.stat.ctime, 0);

  ZK_ASSERT_OK_AND_ASSIGN(GetResult got, client().Get(path));
  EXPECT_EQ(got.data, "hello");
  EXPECT_EQ(got.stat, created.stat);

  absl::StatusOr<CreateResult> again = client().Create(path, "x");
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kAlreadyExists, "create " + path));
  EXPECT_TRUE(IsNodeExists(again.status()));
}

TEST_P(ClientOpsTest, CreateWithMissingParentIsNotFound) {
  const std::string path = P("missing/child");
  absl::StatusOr<CreateResult> created = client().Create(path, "");
  EXPECT_THAT(created, StatusIs(absl::StatusCode::kNotFound, "create " + path));
  EXPECT_TRUE(IsNoNode(created.status()));
}

TEST_P(ClientOpsTest, CreateParentsCreatesMissingAncestors) {
  const std::string path = P("a/b/c");
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult created,
                          client().Create(path, "leaf", {.create_parents = true}));
  EXPECT_EQ(created.path, path);
  EXPECT_THAT(client().Get(P("a")), IsOkAndHolds(::testing::Field(&GetResult::data, "")));
  EXPECT_THAT(client().Get(path), IsOkAndHolds(::testing::Field(&GetResult::data, "leaf")));
  // An existing ancestor is fine; the target itself must not exist.
  EXPECT_THAT(client().Create(P("a/b/d"), "", {.create_parents = true}), IsOk());
  EXPECT_THAT(client().Create(path, "", {.create_parents = true}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // Sequential with parents.
  ZK_ASSERT_OK_AND_ASSIGN(
      CreateResult seq, client().Create(P("x/y/s-"), "", {.mode = CreateMode::kPersistentSequential,
                                                         .create_parents = true}));
  EXPECT_TRUE(MatchesRegex(seq.path, P("x/y/s-") + "[0-9]{10}")) << seq.path;
}

TEST_P(ClientOpsTest, CreateEphemeralIsOwnedAndGoesWithTheSession) {
  const std::string path = P("eph");
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult created,
                          client().Create(path, "e", {.mode = CreateMode::kEphemeral}));
  EXPECT_EQ(created.stat.ephemeral_owner, client().session_id());
  EXPECT_NE(created.stat.ephemeral_owner, 0);
  absl::StatusOr<CreateResult> child = client().Create(path + "/child", "");
  EXPECT_THAT(child, StatusIs(absl::StatusCode::kFailedPrecondition, "create " + path + "/child"));
  EXPECT_TRUE(IsZooError(child.status(), ZooError::kNoChildrenForEphemerals));

  std::unique_ptr<Client> other = NewClient();
  ASSERT_NE(other, nullptr);
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult theirs,
                          other->Create(P("theirs"), "", {.mode = CreateMode::kEphemeral}));
  EXPECT_EQ(theirs.stat.ephemeral_owner, other->session_id());
  other->Close();
  // Close ends the session at once: its ephemeral is gone, ours stays.
  EXPECT_THAT(client().Exists(P("theirs")), IsOkAndHolds(Eq(std::nullopt)));
  EXPECT_THAT(client().Exists(path), IsOkAndHolds(::testing::Ne(std::nullopt)));
}

TEST_P(ClientOpsTest, CreateSequentialAppendsTenDigits) {
  std::vector<std::string> paths;
  for (int i = 0; i < 3; ++i) {
    ZK_ASSERT_OK_AND_ASSIGN(CreateResult created,
                            client().Create(P("seq-"), "", {.mode = CreateMode::kPersistentSequential}));
    EXPECT_TRUE(MatchesRegex(created.path, P("seq-") + "[0-9]{10}")) << created.path;
    EXPECT_THAT(client().Exists(created.path), IsOkAndHolds(::testing::Ne(std::nullopt)));
    paths.push_back(created.path);
  }
  EXPECT_LT(paths[0], paths[1]);
  EXPECT_LT(paths[1], paths[2]);

  ZK_ASSERT_OK_AND_ASSIGN(CreateResult eph,
                          client().Create(P("eseq-"), "", {.mode = CreateMode::kEphemeralSequential}));
  EXPECT_TRUE(MatchesRegex(eph.path, P("eseq-") + "[0-9]{10}")) << eph.path;
  EXPECT_EQ(eph.stat.ephemeral_owner, client().session_id());

  // A trailing '/' names the node by its counter alone.
  ASSERT_THAT(client().Create(P("dir"), ""), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult bare,
                          client().Create(P("dir") + "/", "", {.mode = CreateMode::kPersistentSequential}));
  EXPECT_TRUE(MatchesRegex(bare.path, P("dir") + "/[0-9]{10}")) << bare.path;
}

TEST_P(ClientOpsTest, ContainerIsRemovedAfterItsLastChild) {
  const std::string container = P("container");
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult created,
                          client().Create(container, "", {.mode = CreateMode::kContainer}));
  EXPECT_EQ(created.path, container);
  ASSERT_THAT(client().Create(container + "/child", ""), IsOk());
  ASSERT_THAT(client().Delete(container + "/child"), IsOk());
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<std::optional<Stat>> stat = client().Exists(container);
        return stat.ok() && !stat->has_value();
      },
      kWait))
      << "the server never removed the empty container";
}

TEST_P(ClientOpsTest, TtlNodesAreCreatedAndExpire) {
  const std::string ttl = P("ttl");
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult created,
                          client().Create(ttl, "t", {.mode = CreateMode::kPersistentWithTtl,
                                                     .ttl = std::chrono::milliseconds(200)}));
  EXPECT_EQ(created.path, ttl);
  EXPECT_EQ(created.stat.ephemeral_owner, 0);
  ZK_ASSERT_OK_AND_ASSIGN(
      CreateResult seq,
      client().Create(P("tseq-"), "", {.mode = CreateMode::kPersistentSequentialWithTtl,
                                       .ttl = std::chrono::hours(1)}));
  EXPECT_TRUE(MatchesRegex(seq.path, P("tseq-") + "[0-9]{10}")) << seq.path;
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<std::optional<Stat>> stat = client().Exists(ttl);
        return stat.ok() && !stat->has_value();
      },
      kWait))
      << "the TTL node never expired";
  // The one-hour TTL node is still there.
  EXPECT_THAT(client().Exists(seq.path), IsOkAndHolds(::testing::Ne(std::nullopt)));
}

TEST_P(ClientOpsTest, ProtectedCreateNamesNodeWithUuidPrefix) {
  const std::string pattern =
      "_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-lock-[0-9]{10}";
  std::set<std::string> names;
  for (CreateMode mode : {CreateMode::kEphemeralSequential, CreateMode::kPersistentSequential}) {
    ZK_ASSERT_OK_AND_ASSIGN(CreateResult created,
                            client().Create(P("lock-"), "me", {.mode = mode, .protect = true}));
    EXPECT_EQ(ParentPath(created.path), Root());
    const std::string name(BaseName(created.path));
    EXPECT_TRUE(MatchesRegex(name, pattern)) << name;
    EXPECT_EQ(created.stat.ephemeral_owner,
              mode == CreateMode::kEphemeralSequential ? client().session_id() : 0);
    EXPECT_THAT(client().Get(created.path), IsOkAndHolds(::testing::Field(&GetResult::data, "me")));
    names.insert(name.substr(0, 40));
  }
  EXPECT_EQ(names.size(), 2u) << "each protected create needs its own uuid";
  ZK_ASSERT_OK_AND_ASSIGN(ChildrenResult children, client().GetChildren(Root()));
  EXPECT_THAT(children.children, SizeIs(2));
}

// --- delete -----------------------------------------------------------------------------------

TEST_P(ClientOpsTest, DeleteHonoursVersions) {
  const std::string path = P("d");
  ASSERT_THAT(client().Create(path, "v0"), IsOk());
  ASSERT_THAT(client().Set(path, "v1"), IsOk());  // version 1

  absl::Status bad = client().Delete(path, 0);
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kAborted, "delete " + path));
  EXPECT_TRUE(IsBadVersion(bad));
  EXPECT_THAT(client().Exists(path), IsOkAndHolds(::testing::Ne(std::nullopt)));

  EXPECT_THAT(client().Delete(path, 1), IsOk());
  EXPECT_THAT(client().Exists(path), IsOkAndHolds(Eq(std::nullopt)));

  absl::Status missing = client().Delete(path);
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound, "delete " + path));
  EXPECT_TRUE(IsNoNode(missing));

  ASSERT_THAT(client().Create(path, ""), IsOk());
  EXPECT_THAT(client().Delete(path), IsOk());  // any version
}

TEST_P(ClientOpsTest, DeleteOfNodeWithChildrenIsFailedPrecondition) {
  const std::string path = P("parent");
  ASSERT_THAT(client().Create(path + "/kid", "", {.create_parents = true}), IsOk());
  absl::Status deleted = client().Delete(path);
  EXPECT_THAT(deleted, StatusIs(absl::StatusCode::kFailedPrecondition, "delete " + path));
  EXPECT_TRUE(IsNotEmpty(deleted));
  EXPECT_THAT(client().Exists(path + "/kid"), IsOkAndHolds(::testing::Ne(std::nullopt)));
}

// --- exists / get / set -----------------------------------------------------------------------

TEST_P(ClientOpsTest, ExistsReturnsStatOrNullopt) {
  EXPECT_THAT(client().Exists(P("nope")), IsOkAndHolds(Eq(std::nullopt)));
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult created, client().Create(P("yes"), "abc"));
  ZK_ASSERT_OK_AND_ASSIGN(std::optional<Stat> stat, client().Exists(P("yes")));
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(*stat, created.stat);
  // The root always exists.
  EXPECT_THAT(client().Exists("/"), IsOkAndHolds(::testing::Ne(std::nullopt)));
}

TEST_P(ClientOpsTest, GetOfMissingNodeIsNotFoundNamingOpAndPath) {
  absl::StatusOr<GetResult> got = client().Get(P("nope"));
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kNotFound, "get " + P("nope")));
  EXPECT_EQ(ZooErrorOf(got.status()), ZooError::kNoNode);
  EXPECT_FALSE(IsUnknownOutcome(got.status()));
}

TEST_P(ClientOpsTest, GetReturnsBinaryAndLargeData) {
  static constexpr char kBinary[] = "\0\x01\xff\n zero\0end";
  const std::string binary(kBinary, sizeof(kBinary) - 1);  // embedded NULs included
  ASSERT_THAT(client().Create(P("bin"), binary), IsOk());
  EXPECT_THAT(client().Get(P("bin")), IsOkAndHolds(::testing::Field(&GetResult::data, binary)));

  std::string big(1000 * 1000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  ASSERT_THAT(client().Create(P("big"), big), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(GetResult got, client().Get(P("big")));
  EXPECT_EQ(got.stat.data_length, static_cast<int32_t>(big.size()));
  EXPECT_TRUE(got.data == big);

  ASSERT_THAT(client().Create(P("empty"), ""), IsOk());
  EXPECT_THAT(client().Get(P("empty")), IsOkAndHolds(::testing::Field(&GetResult::data, "")));
}

TEST_P(ClientOpsTest, SetHonoursVersionsAndReturnsStat) {
  const std::string path = P("s");
  ZK_ASSERT_OK_AND_ASSIGN(CreateResult created, client().Create(path, "v0"));
  ZK_ASSERT_OK_AND_ASSIGN(Stat s1, client().Set(path, "v1", 0));
  EXPECT_EQ(s1.version, 1);
  EXPECT_EQ(s1.data_length, 2);
  EXPECT_EQ(s1.czxid, created.stat.czxid);
  EXPECT_GT(s1.mzxid, created.stat.mzxid);

  absl::StatusOr<Stat> stale = client().Set(path, "v2", 0);
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted, "set " + path));
  EXPECT_TRUE(IsBadVersion(stale.status()));
  EXPECT_THAT(client().Get(path), IsOkAndHolds(::testing::Field(&GetResult::data, "v1")));

  ZK_ASSERT_OK_AND_ASSIGN(Stat s2, client().Set(path, "v2"));  // any version
  EXPECT_EQ(s2.version, 2);
  ZK_ASSERT_OK_AND_ASSIGN(GetResult got, client().Get(path));
  EXPECT_EQ(got.data, "v2");
  EXPECT_EQ(got.stat, s2);

  absl::StatusOr<Stat> missing = client().Set(P("nope"), "x");
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound, "set " + P("nope")));
  EXPECT_TRUE(IsNoNode(missing.status()));
}

// --- children ---------------------------------------------------------------------------------

TEST_P(ClientOpsTest, GetChildrenReturnsNamesAndParentStat) {
  const std::string parent = P("p");
  ASSERT_THAT(client().Create(parent, "pd"), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(ChildrenResult none, client().GetChildren(parent));
  EXPECT_THAT(none.children, IsEmpty());
  EXPECT_EQ(none.stat.num_children, 0);

  for (const char* name : {"a", "b", "c"}) ASSERT_THAT(client().Create(JoinPath(parent, name), ""), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(ChildrenResult three, client().GetChildren(parent));
  EXPECT_THAT(three.children, UnorderedElementsAre("a", "b", "c"));
  EXPECT_EQ(three.stat.num_children, 3);
  EXPECT_EQ(three.stat.cversion, 3);
  EXPECT_EQ(three.stat.data_length, 2);
  ZK_ASSERT_OK_AND_ASSIGN(GetResult parent_node, client().Get(parent));
  EXPECT_EQ(three.stat, parent_node.stat);

  absl::StatusOr<ChildrenResult> missing = client().GetChildren(P("nope"));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound, "get_children " + P("nope")));
}

// --- ACLs and auth ----------------------------------------------------------------------------

TEST_P(ClientOpsTest, DigestAclNeedsMatchingAuth) {
  const std::string path = P("secret");
  const AclList acl = {{kPermAll, {"digest", DigestId("alice", "wonder")}}};
  ASSERT_THAT(client().AddAuth("digest", "alice:wonder"), IsOk());
  ASSERT_THAT(client().Create(path, "s3cret", {.acl = acl}), IsOk());
  EXPECT_THAT(client().Get(path), IsOkAndHolds(::testing::Field(&GetResult::data, "s3cret")));
  ZK_ASSERT_OK_AND_ASSIGN(AclResult got_acl, client().GetAcl(path));
  EXPECT_EQ(got_acl.acl, acl);
  EXPECT_EQ(got_acl.stat.aversion, 0);

  // A client without credentials is refused.
  std::unique_ptr<Client> stranger = NewClient();
  ASSERT_NE(stranger, nullptr);
  absl::StatusOr<GetResult> denied = stranger->Get(path);
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kPermissionDenied, "get " + path));
  EXPECT_TRUE(IsZooError(denied.status(), ZooError::kNoAuth));
  EXPECT_THAT(stranger->Set(path, "x"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(stranger->Delete(path), IsOk()) << "delete is governed by the parent's ACL";
  ASSERT_THAT(client().Create(path, "s3cret", {.acl = acl}), IsOk());
  EXPECT_THAT(stranger->Create(path + "/kid", ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Wrong password: still refused.
  EXPECT_THAT(stranger->AddAuth("digest", "alice:wrong"), IsOk());
  EXPECT_THAT(stranger->Get(path), StatusIs(absl::StatusCode::kPermissionDenied));

  // Right credentials through the option (added to every session before any op).
  ClientOptions with_auth = Options();
  with_auth.digest_auth = {{"alice", "wonder"}};
  std::unique_ptr<Client> friend_client = NewClient(with_auth);
  ASSERT_NE(friend_client, nullptr);
  EXPECT_THAT(friend_client->Get(path), IsOkAndHolds(::testing::Field(&GetResult::data, "s3cret")));
  // ... and through AddAuth.
  EXPECT_THAT(stranger->AddAuth("digest", "alice:wonder"), IsOk());
  EXPECT_THAT(stranger->Get(path), IsOk());
}

TEST_P(ClientOpsTest, SetAclHonoursAversionAndTakesEffect) {
  const std::string path = P("acl");
  ASSERT_THAT(client().Create(path, "d"), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(AclResult open, client().GetAcl(path));
  EXPECT_EQ(open.acl, OpenAclUnsafe());

  absl::Status stale = client().SetAcl(path, ReadAclUnsafe(), 3);
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted, "set_acl " + path));
  EXPECT_TRUE(IsBadVersion(stale));

  ASSERT_THAT(client().SetAcl(path, ReadAclUnsafe(), 0), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(AclResult read_only, client().GetAcl(path));
  EXPECT_EQ(read_only.acl, ReadAclUnsafe());
  EXPECT_EQ(read_only.stat.aversion, 1);
  EXPECT_THAT(client().Get(path), IsOk());
  EXPECT_THAT(client().Set(path, "x"), StatusIs(absl::StatusCode::kPermissionDenied, "set " + path));

  EXPECT_THAT(client().SetAcl(P("nope"), OpenAclUnsafe()),
              StatusIs(absl::StatusCode::kNotFound, "set_acl " + P("nope")));
  EXPECT_THAT(client().GetAcl(P("nope")), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(ClientOpsTest, CreatorAllAclNeedsCredentials) {
  // Without any authenticated identity the "auth" scheme has nobody to name: INVALIDACL.
  absl::StatusOr<CreateResult> anonymous = client().Create(P("mine"), "", {.acl = CreatorAllAcl()});
  EXPECT_THAT(anonymous, StatusIs(absl::StatusCode::kInvalidArgument, "create " + P("mine")));
  EXPECT_TRUE(IsZooError(anonymous.status(), ZooError::kInvalidAcl));

  ASSERT_THAT(client().AddAuth("digest", "bob:builder"), IsOk());
  ASSERT_THAT(client().Create(P("mine"), "", {.acl = CreatorAllAcl()}), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(AclResult acl, client().GetAcl(P("mine")));
  ASSERT_THAT(acl.acl, SizeIs(1));
  EXPECT_EQ(acl.acl[0].id, (Id{"digest", DigestId("bob", "builder")}));
}

// --- multi ------------------------------------------------------------------------------------

TEST_P(ClientOpsTest, MultiAppliesAllOpsAndReportsPerOpResults) {
  ASSERT_THAT(client().Create(P("m-set"), "old"), IsOk());
  ASSERT_THAT(client().Create(P("m-del"), ""), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(
      MultiResult result,
      client().Multi({op::Create{P("m-new"), "n"}, op::Set{P("m-set"), "new", 0},
                      op::Check{P("m-set"), 1}, op::Delete{P("m-del"), 0},
                      op::Create{P("m-seq-"), "", CreateMode::kPersistentSequential}}));
  ASSERT_THAT(result.results, SizeIs(5));
  EXPECT_EQ(result.results[0].path, P("m-new"));
  EXPECT_EQ(result.results[1].stat.version, 1);
  EXPECT_EQ(result.results[1].stat.data_length, 3);
  EXPECT_TRUE(MatchesRegex(result.results[4].path, P("m-seq-") + "[0-9]{10}"))
      << result.results[4].path;
  EXPECT_THAT(client().Get(P("m-new")), IsOkAndHolds(::testing::Field(&GetResult::data, "n")));
  EXPECT_THAT(client().Get(P("m-set")), IsOkAndHolds(::testing::Field(&GetResult::data, "new")));
  EXPECT_THAT(client().Exists(P("m-del")), IsOkAndHolds(Eq(std::nullopt)));
  EXPECT_THAT(client().Exists(result.results[4].path), IsOkAndHolds(::testing::Ne(std::nullopt)));

  EXPECT_THAT(client().Multi({}), IsOkAndHolds(::testing::Field(&MultiResult::results, IsEmpty())));
}

TEST_P(ClientOpsTest, FailingMultiNamesTheOpAndAppliesNothing) {
  ASSERT_THAT(client().Create(P("exists"), "v"), IsOk());
  // Op 2 (index 1) fails: wrong version.
  absl::StatusOr<MultiResult> result =
      client().Multi({op::Create{P("first"), ""}, op::Check{P("exists"), 7},
                      op::Set{P("exists"), "changed", std::nullopt}});
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kAborted, "op 2 of 3"));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kAborted, "check " + P("exists")));
  EXPECT_TRUE(IsBadVersion(result.status()));
  EXPECT_EQ(FailedOpIndex(result.status()), std::optional<size_t>(1));
  EXPECT_THAT(client().Exists(P("first")), IsOkAndHolds(Eq(std::nullopt)));
  EXPECT_THAT(client().Get(P("exists")), IsOkAndHolds(::testing::Field(&GetResult::data, "v")));

  // Last op fails: the creates before it are not applied either.
  absl::StatusOr<MultiResult> last = client().Multi(
      {op::Create{P("one"), ""}, op::Create{P("two"), ""}, op::Delete{P("missing"), std::nullopt}});
  EXPECT_THAT(last, StatusIs(absl::StatusCode::kNotFound, "op 3 of 3"));
  EXPECT_THAT(last, StatusIs(absl::StatusCode::kNotFound, "delete " + P("missing")));
  EXPECT_EQ(FailedOpIndex(last.status()), std::optional<size_t>(2));
  EXPECT_THAT(client().Exists(P("one")), IsOkAndHolds(Eq(std::nullopt)));
  EXPECT_THAT(client().Exists(P("two")), IsOkAndHolds(Eq(std::nullopt)));

  // First op fails: node exists.
  absl::StatusOr<MultiResult> first =
      client().Multi({op::Create{P("exists"), ""}, op::Create{P("three"), ""}});
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kAlreadyExists, "op 1 of 2"));
  EXPECT_EQ(FailedOpIndex(first.status()), std::optional<size_t>(0));
  EXPECT_THAT(client().Exists(P("three")), IsOkAndHolds(Eq(std::nullopt)));
}

// --- sync, helpers ----------------------------------------------------------------------------

TEST_P(ClientOpsTest, SyncSucceeds) {
  ASSERT_THAT(client().Create(P("synced"), "v"), IsOk());
  std::unique_ptr<Client> other = NewClient();
  ASSERT_NE(other, nullptr);
  ASSERT_THAT(other->Sync(P("synced")), IsOk());
  EXPECT_THAT(other->Get(P("synced")), IsOkAndHolds(::testing::Field(&GetResult::data, "v")));
  EXPECT_THAT(client().Sync("/"), IsOk());
}

TEST_P(ClientOpsTest, EnsurePathIsIdempotent) {
  const std::string path = P("e1/e2/e3");
  ASSERT_THAT(client().EnsurePath(path), IsOk());
  EXPECT_THAT(client().Exists(path), IsOkAndHolds(::testing::Ne(std::nullopt)));
  EXPECT_THAT(client().EnsurePath(path), IsOk());
  EXPECT_THAT(client().EnsurePath(P("e1")), IsOk());
  EXPECT_THAT(client().EnsurePath("/"), IsOk());
  ZK_ASSERT_OK_AND_ASSIGN(ChildrenResult children, client().GetChildren(P("e1")));
  EXPECT_THAT(children.children, ElementsAre("e2"));
}

TEST_P(ClientOpsTest, DeleteRecursiveRemovesWholeSubtree) {
  const std::string top = P("tree");
  for (const char* rel : {"a/b/c", "a/b/d", "a/e", "f"}) {
    ASSERT_THAT(client().Create(JoinPath(top, rel), "x", {.create_parents = true}), IsOk());
  }
  ASSERT_THAT(client().Create(top + "/eph", "", {.mode = CreateMode::kEphemeral}), IsOk());
  ASSERT_THAT(client().Create(P("sibling"), ""), IsOk());
  EXPECT_THAT(client().DeleteRecursive(top), IsOk());
  EXPECT_THAT(client().Exists(top), IsOkAndHolds(Eq(std::nullopt)));
  EXPECT_THAT(client().Exists(P("sibling")), IsOkAndHolds(::testing::Ne(std::nullopt)));
  EXPECT_THAT(client().DeleteRecursive(top), IsOk()) << "a missing node is fine";
  EXPECT_THAT(client().DeleteRecursive(P("sibling")), IsOk()) << "a leaf is fine";
  EXPECT_THAT(client().Exists(P("sibling")), IsOkAndHolds(Eq(std::nullopt)));
}

// --- async forms ------------------------------------------------------------------------------

// Every async op invokes its callback exactly once, on a thread other than the caller's.
TEST_P(ClientOpsTest, AsyncFormsCompleteExactlyOnce) {
  ASSERT_THAT(client().Create(P("async"), "v"), IsOk());
  constexpr int kOps = 14;
  std::atomic<int> calls[kOps] = {};
  std::vector<absl::Status> statuses(kOps);
  zk::internal::Mutex mu;
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> on_caller_thread{0};
  CloseOnExit close_on_exit(client_);
  auto record = [&](int i, absl::Status s) {
    if (std::this_thread::get_id() == caller) ++on_caller_thread;
    {
      zk::internal::MutexLock lock(&mu);
      statuses[i] = std::move(s);
    }
    ++calls[i];
  };
  Client& c = client();
  c.AsyncCreate(P("async/new"), "n", {}, [&](auto r) {
    if (r.ok() && r->path != P("async/new")) r = absl::InternalError("wrong path " + r->path);
    record(0, r.status());
  });
  c.AsyncGet(P("async"), [&](auto r) {
    if (r.ok() && r->data != "v") r = absl::InternalError("wrong data");
    record(1, r.status());
  });
  c.AsyncExists(P("async"), [&](auto r) {
    if (r.ok() && !r->has_value()) r = absl::InternalError("missing");
    record(2, r.status());
  });
  c.AsyncExists(P("absent"), [&](auto r) {
    if (r.ok() && r->has_value()) r = absl::InternalError("present");
    record(3, r.status());
  });
  c.AsyncSet(P("async"), "w", 0, [&](auto r) { record(4, r.status()); });
  c.AsyncGetChildren(P("async"), [&](auto r) { record(5, r.status()); });
  c.AsyncGetAcl(P("async"), [&](auto r) { record(6, r.status()); });
  c.AsyncSetAcl(P("async"), OpenAclUnsafe(), 0, [&](absl::Status s) { record(7, s); });
  c.AsyncMulti({op::Check{P("async"), std::nullopt}}, [&](auto r) { record(8, r.status()); });
  c.AsyncSync(P("async"), [&](absl::Status s) { record(9, s); });
  c.AsyncAddAuth("digest", "u:p", [&](absl::Status s) { record(10, s); });
  c.AsyncGet(P("absent"), [&](auto r) {
    record(11, IsNoNode(r.status()) ? absl::OkStatus() : absl::InternalError("not NONODE"));
  });
  c.AsyncDelete(P("absent"), std::nullopt, [&](absl::Status s) {
    record(12, IsNoNode(s) ? absl::OkStatus() : absl::InternalError("not NONODE"));
  });
  c.AsyncCreate(P("async/x/y"), "", {.create_parents = true},
                [&](auto r) { record(13, r.status()); });
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& n : calls) {
          if (n.load() == 0) return false;
        }
        return true;
      },
      kWait));
  // After all completed, the delete of the tree must also complete once.
  std::atomic<int> delete_calls{0};
  c.AsyncDelete(P("async/new"), 0, [&](absl::Status s) {
    EXPECT_THAT(s, IsOk());
    ++delete_calls;
  });
  ASSERT_TRUE(WaitFor([&] { return delete_calls.load() == 1; }, kWait));
  client_.reset();  // joins the threads: nothing can run after this
  for (int i = 0; i < kOps; ++i) {
    EXPECT_EQ(calls[i].load(), 1) << "op " << i;
    EXPECT_THAT(statuses[i], IsOk()) << "op " << i;
  }
  EXPECT_EQ(delete_calls.load(), 1);
  EXPECT_EQ(on_caller_thread.load(), 0);
}

TEST_P(ClientOpsTest, PipelinedAsyncOpsCompleteInOrder) {
  ASSERT_THAT(client().Create(P("pipe"), ""), IsOk());
  constexpr int kOps = 500;
  zk::internal::Mutex mu;
  std::vector<int> order;
  std::atomic<int> failures{0};
  CloseOnExit close_on_exit(client_);
  for (int i = 0; i < kOps; ++i) {
    client().AsyncSet(P("pipe"), std::to_string(i), std::nullopt, [&, i](absl::StatusOr<Stat> r) {
      if (!r.ok() || r->version != i + 1) ++failures;
      zk::internal::MutexLock lock(&mu);
      order.push_back(i);
    });
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        zk::internal::MutexLock lock(&mu);
        return order.size() == kOps;
      },
      kWait));
  EXPECT_EQ(failures.load(), 0);
  zk::internal::MutexLock lock(&mu);
  for (int i = 0; i < kOps; ++i) ASSERT_EQ(order[i], i);
}

TEST_P(ClientOpsTest, BlockingCallsFromManyThreads) {
  constexpr int kThreads = 6;
  constexpr int kIterations = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string path = P("t" + std::to_string(t));
      if (!client().Create(path, "0").ok()) ++failures;
      for (int i = 1; i <= kIterations; ++i) {
        if (!client().Set(path, std::to_string(i), i - 1).ok()) ++failures;
        absl::StatusOr<GetResult> got = client().Get(path);
        if (!got.ok() || got->data != std::to_string(i)) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// A blocking call from a dispatcher callback works (the loop wakes it directly).
TEST_P(ClientOpsTest, BlockingCallFromDispatcherCallbackWorks) {
  ASSERT_THAT(client().Create(P("nested"), "inner"), IsOk());
  zk::internal::Notification done;
  absl::StatusOr<GetResult> nested = absl::UnknownError("not run");
  CloseOnExit close_on_exit(client_);
  client().AsyncExists(P("nested"), [&](auto) {
    nested = client().Get(P("nested"));
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_THAT(nested, IsOkAndHolds(::testing::Field(&GetResult::data, "inner")));
}

// --- chroot -----------------------------------------------------------------------------------

TEST_P(ClientOpsTest, ChrootOptionPrefixesEveryPath) {
  const std::string chroot = P("app");
  ASSERT_THAT(client().Create(chroot, ""), IsOk());
  for (bool via_connect_string : {false, true}) {
    SCOPED_TRACE(via_connect_string ? "connect string suffix" : "chroot option");
    ClientOptions options = Options();
    const std::string sub = via_connect_string ? "/cs" : "/opt";
    if (via_connect_string) {
      options.connect_string += chroot;
    } else {
      options.chroot = chroot;
    }
    std::unique_ptr<Client> rooted = NewClient(options);
    ASSERT_NE(rooted, nullptr);
    ZK_ASSERT_OK_AND_ASSIGN(CreateResult created, rooted->Create(sub, "in"));
    EXPECT_EQ(created.path, sub);
    EXPECT_THAT(client().Get(chroot + sub), IsOkAndHolds(::testing::Field(&GetResult::data, "in")));
    ZK_ASSERT_OK_AND_ASSIGN(CreateResult seq,
                            rooted->Create(sub + "/s-", "", {.mode = CreateMode::kPersistentSequential}));
    EXPECT_TRUE(MatchesRegex(seq.path, sub + "/s-[0-9]{10}")) << seq.path;
    ZK_ASSERT_OK_AND_ASSIGN(
        MultiResult multi, rooted->Multi({op::Create{sub + "/m", ""}, op::Set{sub, "x", 0}}));
    EXPECT_EQ(multi.results[0].path, sub + "/m");
    EXPECT_THAT(rooted->GetChildren("/"), IsOkAndHolds(::testing::Field(
                                              &ChildrenResult::children, ::testing::Contains(sub.substr(1)))));
    EventLog events;
    ZK_ASSERT_OK_AND_ASSIGN(Watched<GetResult> watched, rooted->GetAndWatch(sub, events.Callback()));
    ASSERT_THAT(client().Set(chroot + sub, "changed"), IsOk());
    ASSERT_TRUE(events.WaitForSize(1));
    EXPECT_THAT(events.events()[0], EventIs(WatchEventType::kDataChanged, sub));
    absl::StatusOr<GetResult> missing = rooted->Get("/nope");
    EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound, "get /nope"));
    EXPECT_THAT(rooted->DeleteRecursive(sub), IsOk());
    EXPECT_THAT(client().Exists(chroot + sub), IsOkAndHolds(Eq(std::nullopt)));
  }
}

ZK_INSTANTIATE_BACKEND_TEST(ClientOpsTest);

}  // namespace
}  // namespace zk::testing
