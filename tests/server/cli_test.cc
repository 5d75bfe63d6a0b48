// Scripted tests with the command-line clients Debian ships: the C cli_mt and
// the Java zkCli.sh (slow to start, so only one test uses it).

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "test_util.h"
#include "zk/testing/embedded_server.h"

namespace zk::testing {
namespace {

using namespace std::chrono_literals;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = EmbeddedServer::Start({.tick_time = 100ms});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  std::unique_ptr<EmbeddedServer> server_;
};

TEST_F(CliTest, CliMtCreatesAndLists) {
  const char* cli = "/usr/lib/zookeeper/bin/cli_mt";
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "zookeeper-bin is not installed";
  std::string hosts = server_->connect_string();
  int status = 0;
  std::string out = RunCommand(std::string("timeout 20 ") + cli + " -h " + hosts + " -c 'create /cli'",
                        &status);
  EXPECT_NE(out.find("[/cli]: rc = 0"), std::string::npos) << out;
  out = RunCommand(std::string("timeout 20 ") + cli + " -h " + hosts + " -c 'ls /'", &status);
  EXPECT_NE(out.find("/: rc = 0"), std::string::npos) << out;
  EXPECT_NE(out.find("\tcli\n"), std::string::npos) << out;
  out = RunCommand(std::string("timeout 20 ") + cli + " -h " + hosts + " -c 'create /cli'", &status);
  EXPECT_NE(out.find("rc = -110"), std::string::npos) << out;
}

TEST_F(CliTest, ZkCliShRunsASession) {
  const char* cli = "/usr/share/zookeeper/bin/zkCli.sh";
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "zookeeper is not installed";
  int status = -1;
  std::string out = RunCommand(std::string("printf 'create /java hello\\nget /java\\n"
                                    "create -e /java/eph x\\nls /java\\ndeleteall /java\\n"
                                    "ls /\\nquit\\n' | timeout 60 ") +
                            cli + " -server " + server_->connect_string(),
                        &status);
  EXPECT_NE(out.find("Created /java"), std::string::npos) << out;
  EXPECT_NE(out.find("\nhello\n"), std::string::npos) << out;
  EXPECT_NE(out.find("[eph]"), std::string::npos) << out;
  EXPECT_NE(out.find("[zookeeper]"), std::string::npos) << out;
  EXPECT_GE(server_->counters().requests_by_op["multi"], 1);  // deleteall
}

}  // namespace
}  // namespace zk::testing
