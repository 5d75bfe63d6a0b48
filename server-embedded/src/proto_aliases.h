// The names of zkcpp::proto (zk/proto/) that the embedded server uses, brought into
// zk::testing::internal so that its code reads `op::kCreate`, `Stat` and `JuteWriter` as
// before the codec moved into its own module.

#ifndef ZK_SERVER_EMBEDDED_SRC_PROTO_ALIASES_H_
#define ZK_SERVER_EMBEDDED_SRC_PROTO_ALIASES_H_

#include "zk/proto/connect.h"
#include "zk/proto/constants.h"
#include "zk/proto/frame_decoder.h"
#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"
#include "zk/proto/op_info.h"
#include "zk/proto/records.h"
#include "zk/proto/request_decoder.h"

namespace zk::testing::internal {

namespace err = ::zk::proto::err;
namespace event = ::zk::proto::event;
namespace op = ::zk::proto::op;
namespace perm = ::zk::proto::perm;
namespace xid = ::zk::proto::xid;

using ::zk::proto::Acl;
using ::zk::proto::ConnectRequest;
using ::zk::proto::DecodeConnectRequest;
using ::zk::proto::DecodeRequest;
using ::zk::proto::FindOp;
using ::zk::proto::FrameDecoder;
using ::zk::proto::Id;
using ::zk::proto::IsKnownOp;
using ::zk::proto::JuteReader;
using ::zk::proto::JuteWriter;
using ::zk::proto::kMaxFrameLength;
using ::zk::proto::OpInfo;
using ::zk::proto::OpName;
using ::zk::proto::ReadAcls;
using ::zk::proto::Request;
using ::zk::proto::Stat;
using ::zk::proto::WriteAcls;
using ::zk::proto::WriteStat;

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_PROTO_ALIASES_H_
