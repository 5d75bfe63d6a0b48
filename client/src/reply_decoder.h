// The native engine's reading of a reply body: the zk/proto record each request kind is
// answered with, turned into the engine's Reply (request.h), with the chroot taken off every
// path. Kept apart from the connection so that it can be fuzzed on its own
// (fuzz/client_reply_fuzzer.cc): the bytes come from the network.

#ifndef ZK_CLIENT_SRC_REPLY_DECODER_H_
#define ZK_CLIENT_SRC_REPLY_DECODER_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "request.h"

namespace zk::internal {

// Decodes the body of a successful reply (ReplyHeader err 0) to `request` into `reply`. For a
// multi, `reply.multi` gets one result per op and `reply.rc` the first failing op's code (the
// server answers a failed multi with err 0 and per-op error results).
// Errors: DataLoss naming the op and path if the body is truncated, or a multi's result count
// is not its op count; `reply` is then unspecified.
absl::Status DecodeReplyBody(const Request& request, std::string_view body,
                             std::string_view chroot, Reply& reply);

// True if `path` is the chroot or below it (always, without a chroot).
bool IsUnderChroot(std::string_view chroot, std::string_view path);

// `path` as the client sees it: without `chroot` ("/" for the chroot itself). A path outside
// the chroot is returned unchanged.
std::string StripChroot(std::string_view chroot, std::string_view path);

// A zk/proto Stat as the public Stat.
template <typename ProtoStat>
Stat ToPublicStat(const ProtoStat& s) {
  Stat out;
  out.czxid = s.czxid;
  out.mzxid = s.mzxid;
  out.ctime = s.ctime;
  out.mtime = s.mtime;
  out.version = s.version;
  out.cversion = s.cversion;
  out.aversion = s.aversion;
  out.ephemeral_owner = s.ephemeral_owner;
  out.data_length = s.data_length;
  out.num_children = s.num_children;
  out.pzxid = s.pzxid;
  return out;
}

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_REPLY_DECODER_H_
