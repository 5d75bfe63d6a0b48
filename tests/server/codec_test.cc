// Unit tests of the embedded server's private building blocks: the jute
// codec, frame and request decoding, path rules, ACL policy, the data tree
// and the watch manager.

#include <gtest/gtest.h>

#include "acl_policy.h"
#include "data_tree.h"
#include "frame_decoder.h"
#include "jute_reader.h"
#include "jute_writer.h"
#include "path_validator.h"
#include "protocol.h"
#include "raw_client.h"
#include "request_decoder.h"
#include "watch_manager.h"

namespace zk::testing::internal {
namespace {

using ::zk::testing::Bytes;

TEST(JuteCodecTest, RoundTripsPrimitives) {
  JuteWriter writer;
  writer.WriteInt(-2);
  writer.WriteLong(0x0102030405060708LL);
  writer.WriteBool(true);
  writer.WriteBuffer("abc");
  writer.WriteNullBuffer();
  writer.WriteStringVector({"x", "yz"});
  std::string frame = writer.TakeFrame();
  ASSERT_GE(frame.size(), 4u);
  EXPECT_EQ(frame.substr(0, 4), Bytes().Int(static_cast<int32_t>(frame.size() - 4)).str());
  EXPECT_EQ(frame.substr(4, 4), std::string("\xff\xff\xff\xfe", 4));

  JuteReader reader(std::string_view(frame).substr(4));
  EXPECT_EQ(reader.ReadInt(), -2);
  EXPECT_EQ(reader.ReadLong(), 0x0102030405060708LL);
  EXPECT_TRUE(reader.ReadBool());
  EXPECT_EQ(reader.ReadBuffer(), "abc");
  bool is_null = false;
  EXPECT_EQ(reader.ReadBuffer(&is_null), "");
  EXPECT_TRUE(is_null);
  EXPECT_EQ(reader.ReadStringVector(), (std::vector<std::string>{"x", "yz"}));
  EXPECT_TRUE(reader.ok());
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(JuteCodecTest, FailsOnTruncationAndHostileLengths) {
  JuteReader truncated(std::string_view("\x00\x00", 2));
  truncated.ReadInt();
  EXPECT_FALSE(truncated.ok());

  std::string long_buffer = Bytes().Int(1000).Raw("abc").str();
  JuteReader buffer_reader(long_buffer);
  buffer_reader.ReadBuffer();
  EXPECT_FALSE(buffer_reader.ok());

  std::string negative = Bytes().Int(-7).str();
  JuteReader negative_reader(negative);
  negative_reader.ReadBuffer();
  EXPECT_FALSE(negative_reader.ok());

  std::string huge_vector = Bytes().Int(0x7fffffff).str();
  JuteReader vector_reader(huge_vector);
  EXPECT_TRUE(vector_reader.ReadStringVector().empty());
  EXPECT_FALSE(vector_reader.ok());
}

TEST(FrameDecoderTest, SplitsFramesAcrossChunks) {
  FrameDecoder decoder;
  std::string stream = Bytes().Str("hello").Str("").Str("world").str();
  std::string body;
  for (char c : stream.substr(0, 6)) decoder.Append(std::string_view(&c, 1));
  EXPECT_EQ(decoder.Next(&body), FrameDecoder::Result::kNeedMore);
  decoder.Append(std::string_view(stream).substr(6));
  ASSERT_EQ(decoder.Next(&body), FrameDecoder::Result::kFrame);
  EXPECT_EQ(body, "hello");
  ASSERT_EQ(decoder.Next(&body), FrameDecoder::Result::kFrame);
  EXPECT_EQ(body, "");
  ASSERT_EQ(decoder.Next(&body), FrameDecoder::Result::kFrame);
  EXPECT_EQ(body, "world");
  EXPECT_EQ(decoder.Next(&body), FrameDecoder::Result::kNeedMore);
}

TEST(FrameDecoderTest, RejectsOversizedAndNegativeLengths) {
  std::string body;
  FrameDecoder oversized;
  oversized.Append(Bytes().Int(kMaxFrameLength + 1).str());
  EXPECT_EQ(oversized.Next(&body), FrameDecoder::Result::kError);
  FrameDecoder negative;
  negative.Append(Bytes().Int(-1).str());
  EXPECT_EQ(negative.Next(&body), FrameDecoder::Result::kError);
  FrameDecoder largest;
  largest.Append(Bytes().Int(kMaxFrameLength).str());
  EXPECT_EQ(largest.Next(&body), FrameDecoder::Result::kNeedMore);
}

TEST(RequestDecoderTest, DecodesConnectRequestWithAndWithoutReadOnlyByte) {
  std::string passwd(16, 'p');
  Bytes base;
  base.Int(0).Long(7).Int(4000).Long(0x1234).Str(passwd);
  absl::StatusOr<ConnectRequest> old_client = DecodeConnectRequest(base.str());
  ASSERT_TRUE(old_client.ok());
  EXPECT_FALSE(old_client->has_read_only);
  EXPECT_EQ(old_client->last_zxid_seen, 7);
  EXPECT_EQ(old_client->timeout_ms, 4000);
  EXPECT_EQ(old_client->session_id, 0x1234);
  EXPECT_EQ(old_client->passwd, passwd);

  absl::StatusOr<ConnectRequest> new_client = DecodeConnectRequest(base.Bool(true).str());
  ASSERT_TRUE(new_client.ok());
  EXPECT_TRUE(new_client->has_read_only);
  EXPECT_TRUE(new_client->read_only);

  EXPECT_FALSE(DecodeConnectRequest(Bytes().Int(0).Long(0).str()).ok());
  // Any password length decodes, as ZooKeeper reads it (a new session ignores it).
  absl::StatusOr<ConnectRequest> short_passwd =
      DecodeConnectRequest(Bytes().Int(0).Long(0).Int(1).Long(0).Str("short").str());
  ASSERT_TRUE(short_passwd.ok());
  EXPECT_EQ(short_passwd->passwd, "short");
}

TEST(RequestDecoderTest, DecodesCreateAndMulti) {
  Bytes create;
  create.Int(5).Int(op::kCreate).Str("/a").Str("data").Int(1).Int(31).Str("world").Str("anyone")
      .Int(3);
  absl::StatusOr<Request> request = DecodeRequest(create.str());
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->xid, 5);
  EXPECT_TRUE(request->body_ok);
  EXPECT_EQ(request->path, "/a");
  EXPECT_EQ(request->data, "data");
  ASSERT_EQ(request->acls.size(), 1u);
  EXPECT_EQ(request->acls[0].id.scheme, "world");
  EXPECT_EQ(request->flags, 3);

  Bytes multi;
  multi.Int(6).Int(op::kMulti);
  multi.Int(op::kDelete).Bool(false).Int(-1).Str("/x").Int(-1);
  multi.Int(op::kCheck).Bool(false).Int(-1).Str("/y").Int(4);
  multi.Int(-1).Bool(true).Int(-1);
  request = DecodeRequest(multi.str());
  ASSERT_TRUE(request.ok());
  EXPECT_TRUE(request->body_ok);
  ASSERT_EQ(request->ops.size(), 2u);
  EXPECT_EQ(request->ops[1].path, "/y");
  EXPECT_EQ(request->ops[1].version, 4);

  Bytes mixed;
  mixed.Int(7).Int(op::kMulti).Int(op::kGetData).Bool(false).Int(-1).Str("/x").Bool(false);
  mixed.Int(-1).Bool(true).Int(-1);
  request = DecodeRequest(mixed.str());
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(request->body_ok);

  EXPECT_FALSE(DecodeRequest(Bytes().Int(1).str()).ok());
  request = DecodeRequest(Bytes().Int(1).Int(10).str());
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(IsKnownOp(request->opcode));
}

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
  EXPECT_FALSE(FixupAcl({}, user, &fixed));
  EXPECT_FALSE(FixupAcl({{perm::kAll, {"auth", ""}}}, anonymous, &fixed));
  ASSERT_TRUE(FixupAcl({{perm::kAll, {"auth", ""}}, {perm::kAll, {"auth", ""}}}, user, &fixed));
  ASSERT_EQ(fixed.size(), 1u);
  EXPECT_EQ(fixed[0].id.id, DigestId("u:p"));
  EXPECT_FALSE(FixupAcl({{perm::kAll, {"bogus", "x"}}}, user, &fixed));
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
