// Tests of the coroutine awaiters (zk/coro.h) on every backend.

#include "zk/coro.h"

#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace zk::testing {
namespace {

// The smallest coroutine type that can await: starts eagerly, runs to completion on whatever
// thread resumes it, and signals `done` at the end.
struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

struct Outcome {
  zk::internal::Notification done;
  std::string read;
  int32_t version_after_set = -1;
  size_t multi_results = 0;
  absl::Status missing;
  absl::Status deleted;
};

Detached Scenario(Client& client, std::string root, Outcome& out) {
  const std::string path = root + "/coro";
  const std::string v1 = "v1";
  absl::StatusOr<CreateResult> created = co_await co::Create(client, path, v1);
  if (!created.ok()) {
    out.done.Notify();
    co_return;
  }
  absl::StatusOr<GetResult> got = co_await co::Get(client, path);
  if (got.ok()) out.read = got->data;
  const int32_t version = got.ok() ? got->stat.version : 0;
  absl::StatusOr<Stat> set = co_await co::Set(client, path, "v2", version);
  if (set.ok()) out.version_after_set = set->version;
  std::vector<Op> ops;
  ops.push_back(op::Check{.path = path, .expected_version = 1});
  ops.push_back(op::Create{.path = path + "-sibling"});
  absl::StatusOr<MultiResult> multi = co_await co::Multi(client, std::move(ops));
  if (multi.ok()) out.multi_results = multi->results.size();
  const std::string missing = root + "/missing";
  absl::StatusOr<GetResult> missing_read = co_await co::Get(client, missing);
  out.missing = missing_read.status();
  out.deleted = co_await co::Delete(client, path);
  out.done.Notify();
}

class ClientCoroTest : public ClientTest {};

TEST_P(ClientCoroTest, AwaitsEachOperationInOrder) {
  Outcome out;
  Scenario(client(), Root(), out);
  ASSERT_TRUE(out.done.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(out.read, "v1");
  EXPECT_EQ(out.version_after_set, 1);
  EXPECT_EQ(out.multi_results, 2u);
  EXPECT_THAT(out.missing, StatusIs(absl::StatusCode::kNotFound, "/missing"));
  EXPECT_THAT(out.deleted, IsOk());
  EXPECT_THAT(client().Exists(P("coro")), IsOkAndHolds(std::nullopt));
}

TEST_P(ClientCoroTest, ClosedClientResumesWithCancelled) {
  client().Close();
  Outcome out;
  Scenario(client(), Root(), out);  // the first await fails: the scenario stops there
  ASSERT_TRUE(out.done.WaitForNotificationWithTimeout(kWait));
  EXPECT_TRUE(out.read.empty());
}

struct NewOpsOutcome {
  zk::internal::Notification done;
  absl::StatusOr<std::vector<ClientIdentity>> identities;
  absl::StatusOr<std::vector<std::string>> ephemerals;
  absl::StatusOr<int32_t> descendants;
  absl::StatusOr<MultiReadResult> reads;
};

Detached NewOpsScenario(Client& client, std::string root, NewOpsOutcome& out) {
  out.identities = co_await co::WhoAmI(client);
  out.ephemerals = co_await co::GetEphemerals(client, root);
  out.descendants = co_await co::GetAllChildrenNumber(client, root);
  std::vector<ReadOp> reads;
  reads.push_back(op::GetChildren{root});
  out.reads = co_await co::MultiRead(client, std::move(reads));
  out.done.Notify();
}

TEST_P(ClientCoroTest, AwaitsTheZooKeeper36Operations) {
  ASSERT_THAT(client().Create(P("e"), "", {.mode = CreateMode::kEphemeral}), IsOk());
  NewOpsOutcome out;
  NewOpsScenario(client(), Root(), out);
  ASSERT_TRUE(out.done.WaitForNotificationWithTimeout(kWait));
  if (!NativeEngineFromEnvironment()) {  // the C library has no call for them
    EXPECT_THAT(out.identities, StatusIs(absl::StatusCode::kUnimplemented, "who_am_i"));
    EXPECT_THAT(out.ephemerals, StatusIs(absl::StatusCode::kUnimplemented, "get_ephemerals"));
    EXPECT_THAT(out.descendants,
                StatusIs(absl::StatusCode::kUnimplemented, "get_all_children_number"));
    EXPECT_THAT(out.reads, StatusIs(absl::StatusCode::kUnimplemented, "multi_read"));
    return;
  }
  EXPECT_THAT(out.identities,
              IsOkAndHolds(::testing::Contains(ClientIdentity{"ip", "127.0.0.1"})));
  EXPECT_THAT(out.ephemerals, IsOkAndHolds(::testing::ElementsAre(P("e"))));
  EXPECT_THAT(out.descendants, IsOkAndHolds(1));
  ASSERT_THAT(out.reads, IsOk());
  ASSERT_EQ(out.reads->results.size(), 1u);
  EXPECT_THAT(out.reads->results[0].children, ::testing::ElementsAre("e"));
}

ZK_INSTANTIATE_BACKEND_TEST(ClientCoroTest);

}  // namespace
}  // namespace zk::testing
