#include "zk/proto/op_info.h"

#include "zk/proto/constants.h"

namespace zk::proto {
namespace {

constexpr OpInfo kOps[] = {
    {.opcode = op::kCreate, .name = "create", .write = true, .in_multi = true},
    {.opcode = op::kDelete, .name = "delete", .write = true, .in_multi = true},
    {.opcode = op::kExists, .name = "exists"},
    {.opcode = op::kGetData, .name = "getData", .in_multi_read = true},
    {.opcode = op::kSetData, .name = "setData", .write = true, .in_multi = true},
    {.opcode = op::kGetAcl, .name = "getACL"},
    {.opcode = op::kSetAcl, .name = "setACL", .write = true},
    {.opcode = op::kGetChildren, .name = "getChildren", .in_multi_read = true},
    {.opcode = op::kSync, .name = "sync", .write = true},
    {.opcode = op::kPing, .name = "ping"},
    {.opcode = op::kGetChildren2, .name = "getChildren2"},
    {.opcode = op::kCheck, .name = "check", .write = true, .in_multi = true},
    {.opcode = op::kMulti, .name = "multi", .write = true},
    {.opcode = op::kCreate2, .name = "create2", .write = true, .in_multi = true},
    {.opcode = op::kReconfig, .name = "reconfig", .write = true},
    {.opcode = op::kCheckWatches, .name = "checkWatches"},
    {.opcode = op::kRemoveWatches, .name = "removeWatches"},
    {.opcode = op::kCreateContainer, .name = "createContainer", .write = true, .in_multi = true},
    {.opcode = op::kCreateTtl, .name = "createTTL", .write = true, .in_multi = true},
    {.opcode = op::kMultiRead, .name = "multiRead"},
    {.opcode = op::kAuth, .name = "auth"},
    {.opcode = op::kSetWatches, .name = "setWatches"},
    {.opcode = op::kSasl, .name = "sasl"},
    {.opcode = op::kGetEphemerals, .name = "getEphemerals"},
    {.opcode = op::kGetAllChildrenNumber, .name = "getAllChildrenNumber"},
    {.opcode = op::kSetWatches2, .name = "setWatches2"},
    {.opcode = op::kAddWatch, .name = "addWatch"},
    {.opcode = op::kWhoAmI, .name = "whoAmI"},
    {.opcode = op::kCloseSession, .name = "closeSession"},
};

}  // namespace

const OpInfo* FindOp(int32_t opcode) {
  for (const OpInfo& info : kOps) {
    if (info.opcode == opcode) return &info;
  }
  return nullptr;
}

std::string_view OpName(int32_t opcode) {
  const OpInfo* info = FindOp(opcode);
  return info == nullptr ? "unknown" : info->name;
}

bool IsKnownOp(int32_t opcode) { return FindOp(opcode) != nullptr; }

}  // namespace zk::proto
