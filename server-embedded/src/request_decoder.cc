#include "request_decoder.h"

#include "absl/status/status.h"
#include "protocol.h"

namespace zk::testing::internal {
namespace {

bool AllowedInMulti(int32_t opcode) {
  switch (opcode) {
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl:
    case op::kDelete:
    case op::kSetData:
    case op::kCheck:
      return true;
    default:
      return false;
  }
}

bool AllowedInMultiRead(int32_t opcode) {
  return opcode == op::kGetChildren || opcode == op::kGetData;
}

void DecodeBody(JuteReader& reader, Request& request, int depth);

void DecodeMulti(JuteReader& reader, Request& request, int depth) {
  if (depth > 0) {
    reader.Fail();
    return;
  }
  while (reader.ok()) {
    int32_t type = reader.ReadInt();
    bool done = reader.ReadBool();
    reader.ReadInt();  // err
    if (!reader.ok() || done) return;
    bool allowed = request.opcode == op::kMulti ? AllowedInMulti(type)
                                                : AllowedInMultiRead(type);
    if (!allowed) {
      reader.Fail();
      return;
    }
    Request sub;
    sub.opcode = type;
    DecodeBody(reader, sub, depth + 1);
    request.ops.push_back(std::move(sub));
  }
}

void DecodeBody(JuteReader& reader, Request& request, int depth) {
  switch (request.opcode) {
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl:
      request.path = reader.ReadString();
      request.data = reader.ReadBuffer(&request.data_null);
      request.acls = ReadAcls(reader);
      request.flags = reader.ReadInt();
      if (request.opcode == op::kCreateTtl) request.ttl = reader.ReadLong();
      break;
    case op::kDelete:
    case op::kCheck:
      request.path = reader.ReadString();
      request.version = reader.ReadInt();
      break;
    case op::kExists:
    case op::kGetData:
    case op::kGetChildren:
    case op::kGetChildren2:
      request.path = reader.ReadString();
      request.watch = reader.ReadBool();
      break;
    case op::kSetData:
      request.path = reader.ReadString();
      request.data = reader.ReadBuffer(&request.data_null);
      request.version = reader.ReadInt();
      break;
    case op::kGetAcl:
    case op::kSync:
    case op::kGetEphemerals:
    case op::kGetAllChildrenNumber:
      request.path = reader.ReadString();
      break;
    case op::kSetAcl:
      request.path = reader.ReadString();
      request.acls = ReadAcls(reader);
      request.version = reader.ReadInt();
      break;
    case op::kCheckWatches:
    case op::kRemoveWatches:
    case op::kAddWatch:
      request.path = reader.ReadString();
      request.type = reader.ReadInt();
      break;
    case op::kAuth:
      request.type = reader.ReadInt();
      request.scheme = reader.ReadString();
      request.auth = reader.ReadBuffer(&request.auth_null);
      break;
    case op::kSetWatches:
    case op::kSetWatches2:
      request.relative_zxid = reader.ReadLong();
      request.data_watches = reader.ReadStringVector();
      request.exist_watches = reader.ReadStringVector();
      request.child_watches = reader.ReadStringVector();
      if (request.opcode == op::kSetWatches2) {
        request.persistent_watches = reader.ReadStringVector();
        request.recursive_watches = reader.ReadStringVector();
      }
      break;
    case op::kMulti:
    case op::kMultiRead:
      DecodeMulti(reader, request, depth);
      break;
    case op::kReconfig:
      reader.ReadString();
      reader.ReadString();
      reader.ReadString();
      reader.ReadLong();
      break;
    case op::kSasl:
      request.auth = reader.ReadBuffer();
      break;
    default:  // ping, closeSession, whoAmI: no body.
      break;
  }
  if (!reader.ok()) request.body_ok = false;
}

}  // namespace

absl::StatusOr<ConnectRequest> DecodeConnectRequest(std::string_view body) {
  JuteReader reader(body);
  ConnectRequest request;
  request.protocol_version = reader.ReadInt();
  request.last_zxid_seen = reader.ReadLong();
  request.timeout_ms = reader.ReadInt();
  request.session_id = reader.ReadLong();
  request.passwd = reader.ReadBuffer();
  if (!reader.ok()) {
    return absl::InvalidArgumentError("connect: truncated ConnectRequest");
  }
  // Any password length is accepted, as by ZooKeeper: a new session ignores it, and a resume
  // with a wrong one simply fails the password check.
  if (reader.remaining() >= 1) {
    request.has_read_only = true;
    request.read_only = reader.ReadBool();
  }
  return request;
}

absl::StatusOr<Request> DecodeRequest(std::string_view body) {
  JuteReader reader(body);
  Request request;
  request.xid = reader.ReadInt();
  request.opcode = reader.ReadInt();
  if (!reader.ok()) {
    return absl::InvalidArgumentError("request: truncated RequestHeader");
  }
  if (!IsKnownOp(request.opcode)) return request;
  DecodeBody(reader, request, 0);
  return request;
}

}  // namespace zk::testing::internal
