// Unit tests of the native engine's reply decoder (client/src/reply_decoder.h) for the
// ZooKeeper 3.6+ ops: bodies built with the zk/proto records, decoded without a server. They
// cover what no server test can reach, e.g. getEphemerals paths that match the chroot as a
// string prefix but lie outside it (a chrooted session cannot create those).

#include "reply_decoder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "zk/proto/constants.h"
#include "zk/proto/headers.h"
#include "zk/proto/jute_writer.h"
#include "zk/proto/node_ops.h"
#include "zk/proto/session_ops.h"

namespace zk::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using ::zk::testing::IsOk;
using ::zk::testing::StatusIs;
namespace pop = ::zk::proto::op;

Request RequestOf(OpKind kind, std::string path = "/p") {
  Request request;
  request.kind = kind;
  request.path = std::move(path);
  return request;
}

TEST(ReplyDecoderTest, GetEphemeralsKeepsOnlyPathsInsideTheChrootAndStripsIt) {
  proto::JuteWriter body;
  proto::GetEphemeralsResponse{{"/app", "/app/a", "/app/b/c", "/apple/x", "/ap", "/other"}}
      .Encode(body);
  Reply reply;
  ASSERT_THAT(DecodeReplyBody(RequestOf(OpKind::kGetEphemerals, "/"), body.body(), "/app", reply),
              IsOk());
  EXPECT_THAT(reply.children, ElementsAre("/", "/a", "/b/c"));

  Reply unrooted;
  ASSERT_THAT(DecodeReplyBody(RequestOf(OpKind::kGetEphemerals, "/"), body.body(), "", unrooted),
              IsOk());
  EXPECT_THAT(unrooted.children,
              ElementsAre("/app", "/app/a", "/app/b/c", "/apple/x", "/ap", "/other"));
}

TEST(ReplyDecoderTest, WhoAmIAndGetAllChildrenNumber) {
  proto::JuteWriter who;
  proto::WhoAmIResponse{{{"ip", "127.0.0.1"}, {"digest", "alice"}}}.Encode(who);
  Reply identities;
  ASSERT_THAT(DecodeReplyBody(RequestOf(OpKind::kWhoAmI, ""), who.body(), "", identities),
              IsOk());
  EXPECT_THAT(identities.identities, UnorderedElementsAre(ClientIdentity{"ip", "127.0.0.1"},
                                                          ClientIdentity{"digest", "alice"}));

  proto::JuteWriter count;
  proto::GetAllChildrenNumberResponse{42}.Encode(count);
  Reply counted;
  ASSERT_THAT(
      DecodeReplyBody(RequestOf(OpKind::kGetAllChildrenNumber), count.body(), "", counted),
      IsOk());
  EXPECT_EQ(counted.count, 42);
}

TEST(ReplyDecoderTest, TruncatedBodiesAreDataLossNamingTheOp) {
  proto::JuteWriter who;
  proto::WhoAmIResponse{{{"ip", "127.0.0.1"}}}.Encode(who);
  const std::string_view cut = who.body().substr(0, who.body_size() - 3);
  Reply reply;
  EXPECT_THAT(DecodeReplyBody(RequestOf(OpKind::kWhoAmI, ""), cut, "", reply),
              StatusIs(absl::StatusCode::kDataLoss, "who_am_i"));
  EXPECT_THAT(DecodeReplyBody(RequestOf(OpKind::kGetAllChildrenNumber, "/n"), "\x01", "", reply),
              StatusIs(absl::StatusCode::kDataLoss, "get_all_children_number /n"));
}

// A multiRead answer: one result per op, an error result being that op's alone.
TEST(ReplyDecoderTest, MultiReadGivesEachOpItsOwnResult) {
  Request request = RequestOf(OpKind::kMultiRead, "");
  request.read_ops = {op::Get{"/a"}, op::Get{"/missing"}, op::GetChildren{"/a"}};
  proto::JuteWriter body;
  proto::MultiHeader{pop::kGetData, false, 0}.Encode(body);
  proto::Stat stat;
  stat.version = 3;
  proto::GetDataResponse{"A", false, stat}.Encode(body);
  proto::MultiHeader{pop::kError, false, proto::err::kNoNode}.Encode(body);
  proto::ErrorResult{proto::err::kNoNode}.Encode(body);
  proto::MultiHeader{pop::kGetChildren, false, 0}.Encode(body);
  proto::GetChildrenResponse{{"x", "y"}}.Encode(body);
  proto::MultiHeader{-1, true, -1}.Encode(body);
  Reply reply;
  ASSERT_THAT(DecodeReplyBody(request, body.body(), "", reply), IsOk());
  EXPECT_EQ(reply.rc, ZooError::kOk);  // unlike a multi, a failed op fails alone
  ASSERT_EQ(reply.multi.size(), 3u);
  EXPECT_EQ(reply.multi[0].rc, ZooError::kOk);
  EXPECT_EQ(reply.multi[0].data, "A");
  EXPECT_EQ(reply.multi[0].stat.version, 3);
  EXPECT_EQ(reply.multi[1].rc, ZooError::kNoNode);
  EXPECT_THAT(reply.multi[2].children, ElementsAre("x", "y"));

  // One result short of the ops: the answer is not for this request.
  request.read_ops.push_back(op::Get{"/b"});
  Reply short_reply;
  EXPECT_THAT(DecodeReplyBody(request, body.body(), "", short_reply),
              StatusIs(absl::StatusCode::kDataLoss, "multi_read"));
}

}  // namespace
}  // namespace zk::internal
