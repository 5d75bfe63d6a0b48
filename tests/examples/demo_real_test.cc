// Runs the zkcpp-demo program against a real Apache ZooKeeper 3.8 that the test starts (the
// embedded-server run is a plain ctest entry, see CMakeLists.txt): the demo must verify all
// four of its scenarios and exit 0, also when its faults are client closes on a real server,
// and leave nothing behind on the server.

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
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

TEST(DemoRealTest, AllScenariosOkAgainstRealZooKeeper) {
  absl::StatusOr<std::unique_ptr<RealZooKeeper>> server = RealZooKeeper::Start();
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<std::string> dir = MakeTempDir("zkcpp-demo-");
  ASSERT_THAT(dir, IsOk());
  const std::string log_path = absl::StrCat(*dir, "/demo.log");

  absl::StatusOr<ChildProcess> demo = ChildProcess::Spawn(
      {ZKCPP_DEMO_BINARY, absl::StrCat("--connect=", (*server)->connect_string())}, log_path);
  ASSERT_THAT(demo, IsOk());
  // Generous: four scenarios take well under ten seconds, but the machine may be loaded.
  absl::StatusOr<int> exit = demo->WaitForExit(absl::Now() + absl::Seconds(150));
  const std::string output = ReadFile(log_path);
  // The demo's own story is the best failure message; ctest --output-on-failure shows it.
  std::cout << output << std::flush;
  RemoveTempDir(*dir);
  ASSERT_THAT(exit, IsOk());
  EXPECT_EQ(DescribeWaitStatus(*exit), "exited with code 0");
  EXPECT_THAT(output, HasSubstr("all 4 scenarios ok"));
  EXPECT_THAT(output, HasSubstr("overlaps: 0"));

  // Each scenario removed its subtree, and the last one the shared parent.
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Connect({.connect_string = (*server)->connect_string()});
  ASSERT_THAT(client, IsOk());
  ASSERT_THAT((*client)->WaitUntilConnected(std::chrono::seconds(10)), IsOk());
  absl::StatusOr<std::optional<Stat>> left = (*client)->Exists("/zkcpp-demo");
  ASSERT_THAT(left, IsOk());
  EXPECT_FALSE(left->has_value()) << "the demo left /zkcpp-demo behind";
}

}  // namespace
}  // namespace zk::testing
