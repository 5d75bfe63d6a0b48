// SASL DIGEST-MD5 on the embedded server, against peers written elsewhere: raw jute packets
// (sasl_raw_probe.py, whose transcript was recorded from Debian's ZooKeeper 3.8.0 with the
// same JAAS file), the Java client (java/SaslCheck.java on Debian's zookeeper.jar) and, under
// SaslRealTest (label "real"), a real ZooKeeper configured with the same JAAS file, whose
// answers to the probe, to kazoo (kazoo_sasl.py) and to the Java client must be the embedded
// server's.

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "jaas_config.h"
#include "test_util.h"
#include "zk/testing/embedded_server.h"
#include "zk/testing/real_zookeeper.h"

namespace zk::testing {
namespace {

const std::string kSourceDir = ZKCPP_SASL_TEST_SOURCE_DIR;
const std::string kJaas = kSourceDir + "/sasl_jaas.conf";
constexpr char kJavaClasspath[] =
    "/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:"
    "/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar";

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::map<std::string, std::string> JaasUsers() {
  auto users = zk::internal::ReadJaasServerUsers(kJaas);
  EXPECT_TRUE(users.ok()) << users.status();
  return users.ok() ? *users : std::map<std::string, std::string>{};
}

// Runs a peer script or program; returns its stdout (stderr, kazoo's log, is dropped) and
// expects exit status 0.
std::string RunPeer(const std::string& command) {
  int status = -1;
  std::string out = RunCommand("(timeout 120 " + command + " 2>/dev/null)", &status);
  EXPECT_EQ(status, 0) << command << "\n" << out;
  return out;
}

std::string Probe(const std::string& hosts, const std::string& extra = "") {
  return RunPeer("/usr/bin/python3 " + kSourceDir + "/sasl_raw_probe.py " + hosts + extra);
}

std::string Kazoo(const std::string& hosts) {
  return RunPeer("/usr/bin/python3 " + kSourceDir + "/kazoo_sasl.py --hosts=" + hosts);
}

// The Java client with the JAAS file `jaas` (its Client section).
std::string Java(const std::string& hosts, const std::string& jaas) {
  return RunPeer(absl::StrCat("java -Djava.security.auth.login.config=", jaas, " -cp ",
                              kJavaClasspath, " ", kSourceDir, "/java/SaslCheck.java ", hosts,
                              " /java-sasl"));
}

bool HaveJava() {
  return std::filesystem::exists("/usr/share/java/zookeeper.jar") &&
         std::filesystem::exists("/usr/bin/java");
}

// A JAAS file whose Client section has the wrong password for alice.
std::string WrongPasswordJaas() {
  const std::string path = absl::StrCat(::testing::TempDir(), "sasl_test-wrong-", getpid());
  std::ofstream(path) << "Client { org.apache.zookeeper.server.auth.DigestLoginModule required "
                         "username=\"alice\" password=\"wrong\"; };\n";
  return path;
}

class SaslTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = EmbeddedServer::Start({.sasl_users = JaasUsers()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  std::unique_ptr<EmbeddedServer> server_;
};

TEST_F(SaslTest, RawExchangesAnswerAsTheRealServerDid) {
  EXPECT_EQ(Probe(server_->connect_string()),
            ReadFile(kSourceDir + "/sasl_raw_probe.expected"));
  EXPECT_GT(server_->counters().requests_by_op["sasl"], 20);
}

TEST(SaslWithoutUsersTest, SaslPacketsAreAnsweredOkWithoutToken) {
  auto server = EmbeddedServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(Probe((*server)->connect_string(), " --without-users"),
            ReadFile(kSourceDir + "/sasl_raw_probe_without_users.expected"));
}

TEST_F(SaslTest, JavaClientAuthenticatesCreatesWithSaslAclAndSeesItsId) {
  if (!HaveJava()) GTEST_SKIP() << "Debian's zookeeper (Java) is not installed";
  EXPECT_EQ(Java(server_->connect_string(), kJaas),
            "states SyncConnected,SaslAuthenticated\n"
            "acl [31,s{'sasl,'alice} ]\n"
            "whoami sasl:alice ip:127.0.0.1\n");
  EXPECT_EQ(Java(server_->connect_string(), WrongPasswordJaas()),
            "states SyncConnected,AuthFailed\n");
}

TEST(SaslOptionsTest, RefusesKerberosPrincipalNames) {
  auto server = EmbeddedServer::Start({.sasl_users = {{"zk/host@REALM", "x"}}});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SaslServerFlagTest, ZkcppServerNamesTheJaasFileAndTheProblem) {
  const std::string path = absl::StrCat(::testing::TempDir(), "sasl_test-krb-", getpid());
  std::ofstream(path) << "Server {\n  com.sun.security.auth.module.Krb5LoginModule required;\n};\n";
  int status = -1;
  std::string out = RunCommand(absl::StrCat("timeout 20 ", ZKCPP_SERVER_BINARY,
                                            " --port=0 --jaas_config=", path),
                               &status);
  EXPECT_EQ(WEXITSTATUS(status), 2) << out;
  EXPECT_EQ(out, absl::StrCat("zkcpp-server: ", path,
                              ":2: section Server uses com.sun.security.auth.module."
                              "Krb5LoginModule; only org.apache.zookeeper.server.auth."
                              "DigestLoginModule (SASL DIGEST-MD5) is supported\n"));
}

TEST(SaslServerFlagTest, HelpDescribesTheJaasFlag) {
  int status = -1;
  std::string out = RunCommand(absl::StrCat(ZKCPP_SERVER_BINARY, " --help"), &status);
  EXPECT_NE(out.find("--jaas_config (a JAAS file as a real server takes"), std::string::npos)
      << out;
}

// The same peers against Debian's ZooKeeper started with the same JAAS file and SASL provider.
TEST(SaslRealTest, RealAndEmbeddedServersAnswerAlike) {
  RealZooKeeperOptions options;
  options.jvm.jvm_properties = {
      {"java.security.auth.login.config", kJaas},
      {"zookeeper.authProvider.1", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"}};
  auto real = RealZooKeeper::Start(options);
  ASSERT_TRUE(real.ok()) << real.status();
  const std::string real_hosts = (*real)->connect_string();
  auto embedded = EmbeddedServer::Start({.sasl_users = JaasUsers()});
  ASSERT_TRUE(embedded.ok()) << embedded.status();
  const std::string hosts = (*embedded)->connect_string();

  const std::string probe = Probe(real_hosts);
  EXPECT_EQ(probe, ReadFile(kSourceDir + "/sasl_raw_probe.expected"));
  EXPECT_EQ(Probe(hosts), probe);
  const std::string kazoo = Kazoo(real_hosts);
  EXPECT_NE(kazoo.find("checks passed"), std::string::npos) << kazoo;
  EXPECT_EQ(Kazoo(hosts), kazoo);
  if (HaveJava()) {
    const std::string java = Java(real_hosts, kJaas);
    EXPECT_NE(java.find("SaslAuthenticated"), std::string::npos) << java;
    EXPECT_EQ(Java(hosts, kJaas), java);
    const std::string wrong = WrongPasswordJaas();
    EXPECT_EQ(Java(hosts, wrong), Java(real_hosts, wrong));
  }
}

TEST(SaslRealTest, WithoutUsersRealAndEmbeddedServersAnswerAlike) {
  auto real = RealZooKeeper::Start();
  ASSERT_TRUE(real.ok()) << real.status();
  auto embedded = EmbeddedServer::Start();
  ASSERT_TRUE(embedded.ok()) << embedded.status();
  const std::string probe = Probe((*real)->connect_string(), " --without-users");
  EXPECT_EQ(probe, ReadFile(kSourceDir + "/sasl_raw_probe_without_users.expected"));
  EXPECT_EQ(Probe((*embedded)->connect_string(), " --without-users"), probe);
}

}  // namespace
}  // namespace zk::testing
