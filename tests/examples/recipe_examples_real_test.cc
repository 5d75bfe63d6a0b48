// Runs each recipe example (examples/<name>.cc) against a real Apache ZooKeeper 3.8 that the
// test starts, through --connect (the embedded-server runs are plain ctest entries, see
// CMakeLists.txt): each must verify its claims and exit 0, and leave nothing on the server.

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/child_process.h"
#include "harness/zookeeper_process.h"
#include "testing/status_matchers.h"
#include "zk/client.h"
#include "zk/testing/real_zookeeper.h"

namespace zk::testing {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

class RecipeExampleRealTest : public ::testing::TestWithParam<std::string> {
 protected:
  // One server for all the examples: each works in a subtree of its own.
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<RealZooKeeper>> started = RealZooKeeper::Start();
    ASSERT_THAT(started, IsOk());
    server_ = std::move(started).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static RealZooKeeper* server_;
};
RealZooKeeper* RecipeExampleRealTest::server_ = nullptr;

TEST_P(RecipeExampleRealTest, ClaimsHoldAgainstRealZooKeeper) {
  ASSERT_NE(server_, nullptr);
  const std::string binary = absl::StrCat(ZKCPP_EXAMPLES_DIR, "/zkcpp-example-", GetParam());
  absl::StatusOr<std::string> dir = MakeTempDir("zkcpp-example-");
  ASSERT_THAT(dir, IsOk());
  const std::string log_path = absl::StrCat(*dir, "/example.log");
  absl::StatusOr<ChildProcess> example =
      ChildProcess::Spawn({binary, absl::StrCat("--connect=", server_->connect_string())}, log_path);
  ASSERT_THAT(example, IsOk());
  absl::StatusOr<int> exit = example->WaitForExit(absl::Now() + absl::Seconds(50));
  const std::string output = ReadFile(log_path);
  std::cout << output << std::flush;  // the example's story is the best failure message
  RemoveTempDir(*dir);
  ASSERT_THAT(exit, IsOk());
  EXPECT_EQ(DescribeWaitStatus(*exit), "exited with code 0");
  EXPECT_THAT(output, HasSubstr("example: all claims hold"));

  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Connect({.connect_string = server_->connect_string()});
  ASSERT_THAT(client, IsOk());
  ASSERT_THAT((*client)->WaitUntilConnected(std::chrono::seconds(10)), IsOk());
  absl::StatusOr<std::optional<Stat>> left = (*client)->Exists("/zkcpp-examples");
  ASSERT_THAT(left, IsOk());
  EXPECT_FALSE(left->has_value()) << "the example left /zkcpp-examples behind";
}

INSTANTIATE_TEST_SUITE_P(Examples, RecipeExampleRealTest,
                         // "lock,read-write-lock,...": set by tests/examples/CMakeLists.txt
                         ::testing::ValuesIn(std::vector<std::string>(
                             absl::StrSplit(ZKCPP_RECIPE_EXAMPLES, ','))),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace zk::testing
