#include "zk/proto/constants.h"

namespace zk::proto {

std::string_view OpName(int32_t opcode) {
  switch (opcode) {
    case op::kCreate: return "create";
    case op::kDelete: return "delete";
    case op::kExists: return "exists";
    case op::kGetData: return "getData";
    case op::kSetData: return "setData";
    case op::kGetAcl: return "getACL";
    case op::kSetAcl: return "setACL";
    case op::kGetChildren: return "getChildren";
    case op::kSync: return "sync";
    case op::kPing: return "ping";
    case op::kGetChildren2: return "getChildren2";
    case op::kCheck: return "check";
    case op::kMulti: return "multi";
    case op::kCreate2: return "create2";
    case op::kReconfig: return "reconfig";
    case op::kCheckWatches: return "checkWatches";
    case op::kRemoveWatches: return "removeWatches";
    case op::kCreateContainer: return "createContainer";
    case op::kCreateTtl: return "createTTL";
    case op::kMultiRead: return "multiRead";
    case op::kAuth: return "auth";
    case op::kSetWatches: return "setWatches";
    case op::kSasl: return "sasl";
    case op::kGetEphemerals: return "getEphemerals";
    case op::kGetAllChildrenNumber: return "getAllChildrenNumber";
    case op::kSetWatches2: return "setWatches2";
    case op::kAddWatch: return "addWatch";
    case op::kWhoAmI: return "whoAmI";
    case op::kCloseSession: return "closeSession";
    default: return "unknown";
  }
}

bool IsKnownOp(int32_t opcode) { return OpName(opcode) != "unknown"; }

}  // namespace zk::proto
