// Self-tests of RealZooKeeper, ZooKeeperProcess and ForceExpireSession against real JVMs.

#include "zk/testing/real_zookeeper.h"

#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/net.h"
#include "harness/raw_session.h"
#include "harness/zookeeper_process.h"
#include "testing/status_matchers.h"

namespace zk::testing {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::string> Srvr(const std::string& host_port,
                                 absl::Duration timeout = absl::Seconds(5)) {
  return FourLetterWord(host_port, "srvr", absl::Now() + timeout);
}

bool ProcessExists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

TEST(RealZooKeeperTest, StartsServesAndStopsCleanly) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RealZooKeeper> server, RealZooKeeper::Start());
  const std::string dir = server->directory();
  const int port = server->port();
  EXPECT_EQ(server->connect_string(), absl::StrCat("127.0.0.1:", port));
  EXPECT_TRUE(std::filesystem::exists(dir + "/zoo.cfg"));

  ZK_ASSERT_OK_AND_ASSIGN(std::string srvr, Srvr(server->connect_string()));
  EXPECT_EQ(ParseSrvrMode(srvr), "standalone");
  ZK_ASSERT_OK_AND_ASSIGN(std::string conf, FourLetterWord(server->connect_string(), "conf",
                                                           absl::Now() + absl::Seconds(5)));
  EXPECT_THAT(conf, HasSubstr("tickTime=500"));
  EXPECT_THAT(conf, HasSubstr("minSessionTimeout=1000"));

  ZK_ASSERT_OK(server->Stop());
  EXPECT_FALSE(server->running());
  EXPECT_EQ(server->pid(), -1);
  EXPECT_FALSE(IsLoopbackPortAccepting(port));
  EXPECT_TRUE(IsLoopbackPortBindable(port));
  EXPECT_THAT(server->Stop(), StatusIs(absl::StatusCode::kFailedPrecondition));

  server.reset();
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
}

TEST(RealZooKeeperTest, DestructorKillsTheJvmAndRemovesTheDirectory) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RealZooKeeper> server, RealZooKeeper::Start());
  const pid_t pid = server->pid();
  const std::string dir = server->directory();
  const int port = server->port();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(ProcessExists(pid));

  server.reset();
  EXPECT_FALSE(ProcessExists(pid));
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
  EXPECT_TRUE(IsLoopbackPortBindable(port));
}

TEST(RealZooKeeperTest, RestartKeepsDataSessionsAndEphemerals) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RealZooKeeper> server, RealZooKeeper::Start());
  const std::string hosts = server->connect_string();
  const pid_t old_pid = server->pid();
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> session, RawSession::Connect(hosts));
  ZK_ASSERT_OK(session->Create("/persistent", "data"));
  ZK_ASSERT_OK(session->Create("/ephemeral", "", RawCreateMode::kEphemeral));
  const int64_t last_zxid = session->last_zxid();
  ASSERT_GT(last_zxid, 0);

  ZK_ASSERT_OK(server->Restart());  // SIGKILL + start on the same port and data.
  EXPECT_NE(server->pid(), old_pid);
  EXPECT_EQ(server->connect_string(), hosts);

  // The session resumes (the server reloaded it) with its zxid, and its ephemeral survived.
  RawConnectOptions resume;
  resume.session_id = session->session_id();
  resume.password = session->password();
  resume.last_zxid_seen = last_zxid;
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> resumed,
                          RawSession::Connect(hosts, resume));
  EXPECT_EQ(resumed->session_id(), session->session_id());
  EXPECT_THAT(resumed->Exists("/persistent"), IsOkAndHolds(true));
  EXPECT_THAT(resumed->Exists("/ephemeral"), IsOkAndHolds(true));
  EXPECT_THAT(resumed->Exists("/never-created"), IsOkAndHolds(false));
}

// RealZooKeeper::ExpireSession is ForceExpireSession on the server's address: both are used.
TEST(RealZooKeeperTest, ExpireSessionExpiresOnTheServer) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RealZooKeeper> server, RealZooKeeper::Start());
  const std::string hosts = server->connect_string();
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> owner, RawSession::Connect(hosts));
  ZK_ASSERT_OK(owner->Create("/owned", "", RawCreateMode::kEphemeral));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> observer, RawSession::Connect(hosts));

  // A wrong password is refused and expires nothing.
  std::string wrong = owner->password();
  wrong[0] ^= 1;
  EXPECT_THAT(ForceExpireSession(hosts, owner->session_id(), wrong),
              StatusIs(absl::StatusCode::kAborted, "invalid"));
  EXPECT_THAT(server->ExpireSession(owner->session_id(), wrong),
              StatusIs(absl::StatusCode::kAborted, "invalid"));
  EXPECT_THAT(observer->Exists("/owned"), IsOkAndHolds(true));

  ZK_ASSERT_OK(server->ExpireSession(owner->session_id(), owner->password()));
  // closeSession is answered after the ephemerals are deleted: no wait needed.
  EXPECT_THAT(observer->Exists("/owned"), IsOkAndHolds(false));
  // The owner's connection was taken over and closed; its reconnect is refused as expired.
  EXPECT_THAT(owner->Ping(), ::testing::Not(IsOk()));
  RawConnectOptions resume;
  resume.session_id = owner->session_id();
  resume.password = owner->password();
  EXPECT_THAT(RawSession::Connect(hosts, resume),
              StatusIs(absl::StatusCode::kAborted, "session is invalid"));
  EXPECT_THAT(ForceExpireSession(hosts, owner->session_id(), owner->password()),
              StatusIs(absl::StatusCode::kAborted));
  // A stopped server cannot expire anything.
  ZK_ASSERT_OK(server->Kill());
  EXPECT_THAT(server->ExpireSession(observer->session_id(), observer->password()),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(RealZooKeeperTest, StartWithoutTheJarsNamesTheMissingFile) {
  RealZooKeeperOptions options;
  options.jvm.classpath = "/nonexistent-zkcpp-jars/zookeeper.jar";
  EXPECT_THAT(RealZooKeeper::Start(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "/nonexistent-zkcpp-jars/zookeeper.jar is missing"));
}

TEST(RealZooKeeperTest, PauseFreezesAndResumeThaws) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RealZooKeeper> server, RealZooKeeper::Start());
  ZK_ASSERT_OK(server->Pause());
  EXPECT_THAT(server->Pause(), StatusIs(absl::StatusCode::kFailedPrecondition));
  // A stopped JVM never answers: the request can only end at its deadline.
  EXPECT_THAT(Srvr(server->connect_string(), absl::Milliseconds(300)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ZK_ASSERT_OK(server->Resume());
  EXPECT_THAT(server->Resume(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ZK_ASSERT_OK_AND_ASSIGN(std::string srvr, Srvr(server->connect_string()));
  EXPECT_EQ(ParseSrvrMode(srvr), "standalone");
}

TEST(RealZooKeeperTest, KillThenRestartOnTheSamePort) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RealZooKeeper> server, RealZooKeeper::Start());
  ZK_ASSERT_OK(server->Pause());  // Kill must work on a stopped JVM too.
  ZK_ASSERT_OK(server->Kill());
  EXPECT_FALSE(server->running());
  EXPECT_FALSE(IsLoopbackPortAccepting(server->port()));
  EXPECT_THAT(server->Kill(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ZK_ASSERT_OK(server->Restart());
  ZK_ASSERT_OK_AND_ASSIGN(std::string srvr, Srvr(server->connect_string()));
  EXPECT_EQ(ParseSrvrMode(srvr), "standalone");
  // Both runs logged to the same file, each after its own start marker.
  const std::string log = server->LogTail(1 << 24);
  size_t markers = 0;
  for (size_t at = log.find("starting ZooKeeper"); at != std::string::npos;
       at = log.find("starting ZooKeeper", at + 1)) {
    ++markers;
  }
  EXPECT_EQ(markers, 2u);
}

TEST(RealZooKeeperTest, StartFailureReportsTheExitAndTheLog) {
  RealZooKeeperOptions options;
  options.jvm.java = "/bin/false";  // Exits at once with code 1.
  EXPECT_THAT(RealZooKeeper::Start(options),
              StatusIs(absl::StatusCode::kUnavailable, "exited with code 1 before serving"));
}

TEST(ZooKeeperProcessTest, ReportsABindCollision) {
  // Hold a port as "another process" would.
  ZK_ASSERT_OK_AND_ASSIGN(std::vector<int> ports, PickFreeLoopbackPorts(1));
  ScopedFd holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(holder.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(ports[0]));
  ASSERT_EQ(::bind(holder.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(holder.get(), 4), 0);

  ZK_ASSERT_OK_AND_ASSIGN(std::string dir, MakeTempDir("zkcpp-collision-test-"));
  ZooKeeperJvmOptions jvm;
  {
    ZooKeeperProcess process(dir, ports[0], DefaultZooKeeperConfig(jvm, ports[0]), 0, jvm,
                             {"standalone"});
    EXPECT_THAT(process.Start(), StatusIs(absl::StatusCode::kUnavailable, "bind collision"));
    EXPECT_TRUE(process.LogShowsBindCollision());
    EXPECT_FALSE(process.running());
  }
  RemoveTempDir(dir);
}

}  // namespace
}  // namespace zk::testing
