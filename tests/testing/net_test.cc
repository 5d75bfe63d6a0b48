// Unit tests of the TCP helpers (no JVM).

#include "harness/net.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace zk::testing {
namespace {

TEST(NetTest, ParsesHostPort) {
  ZK_ASSERT_OK_AND_ASSIGN(HostPort parsed, ParseHostPort("127.0.0.1:2181"));
  EXPECT_EQ(parsed.host, "127.0.0.1");
  EXPECT_EQ(parsed.port, 2181);
  EXPECT_THAT(ParseHostPort("localhost"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHostPort("h:0"), StatusIs(absl::StatusCode::kInvalidArgument, "bad port"));
  EXPECT_THAT(ParseHostPort("h:70000"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHostPort(":1"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NetTest, ParsesSrvrMode) {
  EXPECT_EQ(ParseSrvrMode("Zookeeper version: 3.8.0\nZxid: 0x0\nMode: follower\nNode count: 5\n"),
            "follower");
  EXPECT_EQ(ParseSrvrMode("This ZooKeeper instance is not currently serving requests\n"), "");
}

TEST(NetTest, PicksDistinctBindablePorts) {
  ZK_ASSERT_OK_AND_ASSIGN(std::vector<int> ports, PickFreeLoopbackPorts(9));
  ASSERT_EQ(ports.size(), 9u);
  EXPECT_EQ(std::set<int>(ports.begin(), ports.end()).size(), 9u);
  for (int port : ports) {
    EXPECT_GT(port, 0);
    EXPECT_TRUE(IsLoopbackPortBindable(port)) << port;
  }
}

TEST(NetTest, ConnectToAClosedPortIsUnavailable) {
  ZK_ASSERT_OK_AND_ASSIGN(std::vector<int> ports, PickFreeLoopbackPorts(1));
  EXPECT_FALSE(IsLoopbackPortAccepting(ports[0]));
  EXPECT_THAT(FourLetterWord("127.0.0.1:" + std::to_string(ports[0]), "srvr",
                             absl::Now() + absl::Seconds(1)),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace zk::testing
