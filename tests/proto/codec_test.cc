// Unit tests of zkcpp::proto: the jute primitives, framing, the request decoder of the server
// side, and every record's round trip (encode then decode gives the same value; a truncated
// buffer fails cleanly).

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "raw_client.h"
#include "zk/proto/connect.h"
#include "zk/proto/constants.h"
#include "zk/proto/frame_decoder.h"
#include "zk/proto/headers.h"
#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"
#include "zk/proto/node_ops.h"
#include "zk/proto/op_info.h"
#include "zk/proto/records.h"
#include "zk/proto/request_decoder.h"
#include "zk/proto/session_ops.h"

namespace zk::proto {
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

TEST(FrameDecoderTest, HonoursAConfiguredLimitAndViewsWithoutCopy) {
  FrameDecoder small(8);
  small.Append(Bytes().Int(9).str());
  std::string_view view;
  EXPECT_EQ(small.NextView(&view), FrameDecoder::Result::kError);

  FrameDecoder large(kMaxFrameLength * 4);
  const std::string big(kMaxFrameLength + 1, 'x');
  large.Append(EncodeFrame(big));
  ASSERT_EQ(large.NextView(&view), FrameDecoder::Result::kFrame);
  EXPECT_EQ(view, big);
  EXPECT_EQ(large.buffered(), 0u);
}

TEST(FrameDecoderTest, EncodeFrameMatchesTakeFrame) {
  JuteWriter writer;
  writer.WriteString("abc");
  const std::string body(writer.body());
  EXPECT_EQ(EncodeFrame(body), writer.TakeFrame());
  EXPECT_EQ(EncodeFrame(""), std::string(4, '\0'));
}

TEST(HeadersTest, PatchRequestXidRewritesOnlyTheXid) {
  JuteWriter writer;
  RequestHeader{.xid = 1, .type = op::kGetData}.Encode(writer);
  GetDataRequest{.path = "/a"}.Encode(writer);
  std::string frame = writer.TakeFrame();
  PatchRequestXid(frame, 0x01020304);
  JuteReader reader(std::string_view(frame).substr(4));
  RequestHeader header;
  header.Decode(reader);
  EXPECT_EQ(header, (RequestHeader{.xid = 0x01020304, .type = op::kGetData}));
  GetDataRequest request;
  request.Decode(reader);
  EXPECT_EQ(request.path, "/a");
  EXPECT_TRUE(reader.ok());
}

// Encodes `record`, checks that decoding gives it back and consumes every byte, and that
// each strict prefix of the encoding fails to decode. Returns the encoding.
template <typename Record>
std::string ExpectRoundTrip(const Record& record) {
  JuteWriter writer;
  record.Encode(writer);
  const std::string bytes(writer.body());
  JuteReader reader(bytes);
  Record decoded;
  decoded.Decode(reader);
  EXPECT_TRUE(reader.ok());
  EXPECT_EQ(reader.remaining(), 0u);
  EXPECT_TRUE(decoded == record);
  for (size_t length = 0; length < bytes.size(); ++length) {
    JuteReader truncated(std::string_view(bytes).substr(0, length));
    Record partial;
    partial.Decode(truncated);
    EXPECT_FALSE(truncated.ok()) << "prefix of " << length << " of " << bytes.size() << " bytes";
  }
  return bytes;
}

Stat SampleStat() {
  return Stat{.czxid = 1, .mzxid = -2, .ctime = 0x0102030405060708LL, .mtime = 4, .version = 5,
              .cversion = -6, .aversion = 7, .ephemeral_owner = 0x7fffffffffffffffLL,
              .data_length = 9, .num_children = 10, .pzxid = 11};
}

std::vector<Acl> SampleAcls() {
  return {{perm::kAll, {"world", "anyone"}}, {perm::kRead, {"digest", "u:hash"}}};
}

TEST(RecordsTest, HeadersRoundTrip) {
  ExpectRoundTrip(RequestHeader{.xid = 7, .type = op::kCreate2});
  ExpectRoundTrip(ReplyHeader{.xid = -1, .zxid = 0x123456789LL, .err = err::kNoNode});
  ExpectRoundTrip(WatcherEvent{.type = event::kNodeDataChanged,
                               .state = event::kSyncConnectedState, .path = "/w"});
  ExpectRoundTrip(MultiHeader{.type = op::kCheck, .done = false, .err = -1});
  ExpectRoundTrip(MultiHeader{});
  ExpectRoundTrip(ErrorResult{.err = err::kBadVersion});
}

TEST(RecordsTest, StatIs68BytesAndRoundTrips) {
  JuteWriter writer;
  WriteStat(SampleStat(), writer);
  EXPECT_EQ(writer.body_size(), 68u);
  ExpectRoundTrip(StatResponse{.stat = SampleStat()});
}

TEST(RecordsTest, NodeRequestsRoundTrip) {
  CreateRequest create{.path = "/a", .data = std::string("d\0t", 3), .acls = SampleAcls(),
                       .flags = 3};
  ExpectRoundTrip(create);
  ExpectRoundTrip(CreateRequest{.path = "/n", .data_null = true, .acls = SampleAcls()});
  ExpectRoundTrip(CreateTtlRequest{.create = create, .ttl = 60000});
  ExpectRoundTrip(DeleteRequest{.path = "/d", .version = 4});
  ExpectRoundTrip(CheckVersionRequest{.path = "/c", .version = -1});
  ExpectRoundTrip(GetDataRequest{.path = "/g", .watch = true});
  ExpectRoundTrip(PathRequest{.path = "/s"});
  ExpectRoundTrip(SetDataRequest{.path = "/s", .data = "v", .version = 2});
  ExpectRoundTrip(SetDataRequest{.path = "/s", .data_null = true});
  ExpectRoundTrip(SetAclRequest{.path = "/acl", .acls = SampleAcls(), .version = 1});
}

TEST(RecordsTest, NodeResponsesRoundTrip) {
  ExpectRoundTrip(CreateResponse{.path = "/a0000000001"});
  ExpectRoundTrip(Create2Response{.path = "/b", .stat = SampleStat()});
  ExpectRoundTrip(GetDataResponse{.data = "value", .stat = SampleStat()});
  ExpectRoundTrip(GetDataResponse{.data_null = true, .stat = SampleStat()});
  ExpectRoundTrip(GetAclResponse{.acls = SampleAcls(), .stat = SampleStat()});
  ExpectRoundTrip(GetChildrenResponse{.paths = {"x", "y", ""}});
  ExpectRoundTrip(GetChildren2Response{.children = {"z"}, .stat = SampleStat()});
  ExpectRoundTrip(GetAllChildrenNumberResponse{.total = 42});
}

TEST(RecordsTest, SessionRecordsRoundTrip) {
  ExpectRoundTrip(AuthPacket{.scheme = "digest", .auth = "u:p"});
  ExpectRoundTrip(AuthPacket{.scheme = "ip", .auth_null = true});
  ExpectRoundTrip(SetWatchesRequest{.relative_zxid = 9, .data_watches = {"/d"},
                                    .exist_watches = {"/e1", "/e2"}, .child_watches = {}});
  ExpectRoundTrip(SetWatches2Request{.relative_zxid = 9, .data_watches = {"/d"},
                                     .persistent_watches = {"/p"},
                                     .recursive_watches = {"/r"}});
  ExpectRoundTrip(AddWatchRequest{.path = "/w", .type = 1});
  ExpectRoundTrip(WhoAmIResponse{.client_info = {{"ip", "127.0.0.1"}, {"digest", "u"}}});
  ExpectRoundTrip(SaslPacket{.token = std::string("\x01\x00", 2)});
  ExpectRoundTrip(ReconfigRequest{.joining_servers = "server.4=h:1:2",
                                  .new_members = "", .cur_config_id = 5});
}

TEST(RecordsTest, ConnectRecordsRoundTripWithAndWithoutReadOnlyByte) {
  ConnectRequest request{.last_zxid_seen = 3, .timeout_ms = 4000, .session_id = 0x1234,
                         .passwd = std::string(16, 'p'), .read_only = true};
  ConnectResponse response{.timeout_ms = 4000, .session_id = 0x1234,
                           .passwd = std::string(16, 'q'), .read_only = true};
  for (bool has_read_only : {true, false}) {
    request.has_read_only = has_read_only;
    request.read_only = has_read_only;
    response.has_read_only = has_read_only;
    response.read_only = has_read_only;
    // The readOnly byte is optional, so only the prefixes up to the passwd must fail.
    JuteWriter writer;
    request.Encode(writer);
    JuteReader reader(writer.body());
    ConnectRequest decoded_request;
    decoded_request.Decode(reader);
    EXPECT_TRUE(reader.ok());
    EXPECT_EQ(decoded_request, request);
    JuteWriter response_writer;
    response.Encode(response_writer);
    JuteReader response_reader(response_writer.body());
    ConnectResponse decoded_response;
    decoded_response.Decode(response_reader);
    EXPECT_TRUE(response_reader.ok());
    EXPECT_EQ(decoded_response, response);
  }
  const std::string bytes = ExpectRoundTrip(ConnectResponse{.has_read_only = false});
  for (size_t length = 0; length + 1 < bytes.size(); ++length) {
    EXPECT_FALSE(DecodeConnectRequest(std::string_view(bytes).substr(0, length)).ok());
  }
}

TEST(RequestDecoderTest, DecodesWhatTheRecordsEncode) {
  JuteWriter writer;
  RequestHeader{.xid = 9, .type = op::kSetWatches2}.Encode(writer);
  SetWatches2Request{.relative_zxid = 5, .child_watches = {"/c"}, .recursive_watches = {"/r"}}
      .Encode(writer);
  absl::StatusOr<Request> request = DecodeRequest(writer.body());
  ASSERT_TRUE(request.ok());
  EXPECT_TRUE(request->body_ok);
  EXPECT_EQ(request->xid, 9);
  EXPECT_EQ(request->relative_zxid, 5);
  EXPECT_EQ(request->child_watches, std::vector<std::string>{"/c"});
  EXPECT_EQ(request->recursive_watches, std::vector<std::string>{"/r"});

  JuteWriter ttl;
  RequestHeader{.xid = 10, .type = op::kCreateTtl}.Encode(ttl);
  CreateTtlRequest{.create = {.path = "/t", .data_null = true, .acls = SampleAcls(),
                              .flags = 5},
                   .ttl = 1000}
      .Encode(ttl);
  request = DecodeRequest(ttl.body());
  ASSERT_TRUE(request.ok());
  EXPECT_TRUE(request->body_ok);
  EXPECT_EQ(request->path, "/t");
  EXPECT_TRUE(request->data_null);
  EXPECT_EQ(request->acls, SampleAcls());
  EXPECT_EQ(request->flags, 5);
  EXPECT_EQ(request->ttl, 1000);

  // A truncated body decodes the header but marks the body bad (MARSHALLINGERROR).
  JuteWriter truncated;
  RequestHeader{.xid = 11, .type = op::kSetData}.Encode(truncated);
  truncated.WriteString("/x");
  request = DecodeRequest(truncated.body());
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(request->body_ok);
}

}  // namespace
}  // namespace zk::proto
