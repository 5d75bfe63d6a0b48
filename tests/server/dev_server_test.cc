// zkcpp-server as a development server: `--config=zoo.cfg` (zoo_cfg.h). The
// parser is tested directly; the binary is run as a child, and what the file
// asked for is checked on the wire: the port it listens on, the session
// timeouts it negotiates, the four-letter words it answers.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/child_process.h"
#include "harness/net.h"
#include "raw_client.h"
#include "st_client.h"
#include "zoo_cfg.h"

namespace zk::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using zk::internal::ParseZooConfig;
using zk::internal::ZooConfig;

constexpr absl::Duration kWait = absl::Seconds(30);

TEST(ZooCfgTest, ReadsJavaPropertiesSyntax) {
  absl::StatusOr<ZooConfig> config = ParseZooConfig(
      "# a comment\n"
      "  ! another = comment\n"
      "\n"
      "tickTime=250\n"
      "  clientPort : 2181  \r\n"
      "maxClientCnxns 7\n"
      "minSessionTimeout = \\\n"
      "    1000\n"
      "4lw.commands.whitelist = srvr, ruok ,conf\n",
      "zoo.cfg");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tick_time_ms, 250);
  EXPECT_EQ(config->client_port, 2181);
  EXPECT_EQ(config->max_client_connections, 7);
  EXPECT_EQ(config->min_session_timeout_ms, 1000);
  EXPECT_FALSE(config->max_session_timeout_ms.has_value());
  ASSERT_TRUE(config->four_letter_words.has_value());
  EXPECT_THAT(*config->four_letter_words, ElementsAre("srvr", "ruok", "conf"));
  EXPECT_TRUE(config->notes.empty());
}

TEST(ZooCfgTest, NotesEveryKeyItDoesNotHonour) {
  absl::StatusOr<ZooConfig> config = ParseZooConfig(
      "initLimit=10\n"
      "dataDir=/var/lib/zookeeper\n"
      "autopurge.purgeInterval=1\n"
      "server.1=localhost:2888:3888\n"
      "frobnicate=yes\n"
      "=orphan\n",
      "conf/zoo.cfg");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->notes.size(), 6u);
  EXPECT_THAT(config->notes[0], HasSubstr("conf/zoo.cfg:1: initLimit ignored: no replication"));
  EXPECT_THAT(config->notes[1], HasSubstr("conf/zoo.cfg:2: dataDir ignored: no persistence"));
  EXPECT_THAT(config->notes[2],
              HasSubstr("conf/zoo.cfg:3: autopurge.purgeInterval ignored: no persistence"));
  EXPECT_THAT(config->notes[3], HasSubstr("conf/zoo.cfg:4: server.1 ignored: no replication"));
  EXPECT_EQ(config->notes[4], "conf/zoo.cfg:5: frobnicate ignored: unknown key");
  EXPECT_EQ(config->notes[5], "conf/zoo.cfg:6: a line without a key ignored");
}

TEST(ZooCfgTest, BadValuesNameFileLineKeyAndProblem) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"\n\ntickTime=2s\n", "zoo.cfg:3: tickTime: not a number: \"2s\""},
           {"tickTime=0\n", "zoo.cfg:1: tickTime: must be positive, got 0"},
           {"clientPort=70000\n", "zoo.cfg:1: clientPort: must be in 0..65535, got 70000"},
           {"maxClientCnxns=-3\n", "zoo.cfg:1: maxClientCnxns: must not be negative, got -3"},
           {"maxSessionTimeout=\n", "zoo.cfg:1: maxSessionTimeout: not a number: \"\""},
           {"clientPortAddress=example\n",
            "zoo.cfg:1: clientPortAddress: not an IPv4 address: \"example\""},
       }) {
    absl::StatusOr<ZooConfig> config = ParseZooConfig(c.text, "zoo.cfg");
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.message));
  }
}

TEST(ZooCfgTest, MinusOneKeepsTheDefaultTimeout) {
  absl::StatusOr<ZooConfig> config = ParseZooConfig("minSessionTimeout=-1\n", "zoo.cfg");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->min_session_timeout_ms.has_value());
}

// Reads from `fd` until `done(text)` or EOF or `deadline` (a past deadline reads only what is
// there already); returns what it read.
template <typename Done>
std::string ReadUntil(int fd, absl::Time deadline, Done done) {
  std::string text;
  while (!done(text)) {
    const int64_t left_ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left_ms));
    if (ready == 0 && left_ms == 0) break;
    if (ready <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

// zkcpp-server run as a child with `--config=<dir>/zoo.cfg` and more flags.
class DevServer {
 public:
  // Writes `zoo_cfg` and starts the server; returns once it printed its connect
  // string or exited. Check started() and stderr_text().
  DevServer(const std::string& zoo_cfg, std::vector<std::string> flags) {
    const std::string dir =
        absl::StrCat(::testing::TempDir(), "dev_server_test-", getpid(), "-", counter_++);
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/zoo.cfg";
    std::ofstream(path) << zoo_cfg;
    std::vector<std::string> argv = {ZKCPP_SERVER_BINARY, "--config=" + path};
    argv.insert(argv.end(), flags.begin(), flags.end());
    int out[2];
    int err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
    const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    absl::StatusOr<ChildProcess> child =
        ChildProcess::Spawn(argv, ChildProcess::Stdio{in, out[1], err[1]});
    close(in);
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
    if (!child.ok()) return;
    child_ = *std::move(child);
    const absl::Time deadline = absl::Now() + kWait;
    connect_string_ = ReadUntil(out_, deadline, [](const std::string& text) {
      return text.find('\n') != std::string::npos;
    });
    if (!connect_string_.empty() && connect_string_.back() == '\n') connect_string_.pop_back();
    // Everything zkcpp-server writes to stderr at start precedes its connect
    // string on stdout, so it is in the pipe by now; if it exited instead, read
    // to EOF.
    stderr_ = ReadUntil(err_, started() ? absl::InfinitePast() : deadline,
                        [](const std::string&) { return false; });
    if (started()) port_ = std::stoi(connect_string_.substr(connect_string_.rfind(':') + 1));
  }
  ~DevServer() {
    child_.KillAndReap();
    if (out_ >= 0) close(out_);
    if (err_ >= 0) close(err_);
  }

  bool started() const { return connect_string_.find(':') != std::string::npos; }
  const std::string& connect_string() const { return connect_string_; }
  int port() const { return port_; }
  const std::string& stderr_text() const { return stderr_; }
  // The exit status of a server that did not start.
  absl::StatusOr<int> WaitForExit() { return child_.WaitForExit(absl::Now() + kWait); }
  // Stops the server as a user does (SIGTERM); returns its exit status.
  absl::StatusOr<int> Stop() {
    if (absl::Status s = child_.Signal(SIGTERM); !s.ok()) return s;
    return WaitForExit();
  }

 private:
  static inline int counter_ = 0;
  ChildProcess child_;
  int out_ = -1;
  int err_ = -1;
  std::string connect_string_;
  std::string stderr_;
  int port_ = 0;
};

// The session timeout a handshake asking for `requested_ms` negotiates.
int32_t NegotiatedTimeout(int port, int32_t requested_ms) {
  RawClient client(port);
  std::optional<std::string> response = client.Handshake(requested_ms);
  if (!response) return -1;
  Cursor cursor(*response);
  cursor.Int();  // protocol version
  return cursor.Int();
}

TEST(DevServerTest, HonoursTheKeysOfZooCfg) {
  absl::StatusOr<std::vector<int>> ports = PickFreeLoopbackPorts(1);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const int port = (*ports)[0];
  DevServer server(absl::StrCat("# a developer's zoo.cfg\n"
                                "tickTime=100\n"
                                "clientPort=",
                                port,
                                "\n"
                                "clientPortAddress=127.0.0.1\n"
                                "minSessionTimeout=1500\n"
                                "maxSessionTimeout=3000\n"
                                "4lw.commands.whitelist=ruok, conf\n"
                                "initLimit=10\n"
                                "dataDir=/var/lib/zookeeper\n"
                                "server.1=127.0.0.1:2888:3888\n"
                                "bogusKey=1\n"),
                   {});
  ASSERT_TRUE(server.started()) << server.stderr_text();
  EXPECT_EQ(server.connect_string(), absl::StrCat("127.0.0.1:", port));
  ASSERT_EQ(server.port(), port);

  // Clamped to [minSessionTimeout, maxSessionTimeout] (the defaults would be
  // 200 and 2000).
  EXPECT_EQ(NegotiatedTimeout(port, 100), 1500);
  EXPECT_EQ(NegotiatedTimeout(port, 2500), 2500);
  EXPECT_EQ(NegotiatedTimeout(port, 60000), 3000);

  // The whitelist replaces the default (srvr).
  EXPECT_EQ(FourLetterWord(port, "ruok"), "imok");
  EXPECT_THAT(FourLetterWord(port, "conf"), HasSubstr("tickTime=100"));
  EXPECT_THAT(FourLetterWord(port, "srvr"), HasSubstr("not in the whitelist"));

  const std::string& err = server.stderr_text();
  EXPECT_THAT(err, HasSubstr("zoo.cfg:8: initLimit ignored: no replication"));
  EXPECT_THAT(err, HasSubstr("zoo.cfg:9: dataDir ignored: no persistence"));
  EXPECT_THAT(err, HasSubstr("zoo.cfg:10: server.1 ignored: no replication"));
  EXPECT_THAT(err, HasSubstr("zoo.cfg:11: bogusKey ignored: unknown key"));
  EXPECT_THAT(err, Not(HasSubstr("tickTime")));
  EXPECT_THAT(err, Not(HasSubstr("clientPort")));
}

// clientPortAddress binds one address: 127.0.0.2 (loopback too, on Linux) answers, 127.0.0.1 on
// the same port does not.
TEST(DevServerTest, ClientPortAddressIsTheBindAddress) {
  DevServer server("clientPortAddress=127.0.0.2\n4lw.commands.whitelist=ruok\n", {});
  ASSERT_TRUE(server.started()) << server.stderr_text();
  EXPECT_EQ(server.connect_string(), absl::StrCat("127.0.0.2:", server.port()));
  absl::StatusOr<std::string> answer =
      FourLetterWord(server.connect_string(), "ruok", absl::Now() + kWait);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, "imok");
  EXPECT_FALSE(IsLoopbackPortAccepting(server.port()));
}

TEST(DevServerTest, FlagsOverrideTheFile) {
  DevServer server("tickTime=100\nmaxSessionTimeout=3000\n4lw.commands.whitelist=ruok\n",
                   {"--max_session_timeout_ms=5000", "--four_letter_words=srvr"});
  ASSERT_TRUE(server.started()) << server.stderr_text();
  EXPECT_EQ(NegotiatedTimeout(server.port(), 60000), 5000);
  EXPECT_EQ(NegotiatedTimeout(server.port(), 1),
            200);  // 2 x tickTime of the file
  EXPECT_THAT(FourLetterWord(server.port(), "srvr"), HasSubstr("Zookeeper version"));
  EXPECT_THAT(FourLetterWord(server.port(), "ruok"), HasSubstr("not in the whitelist"));
}

TEST(DevServerTest, BadValueEndsWithFileLineKeyAndProblem) {
  DevServer server("tickTime=100\nclientPort=twenty\n", {});
  ASSERT_FALSE(server.started()) << server.connect_string();
  EXPECT_THAT(server.stderr_text(),
              ::testing::MatchesRegex("zkcpp-server: .*/zoo\\.cfg:2: clientPort: "
                                      "not a number: \"twenty\"\n"));
  absl::StatusOr<int> status = server.WaitForExit();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << DescribeWaitStatus(*status);
}

TEST(DevServerTest, DataDirKeepsTheTreeAcrossRestarts) {
  const std::string data_dir =
      absl::StrCat(::testing::TempDir(), "dev_server_test-data-", getpid());
  std::filesystem::remove_all(data_dir);
  const std::vector<std::string> flags = {"--data_dir=" + data_dir, "--tick_time_ms=100"};
  Stat before{};
  {
    DevServer server("", flags);
    ASSERT_TRUE(server.started()) << server.stderr_text();
    StClient client(server.connect_string());
    ASSERT_TRUE(client.WaitConnected());
    ASSERT_EQ(client.Create("/a", "hello"), ZOK);
    ASSERT_EQ(client.Set("/a", "world"), ZOK);
    ASSERT_EQ(client.Create("/a/b", ""), ZOK);
    ASSERT_EQ(client.SetAcl("/a/b", -1, &ZOO_READ_ACL_UNSAFE), ZOK);
    ASSERT_EQ(client.Create("/ephemeral", "", ZOO_EPHEMERAL), ZOK);
    ASSERT_EQ(client.Exists("/a", false, &before), ZOK);
    absl::StatusOr<int> status = server.Stop();
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << DescribeWaitStatus(*status) << "\n"
        << server.stderr_text();
  }
  DevServer server("", flags);
  ASSERT_TRUE(server.started()) << server.stderr_text();
  StClient client(server.connect_string());
  ASSERT_TRUE(client.WaitConnected());
  std::string data;
  Stat after{};
  ASSERT_EQ(client.Get("/a", false, &data, &after), ZOK);
  EXPECT_EQ(data, "world");
  EXPECT_EQ(after.version, 1);
  EXPECT_EQ(after.czxid, before.czxid);
  EXPECT_EQ(after.mzxid, before.mzxid);
  EXPECT_EQ(after.ctime, before.ctime);
  EXPECT_EQ(after.numChildren, 1);
  std::vector<std::string> acl;
  ASSERT_EQ(client.GetAcl("/a/b", &acl), ZOK);
  std::vector<std::string> read_only_acl;
  ASSERT_EQ(client.GetAcl("/zookeeper/config", &read_only_acl), ZOK);  // world:anyone READ
  EXPECT_EQ(acl, read_only_acl);
  // Sessions do not survive a restart, nor do their ephemerals.
  EXPECT_EQ(client.Exists("/ephemeral", false), ZNONODE);
  // New transactions continue after the restored zxid.
  Stat created{};
  ASSERT_EQ(client.Create2("/c", "", 0, nullptr, &created), ZOK);
  EXPECT_GT(created.czxid, before.pzxid);
  EXPECT_GT(created.czxid, before.mzxid);
  std::filesystem::remove_all(data_dir);
}

TEST(DevServerTest, CorruptSnapshotStopsTheStart) {
  const std::string data_dir =
      absl::StrCat(::testing::TempDir(), "dev_server_test-corrupt-", getpid());
  std::filesystem::create_directories(data_dir);
  std::ofstream(data_dir + "/zkcpp-tree.snapshot") << "not a snapshot";
  DevServer server("", {"--data_dir=" + data_dir});
  EXPECT_FALSE(server.started()) << server.connect_string();
  EXPECT_THAT(server.stderr_text(), HasSubstr("zkcpp-tree.snapshot: not a zkcpp snapshot"));
  std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace zk::testing
