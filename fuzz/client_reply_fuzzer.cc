// libFuzzer target: the native engine's reading of reply bodies (client/src/reply_decoder.h),
// which gets whatever bytes a server, or anything posing as one, sends. The first input byte
// picks the request kind, the second the ops of a multi; the rest is the body. The decoder
// must return a status for anything malformed, never crash or read out of bounds.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "reply_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  using zk::internal::OpKind;
  constexpr OpKind kKinds[] = {OpKind::kCreate,        OpKind::kDelete, OpKind::kExists,
                               OpKind::kGet,           OpKind::kSet,    OpKind::kGetChildren,
                               OpKind::kGetAcl,        OpKind::kSetAcl, OpKind::kSync,
                               OpKind::kAddAuth,       OpKind::kMulti,  OpKind::kWhoAmI,
                               OpKind::kGetEphemerals, OpKind::kGetAllChildrenNumber,
                               OpKind::kMultiRead};
  zk::internal::Request request;
  request.kind = kKinds[data[0] % (sizeof(kKinds) / sizeof(kKinds[0]))];
  request.path = "/fuzz";
  for (int i = 0; i < data[1] % 8; ++i) {
    switch ((data[1] >> 3 ^ i) % 4) {
      case 0: request.ops.push_back(zk::op::Create{.path = "/a"}); break;
      case 1: request.ops.push_back(zk::op::Delete{.path = "/a"}); break;
      case 2: request.ops.push_back(zk::op::Set{.path = "/a"}); break;
      default: request.ops.push_back(zk::op::Check{.path = "/a"}); break;
    }
    if (i % 2 == 0) {
      request.read_ops.push_back(zk::op::Get{.path = "/a"});
    } else {
      request.read_ops.push_back(zk::op::GetChildren{.path = "/a"});
    }
  }
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  zk::internal::Reply reply;
  (void)zk::internal::DecodeReplyBody(request, body, data[0] & 0x80 ? "/chroot" : "", reply);
  return 0;
}
