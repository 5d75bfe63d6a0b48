// Tests of the zkcpp command-line tool (tools/cli). Each test runs the built binary as a child
// process (cli_runner.h) and checks its exit code and output, and what it did to the tree with
// a zk::Client of its own. CliTest runs on every backend (testing/backend_test.h); CliUsageTest
// needs no server.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/child_process.h"
#include "harness/net.h"
#include "nlohmann/json.hpp"
#include "testing/backend_test.h"
#include "zk/client.h"
#include "zk/path.h"
#include "zk/recipes/leader_election.h"
#include "zk/recipes/lock.h"
#include "zk/recipes/service_registry.h"
#include "zk/testing/real_zookeeper.h"
#include "zk/testing/test_certificates.h"

namespace zk::cli_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;
using zk::testing::IsOk;

// Generous: sanitizer builds are slow. A correct run never waits this long.
constexpr absl::Duration kWait = absl::Seconds(30);

// The lines of `text`, without the trailing empty one.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// Parses `text` as one JSON object per line; fails the test on a line that is not one.
std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> objects;
  for (const std::string& line : Lines(text)) {
    nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(object.is_object()) << "not a JSON object: " << line;
    objects.push_back(std::move(object));
  }
  return objects;
}

std::string Describe(const CliResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\n--- stdout:\n", r.out, "\n--- stderr:\n", r.err);
}

class CliTest : public zk::testing::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<std::unique_ptr<Client>> client =
        Client::Connect({.connect_string = connect_string()});
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
    ASSERT_THAT(client_->WaitUntilConnected(std::chrono::seconds(30)), IsOk());
    ASSERT_THAT(client_->EnsurePath(Root()), IsOk());
  }

  std::string Connect() const { return "--connect=" + connect_string(); }
  // Runs zkcpp against this test's backend.
  CliResult Zkcpp(std::vector<std::string> args, std::string_view input = "") {
    args.insert(args.begin(), Connect());
    return RunCli(args, input, kWait);
  }
  std::unique_ptr<CliProcess> StartZkcpp(std::vector<std::string> args) {
    args.insert(args.begin(), Connect());
    absl::StatusOr<std::unique_ptr<CliProcess>> process = CliProcess::Start(args);
    EXPECT_THAT(process, IsOk());
    return process.ok() ? *std::move(process) : nullptr;
  }
  std::string P(std::string_view name) const { return JoinPath(Root(), name); }

  std::unique_ptr<Client> client_;
};

TEST_P(CliTest, CreateGetSetStatLsRmRoundTrip) {
  CliResult r = Zkcpp({"create", P("a"), "hello"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, P("a") + "\n");

  r = Zkcpp({"get", P("a")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "hello");  // stdout is a pipe: the data as is, no newline

  r = Zkcpp({"set", P("a"), "world", "--expected_version=0"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
  absl::StatusOr<GetResult> got = client_->Get(P("a"));
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->data, "world");
  EXPECT_EQ(got->stat.version, 1);

  r = Zkcpp({"stat", P("a")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Lines(r.out), ::testing::Contains("version = 1"));
  EXPECT_THAT(Lines(r.out), ::testing::Contains("data_length = 5"));

  r = Zkcpp({"create", "--parents", P("a/b/c")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Zkcpp({"create", P("a/seq-"), "--sequential"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, MatchesRegex(".*/a/seq-[0-9]{10}\n"));
  const std::string sequential = Lines(r.out)[0];

  r = Zkcpp({"ls", P("a")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Lines(r.out), ElementsAre("b", std::string(BaseName(sequential))));

  r = Zkcpp({"ls", "--recursive", P("a")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Lines(r.out), ElementsAre(P("a"), P("a/b"), P("a/b/c"), sequential));

  r = Zkcpp({"rm", sequential});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Zkcpp({"rm", "--recursive", P("a")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  absl::StatusOr<std::optional<Stat>> exists = client_->Exists(P("a"));
  ASSERT_THAT(exists, IsOk());
  EXPECT_FALSE(exists->has_value());
}

TEST_P(CliTest, DataFromStdinAndAfterDoubleDash) {
  const std::string binary("a\0b\xff\n", 5);
  CliResult r = Zkcpp({"create", "--stdin", P("bin")}, binary);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Zkcpp({"get", P("bin")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, binary);

  r = Zkcpp({"set", P("bin"), "--", "-1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  absl::StatusOr<GetResult> got = client_->Get(P("bin"));
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->data, "-1");
}

TEST_P(CliTest, EphemeralNodeEndsWithTheProcess) {
  CliResult r = Zkcpp({"create", "--ephemeral", P("e")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, P("e") + "\n");
  // zkcpp closed its session before exiting: the node is gone.
  absl::StatusOr<std::optional<Stat>> exists = client_->Exists(P("e"));
  ASSERT_THAT(exists, IsOk());
  EXPECT_FALSE(exists->has_value());
}

TEST_P(CliTest, FailedOperationsExitWithOneAndNameThePath) {
  CliResult r = Zkcpp({"get", P("missing")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("get " + P("missing") + ": node does not exist"));

  ASSERT_THAT(client_->Create(P("x"), "v"), IsOk());
  r = Zkcpp({"set", P("x"), "w", "--expected_version=5"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(P("x")));
  r = Zkcpp({"create", P("x")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(P("x")));
  ASSERT_THAT(client_->Create(P("x/child"), ""), IsOk());
  r = Zkcpp({"rm", P("x")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  r = Zkcpp({"stat", P("missing")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(P("missing")));
  r = Zkcpp({"rm", "--recursive", P("missing")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
}

TEST_P(CliTest, UsageErrorsExitWithTwo) {
  CliResult r = Zkcpp({"get", "relative/path"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("relative/path"));
  r = Zkcpp({"get", P("a"), "--no_such_flag"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("no_such_flag"));
  r = Zkcpp({"get", P("a"), "--ephemeral"});  // a flag of another subcommand
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("--ephemeral does not apply to 'get'"));
  r = Zkcpp({"set", P("a")});  // no data
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
}

TEST_P(CliTest, JsonOutputParses) {
  CliResult r = Zkcpp({"--json", "create", P("j"), "data"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<nlohmann::json> objects = JsonLines(r.out);
  ASSERT_EQ(objects.size(), 1u) << r.out;
  EXPECT_EQ(objects[0]["path"], P("j"));

  r = Zkcpp({"set", P("j"), "more", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  objects = JsonLines(r.out);
  ASSERT_EQ(objects.size(), 1u) << r.out;
  EXPECT_EQ(objects[0]["stat"]["version"], 1);

  r = Zkcpp({"get", P("j"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  objects = JsonLines(r.out);
  ASSERT_EQ(objects.size(), 1u) << r.out;
  absl::StatusOr<GetResult> got = client_->Get(P("j"));
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(objects[0]["path"], P("j"));
  EXPECT_EQ(objects[0]["data"], "more");
  EXPECT_EQ(objects[0]["stat"]["version"], got->stat.version);
  EXPECT_EQ(objects[0]["stat"]["mzxid"], got->stat.mzxid);
  EXPECT_EQ(objects[0]["stat"]["czxid"], got->stat.czxid);
  EXPECT_EQ(objects[0]["stat"]["data_length"], 4);

  r = Zkcpp({"stat", P("j"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  objects = JsonLines(r.out);
  ASSERT_EQ(objects.size(), 1u) << r.out;
  EXPECT_EQ(objects[0]["stat"]["mzxid"], got->stat.mzxid);

  ASSERT_THAT(client_->Create(P("j/k"), ""), IsOk());
  r = Zkcpp({"ls", P("j"), "--json", "--recursive"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  objects = JsonLines(r.out);
  ASSERT_EQ(objects.size(), 2u) << r.out;
  EXPECT_EQ(objects[0]["path"], P("j"));
  EXPECT_EQ(objects[0]["children"], nlohmann::json::array({"k"}));
  EXPECT_EQ(objects[1]["path"], P("j/k"));
  EXPECT_EQ(objects[1]["children"], nlohmann::json::array());

  r = Zkcpp({"rm", P("j"), "--recursive", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  objects = JsonLines(r.out);
  ASSERT_EQ(objects.size(), 1u) << r.out;
  EXPECT_EQ(objects[0]["deleted"], true);
}

TEST_P(CliTest, WatchCountOneSeesAChange) {
  ASSERT_THAT(client_->Create(P("w"), "old"), IsOk());
  std::unique_ptr<CliProcess> watch = StartZkcpp({"watch", P("w"), "--count=1", "--json"});
  ASSERT_NE(watch, nullptr);
  // zkcpp says so once the watch is armed: a change from here on is reported.
  ASSERT_TRUE(watch->WaitForStderr("watching " + P("w"), kWait));
  ASSERT_THAT(client_->Set(P("w"), "new"), IsOk());
  CliResult r = watch->Finish(kWait);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<nlohmann::json> events = JsonLines(r.out);
  ASSERT_EQ(events.size(), 1u) << r.out;
  EXPECT_EQ(events[0]["event"], "data-changed");
  EXPECT_EQ(events[0]["path"], P("w"));
}

TEST_P(CliTest, WatchEndsWithZeroOnSigint) {
  std::unique_ptr<CliProcess> watch = StartZkcpp({"watch", P("w2"), "--recursive"});
  ASSERT_NE(watch, nullptr);
  ASSERT_TRUE(watch->WaitForStderr("watching " + P("w2"), kWait));
  ASSERT_THAT(client_->Create(P("w2"), ""), IsOk());
  watch->Signal(SIGINT);
  CliResult r = watch->Finish(kWait);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_P(CliTest, LockRunsTheCommandWhileHeldAndReleases) {
  const std::string lock_path = P("lock");
  // The command lists the lock's nodes with zkcpp itself: exactly one, ours, while it runs.
  CliResult r = Zkcpp({"lock", lock_path, "--", "/bin/sh", "-c",
                       "\"$0\" \"$1\" ls \"$2\" && echo \"node=$ZKCPP_LOCK_NODE\"", CliPath(),
                       Connect(), lock_path});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_THAT(lines[0], MatchesRegex("_c_.*-lock-[0-9]{10}"));
  EXPECT_EQ(lines[1], "node=" + JoinPath(lock_path, lines[0]));
  EXPECT_THAT(r.err, HasSubstr("holding lock " + lock_path));
  // Released: the lock node is gone.
  absl::StatusOr<ChildrenResult> children = client_->GetChildren(lock_path);
  ASSERT_THAT(children, IsOk());
  EXPECT_THAT(children->children, IsEmpty());
}

TEST_P(CliTest, LockExitsWithTheCommandsCode) {
  CliResult r = Zkcpp({"lock", P("lock"), "--", "/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
  r = Zkcpp({"lock", P("lock"), "--", "/no/such/command"});
  EXPECT_EQ(r.exit_code, 127) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("/no/such/command"));
  absl::StatusOr<ChildrenResult> children = client_->GetChildren(P("lock"));
  ASSERT_THAT(children, IsOk());
  EXPECT_THAT(children->children, IsEmpty());
}

TEST_P(CliTest, LockGivesUpAfterWaitWhileAnotherHolds) {
  absl::StatusOr<std::unique_ptr<recipes::Lock>> lock = recipes::Lock::Create(*client_, P("lock"));
  ASSERT_THAT(lock, IsOk());
  absl::StatusOr<recipes::LockGuard> guard = (*lock)->Acquire(std::chrono::seconds(30));
  ASSERT_THAT(guard, IsOk());
  CliResult r = Zkcpp({"lock", P("lock"), "--wait=100ms", "--", "/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("not acquired within"));
  // Its waiting node is gone; ours is the only one.
  absl::StatusOr<ChildrenResult> children = client_->GetChildren(P("lock"));
  ASSERT_THAT(children, IsOk());
  EXPECT_THAT(children->children, ElementsAre(std::string(BaseName(guard->node_path()))));
}

TEST_P(CliTest, ElectReportsLeadershipAndRunsACommand) {
  CliResult r = Zkcpp({"elect", P("election"), "--id=cli-a", "--count=1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<nlohmann::json> events = JsonLines(r.out);
  ASSERT_EQ(events.size(), 1u) << r.out;
  EXPECT_EQ(events[0]["event"], "leader");
  EXPECT_EQ(events[0]["id"], "cli-a");
  EXPECT_GT(events[0]["epoch"].get<int64_t>(), 0);

  r = Zkcpp({"elect", P("election"), "--id=cli-b", "--", "/bin/sh", "-c",
             "test -n \"$ZKCPP_LEADER_EPOCH\" && exit 4"});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  absl::StatusOr<ChildrenResult> children = client_->GetChildren(P("election"));
  ASSERT_THAT(children, IsOk());
  EXPECT_THAT(children->children, IsEmpty());  // zkcpp left the election
}

TEST_P(CliTest, ServicesListsRegisteredInstances) {
  const std::string base = P("services");
  absl::StatusOr<std::unique_ptr<recipes::ServiceRegistry>> registry =
      recipes::ServiceRegistry::Create(*client_, base);
  ASSERT_THAT(registry, IsOk());
  absl::StatusOr<std::unique_ptr<recipes::ServiceRegistry::Registration>> registration =
      (*registry)->Register({.name = "billing",
                             .id = "b-1",
                             .address = "10.0.0.7",
                             .port = 8080,
                             .metadata = {{"zone", "eu-1"}}});
  ASSERT_THAT(registration, IsOk());

  CliResult r = Zkcpp({"services", base});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Lines(r.out), ElementsAre("billing", "  b-1 10.0.0.7:8080 zone=eu-1"));

  r = Zkcpp({"services", base, "billing", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<nlohmann::json> services = JsonLines(r.out);
  ASSERT_EQ(services.size(), 1u) << r.out;
  EXPECT_EQ(services[0]["service"], "billing");
  ASSERT_EQ(services[0]["instances"].size(), 1u);
  EXPECT_EQ(services[0]["instances"][0]["address"], "10.0.0.7");
  EXPECT_EQ(services[0]["instances"][0]["port"], 8080);

  r = Zkcpp({"services", base, "--watch", "--count=1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<nlohmann::json> events = JsonLines(r.out);
  ASSERT_EQ(events.size(), 1u) << r.out;
  EXPECT_EQ(events[0]["event"], "added");
  EXPECT_EQ(events[0]["instance"]["id"], "b-1");
}

TEST_P(CliTest, MissingChrootIsNamedAsSuch) {
  const std::string chroot = P("no-such-chroot");
  const std::string connect = "--connect=" + connect_string() + chroot;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"get", "/a"}, {"ls", "/"}, {"create", "/a", "x"}, {"rm", "--recursive", "/a"}}) {
    std::vector<std::string> full = {connect};
    full.insert(full.end(), args.begin(), args.end());
    CliResult r = RunCli(full, "", kWait);
    const std::string path = args.back() == "x" ? "/a" : args.back();
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_EQ(r.err, "zkcpp: " + args[0] + " " + path + ": chroot " + chroot + " does not exist\n")
        << Describe(r);
  }
  // With the chroot there, a missing node is just that.
  ASSERT_THAT(client_->Create(chroot, ""), IsOk());
  CliResult r = RunCli({connect, "get", "/a"}, "", kWait);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("get /a: node does not exist"));
}

TEST_P(CliTest, RmRefusesReservedNodes) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"rm", "/zookeeper/quota"},
           {"rm", "/zookeeper/config"},
           {"rm", "/zookeeper"},
           {"rm", "--recursive", "/zookeeper"},
       }) {
    CliResult r = Zkcpp(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << Describe(r);
    EXPECT_THAT(r.err, MatchesRegex("zkcpp: rm /zookeeper.*: /zookeeper.* is a reserved node "
                                    "\\(ZooKeeper keeps .* there\\)\n"))
        << absl::StrJoin(args, " ");
  }
  for (const char* reserved : {"/zookeeper", "/zookeeper/quota"}) {
    absl::StatusOr<std::optional<Stat>> exists = client_->Exists(reserved);
    ASSERT_THAT(exists, IsOk());
    EXPECT_TRUE(exists->has_value()) << reserved;
  }
  // Under a chroot, /zookeeper is an ordinary node of the chroot.
  ASSERT_THAT(client_->Create(P("zookeeper"), ""), IsOk());
  CliResult r = RunCli({"--connect=" + connect_string() + Root(), "rm", "/zookeeper"}, "", kWait);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  absl::StatusOr<std::optional<Stat>> exists = client_->Exists(P("zookeeper"));
  ASSERT_THAT(exists, IsOk());
  EXPECT_FALSE(exists->has_value());
}

// Runs zkcpp with its stdout on a pseudo-terminal; returns what the terminal received.
std::string RunCliOnTerminal(const std::vector<std::string>& args) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return "<no pty>";
  const int terminal = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  std::vector<std::string> argv = {CliPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<zk::testing::ChildProcess> child =
      zk::testing::ChildProcess::Spawn(argv, {.in = null, .out = terminal, .err = null});
  close(terminal);
  close(null);
  std::string received;
  if (child.ok()) {
    // The terminal reports EIO once the child, its last user, has exited.
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      pollfd p{master, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()))) <= 0) {
        continue;
      }
      char buffer[4096];
      const ssize_t n = read(master, buffer, sizeof(buffer));
      if (n <= 0) break;
      received.append(buffer, static_cast<size_t>(n));
    }
    (void)child->WaitForExit(absl::Now() + kWait);
  }
  close(master);
  return received;
}

TEST_P(CliTest, UserBytesAreEscapedOnATerminalAndInMessages) {
  const std::string data = "\x1b]0;owned\x07\x1b[2Jred\xc2\x9b\xff";
  ASSERT_THAT(client_->Create(P("esc"), data), IsOk());
  // Into a pipe: the exact bytes.
  CliResult r = Zkcpp({"get", P("esc")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, data);
  // On a terminal: nothing it would obey.
  const std::string shown = RunCliOnTerminal({Connect(), "get", P("esc")});
  EXPECT_EQ(shown, "\\x1b]0;owned\\x07\\x1b[2Jred\\u009b\\xff\r\n");
  // In messages, always: a path and a flag value with escape sequences.
  r = Zkcpp({"get", P("a\x1b[2Jb")});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("get " + P("a\\x1b[2Jb") + ": "));
  EXPECT_THAT(r.err, Not(HasSubstr("\x1b")));
  r = Zkcpp({"watch", P("a"), "--count=\x1b[2J"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("watch " + P("a") + ": bad value '\\x1b[2J' for --count"));
  EXPECT_THAT(r.err, Not(HasSubstr("\x1b")));
}

TEST_P(CliTest, WhoAmIPrintsTheSessionsIdentitiesOnTheNativeEngineWhateverTheDefault) {
  // The C library lacks whoAmI: the command picks the native engine itself, also when the
  // environment asks for the C library.
  const char* saved = std::getenv("ZKCPP_ENGINE");
  const std::string previous = saved != nullptr ? saved : "";
  ASSERT_EQ(setenv("ZKCPP_ENGINE", "clib", 1), 0);
  CliResult text = Zkcpp({"whoami"});
  CliResult json = Zkcpp({"whoami", "--json"});
  CliResult extra = Zkcpp({"whoami", "/a"});
  if (saved != nullptr) {
    setenv("ZKCPP_ENGINE", previous.c_str(), 1);
  } else {
    unsetenv("ZKCPP_ENGINE");
  }
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_EQ(text.out, "ip 127.0.0.1\n");
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  std::vector<nlohmann::json> objects = JsonLines(json.out);
  ASSERT_EQ(objects.size(), 1u) << json.out;
  EXPECT_EQ(objects[0], nlohmann::json({{"scheme", "ip"}, {"user", "127.0.0.1"}}));
  EXPECT_EQ(extra.exit_code, 2) << Describe(extra);
  EXPECT_THAT(extra.err, HasSubstr("whoami /a: wrong number of arguments")) << Describe(extra);
}

ZK_INSTANTIATE_BACKEND_TEST(CliTest);

// Fault injection: the backend is paused under a running zkcpp.
class CliFaultTest : public CliTest {};

TEST_P(CliFaultTest, LockEndsTheCommandWhenTheConnectionIsSuspended) {
  // The command would run for a minute; it ends with SIGTERM once zkcpp's connection is
  // suspended (the lock may be lost then), and zkcpp exits with its code.
  std::unique_ptr<CliProcess> lock =
      StartZkcpp({"lock", P("lock"), "--session_timeout=2s", "--timeout=2s", "--", "/bin/sh", "-c",
                  "exec sleep 60"});
  ASSERT_NE(lock, nullptr);
  ASSERT_TRUE(lock->WaitForStderr("holding lock " + P("lock"), kWait));
  ASSERT_THAT(backend().Pause(), IsOk());
  CliResult r = lock->Finish(kWait);
  ASSERT_THAT(backend().Resume(), IsOk());
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("lock " + P("lock") + ": suspended"));
}

ZK_INSTANTIATE_BACKEND_TEST(CliFaultTest);

// No server needed.

TEST(CliUsageTest, HelpPrintsUsageAndExitCodes) {
  for (const char* help : {"--help", "-h", "help"}) {
    CliResult r = RunCli({help});
    EXPECT_EQ(r.exit_code, 0) << help << "\n" << Describe(r);
    EXPECT_THAT(r.out, StartsWith("zkcpp"));
    EXPECT_THAT(r.out, HasSubstr("Exit codes:"));
  }
}

TEST(CliUsageTest, NoArgumentsPrintsUsageAndExitsWithTwo) {
  CliResult r = RunCli({});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("Exit codes:"));
}

TEST(CliUsageTest, BadCommandLinesExitWithTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"frobnicate", "/a"},
           {"--bogus_flag", "get", "/a"},
           {"watch", "/a", "--count=many"},
           {"get"},
           {"get", "/a", "/b"},
           {"lock", "/a"},
           {"get", "/a", "--timeout=0s"},
           {"get", "/a", "--count=-1"},
       }) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("zkcpp --help")) << absl::StrJoin(args, " ");
  }
}

TEST(CliUsageTest, FlagErrorsUseTheErrorFormat) {
  struct Case {
    std::vector<std::string> args;
    std::string first_line;
  };
  for (const Case& c : std::vector<Case>{
           {{"get", "/a", "--no_such_flag"}, "zkcpp: get /a: unknown flag --no_such_flag"},
           {{"--flagfile=/tmp/x", "get", "/a"}, "zkcpp: get /a: unknown flag --flagfile"},
           {{"watch", "/a", "--count=many"}, "zkcpp: watch /a: bad value 'many' for --count"},
           {{"get", "/a", "--timeout"}, "zkcpp: get /a: flag --timeout needs a value"},
           {{"get", "/a", "--timeout=soon"},
            "zkcpp: get /a: bad value 'soon' for --timeout (a duration, e.g. 250ms, 10s, inf)"},
           {{"get", "/a", "--timeout=0s"}, "zkcpp: get /a: --timeout must be positive, got 0"},
           {{"ls", "--nobogus", "/a"}, "zkcpp: ls /a: unknown flag --nobogus"},
           {{"frobnicate", "/a"}, "zkcpp: frobnicate /a: unknown command"},
           {{"--json"}, "zkcpp: no command given"},
       }) {
    CliResult r = RunCli(c.args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(c.args, " ") << "\n" << Describe(r);
    EXPECT_THAT(Lines(r.err), ElementsAre(c.first_line, "Run 'zkcpp --help' for usage."))
        << absl::StrJoin(c.args, " ");
  }
  // Boolean flags take --name, --noname and --name=value; a duration its value after a space.
  CliResult r = RunCli({"--nojson", "--verbose=false", "--json", "--timeout", "5s", "get"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, StartsWith("zkcpp: get: wrong number of arguments (got 0)"));
  r = RunCli({"--version"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, StartsWith("zkcpp "));
}

TEST(CliUsageTest, NoServerExitsWithThree) {
  absl::StatusOr<std::vector<int>> ports = zk::testing::PickFreeLoopbackPorts(1);
  ASSERT_THAT(ports, IsOk());
  CliResult r =
      RunCli({absl::StrCat("--connect=127.0.0.1:", (*ports)[0]), "--timeout=500ms", "get", "/a"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("no session within"));
}

// --tls-ca-file (with the client certificate flags) against a real ZooKeeper serving TLS that
// needs a client certificate; with the wrong CA, the failure names the certificate check.
TEST(CliTlsTest, TlsFlagsConnectToASecurePort) {
  absl::StatusOr<std::unique_ptr<zk::testing::TestCertificates>> pki =
      zk::testing::TestCertificates::Create();
  ASSERT_THAT(pki, IsOk());
  zk::testing::RealZooKeeperOptions options;
  options.tls = zk::testing::RealZooKeeperTls{.key_store = (*pki)->server_key_store(),
                                              .trust_store = (*pki)->ca_file(),
                                              .client_auth = zk::testing::TlsClientAuth::kNeed};
  absl::StatusOr<std::unique_ptr<zk::testing::RealZooKeeper>> server =
      zk::testing::RealZooKeeper::Start(std::move(options));
  ASSERT_THAT(server, IsOk());
  const std::string connect = "--connect=" + (*server)->secure_connect_string();
  const std::string cert = "--tls-cert-file=" + (*pki)->client_cert_file();
  const std::string key = "--tls-key-file=" + (*pki)->client_key_file();

  CliResult r = RunCli(
      {connect, "--tls-ca-file=" + (*pki)->ca_file(), cert, key, "create", "/cli-tls", "over tls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = RunCli({connect, "--tls_ca_file", (*pki)->ca_file(), cert, key, "get", "/cli-tls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "over tls");

  r = RunCli({connect, "--tls-ca-file=" + (*pki)->other_ca_file(), cert, key, "--timeout=1s", "get",
              "/cli-tls"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("certificate verify failed"));
}

// --sasl-user and --sasl-password-file (a file ending in a newline, as `echo` writes it)
// against a real ZooKeeper that accepts alice; a wrong password fails with the server's refusal.
TEST(CliSaslTest, SaslFlagsAuthenticate) {
  zk::testing::RealZooKeeperOptions options;
  options.sasl_users = {{"alice", "alice-secret"}};
  absl::StatusOr<std::unique_ptr<zk::testing::RealZooKeeper>> server =
      zk::testing::RealZooKeeper::Start(std::move(options));
  ASSERT_THAT(server, IsOk());
  const std::string good = (*server)->directory() + "/alice.password";
  const std::string bad = (*server)->directory() + "/wrong.password";
  std::ofstream(good) << "alice-secret\n";
  std::ofstream(bad) << "not-alice-secret\n";
  const std::string connect = "--connect=" + (*server)->connect_string();
  // SASL alone picks the native engine; the environment must not ask for the C library.
  const char* saved = std::getenv("ZKCPP_ENGINE");
  const std::string previous = saved != nullptr ? saved : "";
  unsetenv("ZKCPP_ENGINE");
  CliResult who = RunCli({connect, "--sasl-user=alice", "--sasl-password-file=" + good, "whoami"});
  CliResult refused =
      RunCli({connect, "--sasl-user", "alice", "--sasl-password-file", bad, "get", "/"});
  if (saved != nullptr) setenv("ZKCPP_ENGINE", previous.c_str(), 1);
  ASSERT_EQ(who.exit_code, 0) << Describe(who);
  EXPECT_THAT(who.out, HasSubstr("sasl alice\n"));
  EXPECT_EQ(refused.exit_code, 3) << Describe(refused);
  EXPECT_THAT(refused.err, HasSubstr("SASL authentication as alice failed"));
}

}  // namespace
}  // namespace zk::cli_test
