// Unit tests of the embedded server's private building blocks: path rules,
// ACL policy, the data tree and the watch manager (the codec's tests are in
// tests/proto/).

#include <gtest/gtest.h>

#include "acl_policy.h"
#include "data_tree.h"
#include "path_validator.h"
#include "proto_aliases.h"
#include "watch_manager.h"

namespace zk::testing::internal {
namespace {

TEST(PathValidatorTest, AppliesZooKeeperRules) {
  EXPECT_TRUE(IsValidPath("/"));
  EXPECT_TRUE(IsValidPath("/a/b-c_d.e"));
  EXPECT_TRUE(IsValidPath("/\xc3\xa4h"));  // "/äh"
  EXPECT_FALSE(IsValidPath(""));
  EXPECT_FALSE(IsValidPath("a"));
  EXPECT_FALSE(IsValidPath("/a/"));
  EXPECT_FALSE(IsValidPath("/a//b"));
  EXPECT_FALSE(IsValidPath("/a/./b"));
  EXPECT_FALSE(IsValidPath("/a/.."));
  EXPECT_FALSE(IsValidPath("/a\x1e"));
  EXPECT_FALSE(IsValidPath(std::string("/a\0b", 4)));
  EXPECT_FALSE(IsValidPath("/\xf0\x9f\x98\x80"));  // emoji (non-BMP)
  EXPECT_FALSE(IsValidPath("/\xff"));              // invalid UTF-8
}

TEST(AclPolicyTest, ComputesDigestIdsAndChecksPermissions) {
  EXPECT_EQ(DigestId("super:test"), "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
  std::vector<Id> anonymous = {{"ip", "127.0.0.1"}};
  std::vector<Id> user = {{"ip", "127.0.0.1"}, {"digest", DigestId("u:p")}};
  std::vector<Acl> creator = {{perm::kAll, {"digest", DigestId("u:p")}}};
  EXPECT_FALSE(CheckAcl(creator, perm::kRead, anonymous));
  EXPECT_TRUE(CheckAcl(creator, perm::kRead, user));
  EXPECT_TRUE(CheckAcl(creator, perm::kRead, {{"super", ""}}));
  EXPECT_TRUE(CheckAcl({{perm::kRead, {"ip", "127.0.0.0/8"}}}, perm::kRead, anonymous));
  EXPECT_FALSE(CheckAcl({{perm::kRead, {"ip", "10.0.0.1"}}}, perm::kRead, anonymous));
  EXPECT_FALSE(CheckAcl({{perm::kRead, {"world", "anyone"}}}, perm::kWrite, anonymous));

  std::vector<Acl> fixed;
  EXPECT_FALSE(FixupAcl({}, user, false, &fixed));
  EXPECT_FALSE(FixupAcl({{perm::kAll, {"auth", ""}}}, anonymous, false, &fixed));
  ASSERT_TRUE(FixupAcl({{perm::kAll, {"auth", ""}}, {perm::kAll, {"auth", ""}}}, user, false, &fixed));
  ASSERT_EQ(fixed.size(), 1u);
  EXPECT_EQ(fixed[0].id.id, DigestId("u:p"));
  EXPECT_FALSE(FixupAcl({{perm::kAll, {"bogus", "x"}}}, user, false, &fixed));
  EXPECT_EQ(MaskDigests(creator)[0].id.id, "u:x");
}

TEST(DataTreeTest, MaintainsCversionAndRollsBack) {
  DataTree tree;
  EXPECT_EQ(DataTree::StatOf(*tree.Find("/")).cversion, -1);
  EXPECT_EQ(DataTree::StatOf(*tree.Find("/zookeeper")).cversion, -2);
  EXPECT_EQ(tree.Find("/zookeeper/config")->aversion, -1);

  tree.Create("/p", "", {}, 0, 2, 100);
  tree.Create("/p/c", "", {}, 0, 3, 100);
  tree.Delete("/p/c", 4);
  tree.Commit();
  Stat stat = DataTree::StatOf(*tree.Find("/p"));
  EXPECT_EQ(stat.cversion, 2);
  EXPECT_EQ(stat.num_children, 0);
  EXPECT_EQ(stat.pzxid, 4);
  EXPECT_EQ(tree.Find("/p")->cversion, 1);

  tree.Create("/p/e", "", {}, 77, 5, 100);
  tree.SetData("/p", "x", 5, 101);
  EXPECT_EQ(tree.EphemeralsOf(77).size(), 1u);
  tree.Rollback();
  EXPECT_EQ(tree.Find("/p/e"), nullptr);
  EXPECT_EQ(tree.Find("/p")->data, "");
  EXPECT_EQ(tree.Find("/p")->cversion, 1);
  EXPECT_TRUE(tree.EphemeralsOf(77).empty());
  EXPECT_TRUE(tree.Commit().empty());
}

TEST(WatchManagerTest, FiresStandardPersistentAndRecursiveWatches) {
  WatchManager watches;
  watches.Add(WatchTable::kData, "/a", 1, WatchMode::kStandard);
  watches.Add(WatchTable::kChild, "/a", 1, WatchMode::kStandard);
  // Data and child watch on a deleted node: one notification.
  EXPECT_EQ(watches.Trigger({"/a", event::kNodeDeleted, true}), std::set<uint64_t>{1});
  EXPECT_EQ(watches.total_watch_count(), 0);

  watches.Add(WatchTable::kData, "/r", 2, WatchMode::kPersistentRecursive);
  watches.Add(WatchTable::kChild, "/r", 2, WatchMode::kPersistentRecursive);
  EXPECT_EQ(watches.Trigger({"/r/a/b", event::kNodeCreated}), std::set<uint64_t>{2});
  EXPECT_TRUE(watches.Trigger({"/r/a", event::kNodeChildrenChanged}).empty());
  EXPECT_EQ(watches.Trigger({"/r", event::kNodeDataChanged}), std::set<uint64_t>{2});

  // 3.8 quirk: a standard watch downgrades a persistent one.
  watches.Add(WatchTable::kData, "/p", 3, WatchMode::kPersistent);
  EXPECT_EQ(watches.Trigger({"/p", event::kNodeDataChanged}).size(), 1u);
  watches.Add(WatchTable::kData, "/p", 3, WatchMode::kStandard);
  EXPECT_EQ(watches.Trigger({"/p", event::kNodeDataChanged}).size(), 1u);
  EXPECT_TRUE(watches.Trigger({"/p", event::kNodeDataChanged}).empty());

  watches.RemoveConnection(2);
  EXPECT_TRUE(watches.Trigger({"/r", event::kNodeDataChanged}).empty());
}

}  // namespace
}  // namespace zk::testing::internal
