#include "reply_decoder.h"

#include <utility>

#include "string_util.h"
#include "zk/proto/constants.h"
#include "zk/proto/headers.h"
#include "zk/proto/jute_reader.h"
#include "zk/proto/node_ops.h"
#include "zk/proto/records.h"
#include "zk/proto/session_ops.h"

namespace zk::internal {
namespace {
namespace pop = ::zk::proto::op;
}  // namespace

absl::Status DecodeReplyBody(const Request& r, std::string_view body, std::string_view chroot,
                             Reply& reply) {
  proto::JuteReader reader(body);
  switch (r.kind) {
    case OpKind::kCreate: {
      proto::Create2Response response;
      response.Decode(reader);
      reply.data = StripChroot(chroot, response.path);
      reply.stat = ToPublicStat(response.stat);
      break;
    }
    case OpKind::kExists:
    case OpKind::kSet: {
      proto::StatResponse response;
      response.Decode(reader);
      reply.stat = ToPublicStat(response.stat);
      break;
    }
    case OpKind::kGet: {
      proto::GetDataResponse response;
      response.Decode(reader);
      reply.data = std::move(response.data);
      reply.stat = ToPublicStat(response.stat);
      break;
    }
    case OpKind::kGetChildren: {
      proto::GetChildren2Response response;
      response.Decode(reader);
      reply.children = std::move(response.children);
      reply.stat = ToPublicStat(response.stat);
      break;
    }
    case OpKind::kGetAcl: {
      proto::GetAclResponse response;
      response.Decode(reader);
      for (proto::Acl& acl : response.acls) {
        reply.acl.push_back({acl.perms, {std::move(acl.id.scheme), std::move(acl.id.id)}});
      }
      reply.stat = ToPublicStat(response.stat);
      break;
    }
    case OpKind::kSync: {
      proto::SyncResponse response;
      response.Decode(reader);
      reply.data = StripChroot(chroot, response.path);
      break;
    }
    case OpKind::kMulti:
    case OpKind::kMultiRead: {
      // A failed multi still has header err 0: the first failing op's code is its result
      // (the C library's reading; RUNTIMEINCONSISTENCY marks the ops after it). The ops of a
      // multiRead fail alone: their errors stay theirs.
      const bool reads = r.kind == OpKind::kMultiRead;
      proto::MultiHeader header;
      header.Decode(reader);
      while (reader.ok() && !header.done) {
        OpReply op;
        if (header.type == pop::kError) {
          proto::ErrorResult error;
          error.Decode(reader);
          op.rc = static_cast<ZooError>(error.err);
          if (!reads && reply.rc == ZooError::kOk && error.err != 0 &&
              error.err != proto::err::kRuntimeInconsistency) {
            reply.rc = op.rc;
          }
        } else if (reads && header.type == pop::kGetData) {
          proto::GetDataResponse response;
          response.Decode(reader);
          op.data = std::move(response.data);
          op.stat = ToPublicStat(response.stat);
        } else if (reads && header.type == pop::kGetChildren) {
          proto::GetChildrenResponse response;
          response.Decode(reader);
          op.children = std::move(response.paths);
        } else if (header.type == pop::kCreate) {
          op.path = StripChroot(chroot, reader.ReadString());
        } else if (header.type == pop::kCreate2) {
          op.path = StripChroot(chroot, reader.ReadString());
          proto::Stat stat;
          proto::ReadStat(reader, stat);
        } else if (header.type == pop::kSetData) {
          proto::Stat stat;
          proto::ReadStat(reader, stat);
          op.stat = ToPublicStat(stat);
        }
        reply.multi.push_back(std::move(op));
        header.Decode(reader);
      }
      if (reader.ok() && reply.multi.size() != (reads ? r.read_ops.size() : r.ops.size())) {
        reader.Fail();
      }
      break;
    }
    case OpKind::kWhoAmI: {
      proto::WhoAmIResponse response;
      response.Decode(reader);
      for (proto::ClientInfo& info : response.client_info) {
        reply.identities.push_back(
            ClientIdentity{std::move(info.auth_scheme), std::move(info.user)});
      }
      break;
    }
    case OpKind::kGetEphemerals: {
      proto::GetEphemeralsResponse response;
      response.Decode(reader);
      for (const std::string& path : response.paths) {
        if (IsUnderChroot(chroot, path)) reply.children.push_back(StripChroot(chroot, path));
      }
      break;
    }
    case OpKind::kGetAllChildrenNumber: {
      proto::GetAllChildrenNumberResponse response;
      response.Decode(reader);
      reply.count = response.total;
      break;
    }
    case OpKind::kDelete:
    case OpKind::kSetAcl:
    case OpKind::kAddAuth:
    case OpKind::kAddWatch: break;
  }
  if (!reader.ok()) {
    return absl::DataLossError(StrCat("the server's answer to ", OperationName(r.kind), " ",
                                      r.path, " does not decode"));
  }
  return absl::OkStatus();
}

bool IsUnderChroot(std::string_view chroot, std::string_view path) {
  if (chroot.empty()) return true;
  if (path.substr(0, chroot.size()) != chroot) return false;
  return path.size() == chroot.size() || path[chroot.size()] == '/';
}

std::string StripChroot(std::string_view chroot, std::string_view path) {
  if (chroot.empty() || !IsUnderChroot(chroot, path)) return std::string(path);
  if (path.size() == chroot.size()) return "/";
  return std::string(path.substr(chroot.size()));
}

}  // namespace zk::internal
