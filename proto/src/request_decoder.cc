#include "zk/proto/request_decoder.h"

#include <utility>

#include "absl/status/status.h"
#include "zk/proto/constants.h"
#include "zk/proto/headers.h"
#include "zk/proto/node_ops.h"
#include "zk/proto/op_info.h"
#include "zk/proto/session_ops.h"

namespace zk::proto {
namespace {

void DecodeBody(JuteReader& reader, Request& request, int depth);

void DecodeMulti(JuteReader& reader, Request& request, int depth) {
  if (depth > 0) {
    reader.Fail();
    return;
  }
  while (reader.ok()) {
    MultiHeader header;
    header.Decode(reader);
    if (!reader.ok() || header.done) return;
    const OpInfo* sub_op = FindOp(header.type);
    bool allowed = sub_op != nullptr &&
                   (request.opcode == op::kMulti ? sub_op->in_multi : sub_op->in_multi_read);
    if (!allowed) {
      reader.Fail();
      return;
    }
    Request sub;
    sub.opcode = header.type;
    DecodeBody(reader, sub, depth + 1);
    request.ops.push_back(std::move(sub));
  }
}

void TakeCreate(CreateRequest& record, Request& request) {
  request.path = std::move(record.path);
  request.data = std::move(record.data);
  request.data_null = record.data_null;
  request.acls = std::move(record.acls);
  request.flags = record.flags;
}

void DecodeBody(JuteReader& reader, Request& request, int depth) {
  switch (request.opcode) {
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer: {
      CreateRequest record;
      record.Decode(reader);
      TakeCreate(record, request);
      break;
    }
    case op::kCreateTtl: {
      CreateTtlRequest record;
      record.Decode(reader);
      TakeCreate(record.create, request);
      request.ttl = record.ttl;
      break;
    }
    case op::kDelete:
    case op::kCheck: {
      PathVersionRequest record;
      record.Decode(reader);
      request.path = std::move(record.path);
      request.version = record.version;
      break;
    }
    case op::kExists:
    case op::kGetData:
    case op::kGetChildren:
    case op::kGetChildren2: {
      PathWatchRequest record;
      record.Decode(reader);
      request.path = std::move(record.path);
      request.watch = record.watch;
      break;
    }
    case op::kSetData: {
      SetDataRequest record;
      record.Decode(reader);
      request.path = std::move(record.path);
      request.data = std::move(record.data);
      request.data_null = record.data_null;
      request.version = record.version;
      break;
    }
    case op::kGetAcl:
    case op::kSync:
    case op::kGetEphemerals:
    case op::kGetAllChildrenNumber: {
      PathRequest record;
      record.Decode(reader);
      request.path = std::move(record.path);
      break;
    }
    case op::kSetAcl: {
      SetAclRequest record;
      record.Decode(reader);
      request.path = std::move(record.path);
      request.acls = std::move(record.acls);
      request.version = record.version;
      break;
    }
    case op::kCheckWatches:
    case op::kRemoveWatches:
    case op::kAddWatch: {
      PathTypeRequest record;
      record.Decode(reader);
      request.path = std::move(record.path);
      request.type = record.type;
      break;
    }
    case op::kAuth: {
      AuthPacket record;
      record.Decode(reader);
      request.type = record.type;
      request.scheme = std::move(record.scheme);
      request.auth = std::move(record.auth);
      request.auth_null = record.auth_null;
      break;
    }
    case op::kSetWatches: {
      SetWatchesRequest record;
      record.Decode(reader);
      request.relative_zxid = record.relative_zxid;
      request.data_watches = std::move(record.data_watches);
      request.exist_watches = std::move(record.exist_watches);
      request.child_watches = std::move(record.child_watches);
      break;
    }
    case op::kSetWatches2: {
      SetWatches2Request record;
      record.Decode(reader);
      request.relative_zxid = record.relative_zxid;
      request.data_watches = std::move(record.data_watches);
      request.exist_watches = std::move(record.exist_watches);
      request.child_watches = std::move(record.child_watches);
      request.persistent_watches = std::move(record.persistent_watches);
      request.recursive_watches = std::move(record.recursive_watches);
      break;
    }
    case op::kMulti:
    case op::kMultiRead:
      DecodeMulti(reader, request, depth);
      break;
    case op::kReconfig: {
      ReconfigRequest record;  // read for validation only: reconfig is refused
      record.Decode(reader);
      break;
    }
    case op::kSasl: {
      SaslPacket record;
      record.Decode(reader);
      request.auth = std::move(record.token);
      break;
    }
    default:  // ping, closeSession, whoAmI: no body.
      break;
  }
  if (!reader.ok()) request.body_ok = false;
}

}  // namespace

absl::StatusOr<Request> DecodeRequest(std::string_view body) {
  JuteReader reader(body);
  RequestHeader header;
  header.Decode(reader);
  if (!reader.ok()) {
    return absl::InvalidArgumentError("request: truncated RequestHeader");
  }
  Request request;
  request.xid = header.xid;
  request.opcode = header.type;
  if (!IsKnownOp(request.opcode)) return request;
  DecodeBody(reader, request, 0);
  return request;
}

}  // namespace zk::proto
