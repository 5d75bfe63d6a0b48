#include "zk/proto/op_info.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "zk/proto/constants.h"

namespace zk::proto {
namespace {

using ::testing::UnorderedElementsAre;

// The names of the known opcodes whose row passes `select`. Opcodes run from -11
// (closeSession) to 107 (whoAmI).
template <typename Select>
std::vector<std::string> NamesWhere(Select select) {
  std::vector<std::string> names;
  for (int32_t opcode = -20; opcode < 200; ++opcode) {
    const OpInfo* info = FindOp(opcode);
    if (info != nullptr && select(*info)) names.emplace_back(info->name);
  }
  return names;
}

TEST(OpInfoTest, NamesAreZooKeepers) {
  EXPECT_EQ(OpName(op::kGetAcl), "getACL");
  EXPECT_EQ(OpName(op::kCreateTtl), "createTTL");
  EXPECT_EQ(OpName(op::kCloseSession), "closeSession");
  EXPECT_EQ(OpName(op::kError), "unknown");
  EXPECT_EQ(FindOp(op::kError), nullptr);
  EXPECT_TRUE(IsKnownOp(op::kWhoAmI));
  EXPECT_FALSE(IsKnownOp(10));
  EXPECT_EQ(NamesWhere([](const OpInfo&) { return true; }).size(), 29u);
}

// ZooKeeper's ReadOnlyRequestProcessor answers exactly these with ZNOTREADONLY.
TEST(OpInfoTest, WritesAreWhatAReadOnlyServerRefuses) {
  EXPECT_THAT(NamesWhere([](const OpInfo& info) { return info.write; }),
              UnorderedElementsAre("create", "create2", "createContainer", "createTTL", "delete",
                                   "setData", "setACL", "check", "multi", "sync", "reconfig"));
}

TEST(OpInfoTest, MultiTakesTheTransactionalOps) {
  EXPECT_THAT(NamesWhere([](const OpInfo& info) { return info.in_multi; }),
              UnorderedElementsAre("create", "create2", "createContainer", "createTTL", "delete",
                                   "setData", "check"));
}

TEST(OpInfoTest, MultiReadTakesGetDataAndGetChildren) {
  EXPECT_THAT(NamesWhere([](const OpInfo& info) { return info.in_multi_read; }),
              UnorderedElementsAre("getData", "getChildren"));
}

}  // namespace
}  // namespace zk::proto
