// zkcpp client tests without a server: path rules, the status mapping, DigestId, and the
// argument checks that must fail before any I/O (the client points at a closed port, so an
// argument that reached the wire would end in DeadlineExceeded, not InvalidArgument).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/net.h"
#include "zk/client.h"
#include "zk/internal/sync.h"
#include "zk/path.h"
#include "zk/status.h"

namespace zk::testing {
namespace {

using ::testing::HasSubstr;

// --- paths ------------------------------------------------------------------------------------

TEST(PathTest, AcceptsValidPaths) {
  for (const char* path : {"/", "/a", "/a/b", "/zookeeper", "/a.b", "/..a", "/a..", "/.a",
                           "/a b", "/a-b_c:d", "/\xC3\xA9t\xC3\xA9", "/\xE4\xB8\xAD"}) {
    EXPECT_THAT(ValidatePath("get", path), IsOk()) << path;
  }
}

TEST(PathTest, RejectsInvalidPathsNamingOpAndPath) {
  for (const char* path :
       {"a", "/a/", "/a//b", "/a/./b", "/a/../b", "/.", "/..", "/a/.", "//", "/\x01",
        "/a\x7f", "/\xC2\x80" /* U+0080, a C1 control */, "/\xF0\x9F\x98\x80" /* emoji */,
        "/\xFF" /* not UTF-8 */}) {
    EXPECT_THAT(ValidatePath("create", path),
                StatusIs(absl::StatusCode::kInvalidArgument, std::string("create ") + path))
        << ::testing::PrintToString(std::string(path));
  }
  EXPECT_THAT(ValidatePath("create", ""), StatusIs(absl::StatusCode::kInvalidArgument, "create"));
  std::string with_nul("/a\0b", 4);
  EXPECT_THAT(ValidatePath("get", with_nul), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PathTest, SequentialCreateAllowsTrailingSlash) {
  EXPECT_THAT(ValidatePath("create", "/a/", PathUse::kSequentialCreate), IsOk());
  EXPECT_THAT(ValidatePath("create", "/a/", PathUse::kNode),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidatePath("create", "/a//", PathUse::kSequentialCreate),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PathTest, JoinParentBaseName) {
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(ParentPath("/a/b"), "/a");
  EXPECT_EQ(ParentPath("/a"), "/");
  EXPECT_EQ(ParentPath("/"), "/");
  EXPECT_EQ(BaseName("/a/b"), "b");
  EXPECT_EQ(BaseName("/a"), "a");
  EXPECT_EQ(BaseName("/"), "");
}

// --- status mapping -----------------------------------------------------------------------------

TEST(StatusTest, MapsEveryZooErrorAsDesigned) {
  const std::vector<std::pair<ZooError, absl::StatusCode>> table = {
      {ZooError::kOk, absl::StatusCode::kOk},
      {ZooError::kNoNode, absl::StatusCode::kNotFound},
      {ZooError::kNodeExists, absl::StatusCode::kAlreadyExists},
      {ZooError::kBadVersion, absl::StatusCode::kAborted},
      {ZooError::kSessionExpired, absl::StatusCode::kAborted},
      {ZooError::kNotEmpty, absl::StatusCode::kFailedPrecondition},
      {ZooError::kNoChildrenForEphemerals, absl::StatusCode::kFailedPrecondition},
      {ZooError::kNoAuth, absl::StatusCode::kPermissionDenied},
      {ZooError::kAuthFailed, absl::StatusCode::kUnauthenticated},
      {ZooError::kBadArguments, absl::StatusCode::kInvalidArgument},
      {ZooError::kInvalidAcl, absl::StatusCode::kInvalidArgument},
      {ZooError::kConnectionLoss, absl::StatusCode::kUnavailable},
      {ZooError::kSessionMoved, absl::StatusCode::kUnavailable},
      {ZooError::kNotReadOnly, absl::StatusCode::kUnavailable},
      {ZooError::kOperationTimeout, absl::StatusCode::kDeadlineExceeded},
      {ZooError::kClosing, absl::StatusCode::kCancelled},
      {ZooError::kUnimplemented, absl::StatusCode::kUnimplemented},
      {ZooError::kSystemError, absl::StatusCode::kInternal},
      {ZooError::kMarshallingError, absl::StatusCode::kInternal},
  };
  for (const auto& [error, code] : table) {
    EXPECT_EQ(ZooErrorToStatusCode(error), code) << ZooErrorName(error);
  }
}

TEST(StatusTest, MakeZooStatusCarriesOpPathAndCode) {
  absl::Status s = MakeZooStatus(ZooError::kNoNode, "get", "/a/b");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound, "get /a/b: "));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound, "NONODE"));
  EXPECT_EQ(ZooErrorOf(s), ZooError::kNoNode);
  EXPECT_TRUE(IsNoNode(s));
  EXPECT_FALSE(IsNodeExists(s));
  EXPECT_FALSE(IsUnknownOutcome(s));
  EXPECT_EQ(ZooErrorName(ZooError::kBadVersion), "BADVERSION");
  EXPECT_TRUE(IsBadVersion(MakeZooStatus(ZooError::kBadVersion, "set", "/x")));
  EXPECT_TRUE(IsNotEmpty(MakeZooStatus(ZooError::kNotEmpty, "delete", "/x")));
  EXPECT_TRUE(IsSessionExpired(MakeZooStatus(ZooError::kSessionExpired, "get", "/x")));
  EXPECT_EQ(ZooErrorOf(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(ZooErrorOf(absl::InternalError("x")), std::nullopt);
  EXPECT_TRUE(MakeZooStatus(ZooError::kOk, "get", "/x").ok());
}

TEST(StatusTest, WritesLosingTheirConnectionHaveUnknownOutcome) {
  absl::Status write = MakeZooStatus(ZooError::kConnectionLoss, "create", "/x", WriteSent::kYes);
  EXPECT_TRUE(IsUnknownOutcome(write));
  EXPECT_TRUE(IsConnectionLoss(write));
  EXPECT_THAT(write, StatusIs(absl::StatusCode::kUnavailable, "may or may not"));
  EXPECT_TRUE(
      IsUnknownOutcome(MakeZooStatus(ZooError::kOperationTimeout, "set", "/x", WriteSent::kYes)));
  EXPECT_FALSE(
      IsUnknownOutcome(MakeZooStatus(ZooError::kConnectionLoss, "get", "/x", WriteSent::kNo)));
  EXPECT_FALSE(
      IsUnknownOutcome(MakeZooStatus(ZooError::kNoNode, "create", "/x", WriteSent::kYes)));
  EXPECT_TRUE(IsUnknownOutcome(MarkUnknownOutcome(absl::UnavailableError("x"))));
  EXPECT_TRUE(MarkUnknownOutcome(absl::OkStatus()).ok());
}

TEST(StatusTest, FailedOpIndexIsAbsentOnOtherStatuses) {
  EXPECT_EQ(FailedOpIndex(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(FailedOpIndex(MakeZooStatus(ZooError::kConnectionLoss, "multi", "")), std::nullopt);
}

TEST(TypesTest, DigestIdMatchesZooKeeper) {
  // The fixture's super digest: base64(sha1("super:test")), as ZooKeeper's
  // DigestAuthenticationProvider.generateDigest computes it.
  EXPECT_EQ(DigestId("super", "test"), "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
  EXPECT_EQ(DigestId("user", "password").substr(0, 5), "user:");
  EXPECT_NE(DigestId("user", "password"), DigestId("user", "passwore"));
}

TEST(TypesTest, CannedAcls) {
  ASSERT_EQ(OpenAclUnsafe().size(), 1u);
  EXPECT_EQ(OpenAclUnsafe()[0], (Acl{kPermAll, {"world", "anyone"}}));
  ASSERT_EQ(ReadAclUnsafe().size(), 1u);
  EXPECT_EQ(ReadAclUnsafe()[0], (Acl{kPermRead, {"world", "anyone"}}));
  ASSERT_EQ(CreatorAllAcl().size(), 1u);
  EXPECT_EQ(CreatorAllAcl()[0], (Acl{kPermAll, {"auth", ""}}));
}

TEST(TypesTest, Names) {
  EXPECT_FALSE(WatchEventTypeName(WatchEventType::kNotWatching).empty());
  EXPECT_NE(WatchEventTypeName(WatchEventType::kCreated),
            WatchEventTypeName(WatchEventType::kDeleted));
  EXPECT_NE(SessionStateName(SessionState::kLost), SessionStateName(SessionState::kSuspended));
}

// --- argument checks before I/O -----------------------------------------------------------------

// A loopback port nobody listens on (bound, then closed).
std::string DeadAddress() {
  static const std::string address = [] {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const int port = ntohs(addr.sin_port);
    close(fd);
    return "127.0.0.1:" + std::to_string(port);
  }();
  return address;
}

class OfflineClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientOptions options = TestOptions(DeadAddress());
    // An argument that reached the wire would wait this long for a server that never comes.
    options.operation_timeout = std::chrono::seconds(60);
    options.log_sink = [](LogLevel, std::string_view) {};
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(std::move(options));
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
  }
  std::unique_ptr<Client> client_;
};

const char* const kBadPaths[] = {"", "a", "/a/", "/a//b", "/a/./b", "/\x01",
                                 "/\xF0\x9F\x98\x80"};

TEST_F(OfflineClientTest, InvalidPathsFailBeforeIoNamingOpAndPath) {
  Client& c = *client_;
  for (const char* path : kBadPaths) {
    SCOPED_TRACE(::testing::PrintToString(std::string(path)));
    const std::string p(path);
    EXPECT_THAT(c.Create(p, "x"), StatusIs(absl::StatusCode::kInvalidArgument, "create " + p));
    EXPECT_THAT(c.Delete(p), StatusIs(absl::StatusCode::kInvalidArgument, "delete " + p));
    EXPECT_THAT(c.Exists(p), StatusIs(absl::StatusCode::kInvalidArgument, "exists " + p));
    EXPECT_THAT(c.Get(p), StatusIs(absl::StatusCode::kInvalidArgument, "get " + p));
    EXPECT_THAT(c.Set(p, "x"), StatusIs(absl::StatusCode::kInvalidArgument, "set " + p));
    EXPECT_THAT(c.GetChildren(p),
                StatusIs(absl::StatusCode::kInvalidArgument, "get_children " + p));
    EXPECT_THAT(c.GetAcl(p), StatusIs(absl::StatusCode::kInvalidArgument, "get_acl " + p));
    EXPECT_THAT(c.SetAcl(p, OpenAclUnsafe()),
                StatusIs(absl::StatusCode::kInvalidArgument, "set_acl " + p));
    EXPECT_THAT(c.Sync(p), StatusIs(absl::StatusCode::kInvalidArgument, "sync " + p));
    EXPECT_THAT(c.GetAndWatch(p, [](const WatchEvent&) {}),
                StatusIs(absl::StatusCode::kInvalidArgument, "get_and_watch " + p));
    EXPECT_THAT(c.ExistsAndWatch(p, [](const WatchEvent&) {}),
                StatusIs(absl::StatusCode::kInvalidArgument, "exists_and_watch " + p));
    EXPECT_THAT(c.GetChildrenAndWatch(p, [](const WatchEvent&) {}),
                StatusIs(absl::StatusCode::kInvalidArgument, "get_children_and_watch " + p));
    EXPECT_THAT(c.AddPersistentWatch(p, {}, [](const WatchEvent&) {}),
                StatusIs(absl::StatusCode::kInvalidArgument, "add_persistent_watch " + p));
    EXPECT_THAT(c.EnsurePath(p), StatusIs(absl::StatusCode::kInvalidArgument, p));
    EXPECT_THAT(c.DeleteRecursive(p), StatusIs(absl::StatusCode::kInvalidArgument, p));
    EXPECT_THAT(c.Multi({op::Check{p, std::nullopt}}),
                StatusIs(absl::StatusCode::kInvalidArgument, p));
  }
}

TEST_F(OfflineClientTest, OversizedDataFailsBeforeIo) {
  const std::string big(1024 * 1024 + 1, 'x');
  EXPECT_THAT(client_->Create("/big", big), StatusIs(absl::StatusCode::kInvalidArgument,
                                                     "create /big"));
  EXPECT_THAT(client_->Set("/big", big), StatusIs(absl::StatusCode::kInvalidArgument, "set /big"));
  EXPECT_THAT(client_->Multi({op::Set{"/big", big, std::nullopt}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "multi"));
  // Many ops that are each small but together pass the frame limit.
  std::vector<Op> ops;
  for (int i = 0; i < 5; ++i) ops.push_back(op::Create{"/m" + std::to_string(i), big.substr(0, 300000)});
  EXPECT_THAT(client_->Multi(ops), StatusIs(absl::StatusCode::kInvalidArgument, "multi"));
}

TEST_F(OfflineClientTest, NegativeVersionsFailBeforeIo) {
  EXPECT_THAT(client_->Delete("/v", -1), StatusIs(absl::StatusCode::kInvalidArgument, "delete /v"));
  EXPECT_THAT(client_->Set("/v", "x", -2), StatusIs(absl::StatusCode::kInvalidArgument, "set /v"));
  EXPECT_THAT(client_->SetAcl("/v", OpenAclUnsafe(), -1),
              StatusIs(absl::StatusCode::kInvalidArgument, "set_acl /v"));
  EXPECT_THAT(client_->Multi({op::Check{"/v", -1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "/v"));
  EXPECT_THAT(client_->Multi({op::Delete{"/v", -5}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "/v"));
}

TEST_F(OfflineClientTest, BadAclsFailBeforeIo) {
  EXPECT_THAT(client_->Create("/acl", "", {.acl = {}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /acl"));
  EXPECT_THAT(client_->SetAcl("/acl", {}), StatusIs(absl::StatusCode::kInvalidArgument,
                                                    "set_acl /acl"));
  EXPECT_THAT(client_->Create("/acl", "", {.acl = {{kPermAll, {"world", "someone"}}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /acl"));
  EXPECT_THAT(client_->Create("/acl", "", {.acl = {{kPermAll, {"digest", "nocolon"}}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /acl"));
  EXPECT_THAT(client_->Create("/acl", "", {.acl = {{64, {"world", "anyone"}}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /acl"));
  EXPECT_THAT(client_->Create("/acl", "", {.acl = {{kPermAll, {"ip", "300.1.1.1"}}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /acl"));
  EXPECT_THAT(client_->Multi({op::Create{"/acl", "", CreateMode::kPersistent, {}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "/acl"));
}

TEST_F(OfflineClientTest, BadCreateOptionsFailBeforeIo) {
  EXPECT_THAT(client_->Create("/", ""), StatusIs(absl::StatusCode::kInvalidArgument, "create /"));
  EXPECT_THAT(client_->Create("/t", "", {.mode = CreateMode::kPersistentWithTtl}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /t"));
  EXPECT_THAT(client_->Create("/t", "", {.mode = CreateMode::kPersistentWithTtl,
                                         .ttl = std::chrono::milliseconds(0)}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /t"));
  EXPECT_THAT(client_->Create("/t", "", {.ttl = std::chrono::milliseconds(100)}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /t"));
  EXPECT_THAT(client_->Create("/t", "", {.protect = true}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /t"));
  EXPECT_THAT(client_->Create("/t/", "", {.mode = CreateMode::kPersistentSequential,
                                          .protect = true}),
              StatusIs(absl::StatusCode::kInvalidArgument, "create /t/"));
  EXPECT_THAT(client_->Delete("/"), StatusIs(absl::StatusCode::kInvalidArgument, "delete /"));
  EXPECT_THAT(client_->DeleteRecursive("/"), StatusIs(absl::StatusCode::kInvalidArgument, "/"));
  EXPECT_THAT(client_->DeleteRecursive("/zookeeper"),
              StatusIs(absl::StatusCode::kInvalidArgument, "/zookeeper"));
  EXPECT_THAT(client_->AddAuth("", "x"), StatusIs(absl::StatusCode::kInvalidArgument, "add_auth"));
  EXPECT_THAT(client_->Multi({op::Create{"/c", "", CreateMode::kContainer}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "/c"));
}

TEST_F(OfflineClientTest, MultiArgumentErrorNamesTheOp) {
  EXPECT_THAT(client_->Multi({op::Check{"/a", std::nullopt}, op::Create{"/b//c", ""},
                              op::Delete{"/d", std::nullopt}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "op 2 of 3"));
}

// Async forms report argument errors through the callback, exactly once, never on the
// caller's stack.
TEST_F(OfflineClientTest, AsyncArgumentErrorsCompleteOnceOffTheCallerStack) {
  constexpr int kOps = 10;
  std::atomic<int> calls[kOps] = {};
  std::atomic<int> wrong_code{0};
  std::atomic<int> on_caller_stack{0};
  thread_local bool in_call = false;
  auto check = [&](int i) {
    return [&, i](const absl::Status& s) {
      if (in_call) ++on_caller_stack;
      if (s.code() != absl::StatusCode::kInvalidArgument) ++wrong_code;
      ++calls[i];
    };
  };
  in_call = true;
  client_->AsyncCreate("bad", "", {}, [f = check(0)](auto r) { f(r.status()); });
  client_->AsyncDelete("/a", -1, [f = check(1)](absl::Status s) { f(s); });
  client_->AsyncExists("/a/", [f = check(2)](auto r) { f(r.status()); });
  client_->AsyncGet("//", [f = check(3)](auto r) { f(r.status()); });
  client_->AsyncSet("/a", std::string(1 << 21, 'x'), std::nullopt,
                    [f = check(4)](auto r) { f(r.status()); });
  client_->AsyncGetChildren("", [f = check(5)](auto r) { f(r.status()); });
  client_->AsyncSetAcl("/a", {}, std::nullopt, [f = check(6)](absl::Status s) { f(s); });
  client_->AsyncMulti({op::Set{"/a", "", -3}}, [f = check(7)](auto r) { f(r.status()); });
  client_->AsyncGetAndWatch("/a/./b", [](const WatchEvent&) {},
                            [f = check(8)](auto r) { f(r.status()); });
  client_->AsyncSync("/\x01", [f = check(9)](absl::Status s) { f(s); });
  in_call = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& c : calls) {
          if (c.load() == 0) return false;
        }
        return true;
      },
      kWait));
  client_.reset();  // joins the threads: no callback can run after this
  for (int i = 0; i < kOps; ++i) EXPECT_EQ(calls[i].load(), 1) << "op " << i;
  EXPECT_EQ(wrong_code.load(), 0);
  EXPECT_EQ(on_caller_stack.load(), 0);
}

TEST_F(OfflineClientTest, PendingOpsAreCancelledOnClose) {
  std::atomic<int> calls{0};
  std::atomic<int> cancelled{0};
  for (int i = 0; i < 20; ++i) {
    client_->AsyncGet("/x", [&](absl::StatusOr<GetResult> r) {
      if (r.status().code() == absl::StatusCode::kCancelled) ++cancelled;
      ++calls;
    });
  }
  EventLog watch;
  std::atomic<int> watch_reads{0};
  client_->AsyncExistsAndWatch("/w", watch.Callback(),
                               [&](absl::StatusOr<Watched<std::optional<Stat>>> r) {
                                 EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
                                 ++watch_reads;
                               });
  client_->Close();
  ASSERT_TRUE(WaitFor([&] { return calls.load() == 20 && watch_reads.load() == 1; }, kWait));
  client_.reset();
  EXPECT_EQ(calls.load(), 20);
  EXPECT_EQ(cancelled.load(), 20);
  EXPECT_EQ(watch_reads.load(), 1);
  EXPECT_EQ(watch.size(), 0u);  // the read failed: no watch was left
}

TEST_F(OfflineClientTest, OperationsAfterCloseFailWithCancelled) {
  client_->Close();
  client_->Close();  // idempotent
  EXPECT_EQ(client_->state(), SessionState::kClosed);
  EXPECT_THAT(client_->Get("/x"), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(client_->Create("/x", ""), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(client_->WaitUntilConnected(std::chrono::seconds(1)),
              StatusIs(absl::StatusCode::kCancelled));
  zk::internal::Notification done;
  client_->AsyncSet("/x", "v", std::nullopt, [&](absl::StatusOr<Stat> r) {
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(kWait));
}

// An argument error after Close must still complete its callback exactly once (with
// InvalidArgument or Cancelled), and a blocking call must not hang.
TEST_F(OfflineClientTest, InvalidArgumentsAfterCloseStillComplete) {
  client_->Close();
  std::atomic<int> calls{0};
  client_->AsyncGet("bad", [&](absl::StatusOr<GetResult> r) {
    EXPECT_FALSE(r.ok());
    ++calls;
  });
  EXPECT_TRUE(WaitFor([&] { return calls.load() == 1; }, absl::Seconds(5)));
  const absl::Time start = absl::Now();
  absl::StatusOr<GetResult> got = client_->Get("bad");
  EXPECT_THAT(got.status().code(),
              ::testing::AnyOf(absl::StatusCode::kInvalidArgument, absl::StatusCode::kCancelled))
      << got.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(30)) << "the blocking call waited for a deadline";
}

TEST_F(OfflineClientTest, BlockingCallFromInlineCallbackFailsFast) {
  ClientOptions options = TestOptions(DeadAddress());
  options.callback_execution = CallbackExecution::kInline;
  options.operation_timeout = std::chrono::seconds(60);
  options.log_sink = [](LogLevel, std::string_view) {};
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> inline_client,
                          Client::Connect(std::move(options)));
  zk::internal::Notification done;
  absl::Status nested_get, nested_wait, nested_create;
  inline_client->AsyncGet("bad", [&](absl::StatusOr<GetResult>) {
    nested_get = inline_client->Get("/x").status();
    nested_wait = inline_client->WaitUntilConnected(std::chrono::seconds(30));
    nested_create = inline_client->Create("/x", "").status();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_THAT(nested_get, StatusIs(absl::StatusCode::kFailedPrecondition, "get /x"));
  EXPECT_THAT(nested_wait, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(nested_create, StatusIs(absl::StatusCode::kFailedPrecondition, "create /x"));
}

TEST(ConnectTest, RejectsBadOptions) {
  EXPECT_THAT(Client::Connect(ClientOptions{}), StatusIs(absl::StatusCode::kInvalidArgument));
  ClientOptions relative_chroot = TestOptions("127.0.0.1:2181");
  relative_chroot.chroot = "app";
  EXPECT_THAT(Client::Connect(relative_chroot), StatusIs(absl::StatusCode::kInvalidArgument));
  ClientOptions trailing_chroot = TestOptions("127.0.0.1:2181");
  trailing_chroot.chroot = "/app/";
  EXPECT_THAT(Client::Connect(trailing_chroot), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Client::Connect(TestOptions("127.0.0.1:2181/a//b")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// SASL options are checked by Connect, before any I/O, with the field named.
TEST(ConnectTest, RejectsBadSaslOptions) {
  auto with_sasl = [](SaslOptions sasl) {
    ClientOptions options = TestOptions("127.0.0.1:2181");
    options.engine = EngineKind::kNative;
    options.sasl = std::move(sasl);
    return Client::Connect(std::move(options));
  };
  EXPECT_THAT(with_sasl({.user = "", .password = "pw"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "sasl.user is empty"));
  EXPECT_THAT(with_sasl({.user = "alice"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "sasl.password is empty"));
  EXPECT_THAT(with_sasl({.user = "alice",
                         .password = "pw",
                         .password_callback = [] { return std::string("pw"); }}),
              StatusIs(absl::StatusCode::kInvalidArgument, "both sasl.password and"));
  EXPECT_THAT(with_sasl({.mechanism = "", .user = "alice", .password = "pw"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "sasl.mechanism is empty"));
  EXPECT_THAT(with_sasl({.mechanism = "NO-SUCH-MECH", .user = "alice", .password = "pw"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "sasl.mechanism \"NO-SUCH-MECH\""));
  EXPECT_THAT(with_sasl({.user = "alice", .password = "pw", .service = ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "sasl.service is empty"));
  // The C library has no SASL.
  ClientOptions clib = TestOptions("127.0.0.1:2181");
  clib.engine = EngineKind::kCLibrary;
  clib.sasl = SaslOptions{.user = "alice", .password = "pw"};
  EXPECT_THAT(Client::Connect(clib),
              StatusIs(absl::StatusCode::kInvalidArgument, "sasl is set but the engine is the C"));
}

// With sasl set and no engine chosen (nor ZKCPP_ENGINE), the native engine runs: the same
// options with the C library chosen are refused, these are accepted.
TEST(ConnectTest, SaslWithoutAnEngineChoosesTheNativeEngine) {
  unsetenv("ZKCPP_ENGINE");
  ClientOptions options = TestOptions(DeadAddress());
  options.log_sink = [](LogLevel, std::string_view) {};
  options.sasl = SaslOptions{.user = "alice", .password = "pw"};
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Connect(options));
  EXPECT_THAT(client->WaitUntilConnected(std::chrono::milliseconds(100)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  options.engine = EngineKind::kCLibrary;
  EXPECT_THAT(Client::Connect(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ConnectTest, StateBeforeConnectingAndWaitDeadline) {
  ClientOptions options = TestOptions(DeadAddress());
  options.log_sink = [](LogLevel, std::string_view) {};
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Connect(std::move(options)));
  EXPECT_EQ(client->session_id(), 0);
  EXPECT_THAT(client->WaitUntilConnected(std::chrono::milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST(ConnectTest, BlockingCallPastOperationTimeoutIsDeadlineExceeded) {
  ClientOptions options = TestOptions(DeadAddress());
  options.operation_timeout = std::chrono::milliseconds(300);
  options.log_sink = [](LogLevel, std::string_view) {};
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Connect(std::move(options)));
  EXPECT_THAT(client->Get("/x"), StatusIs(absl::StatusCode::kDeadlineExceeded, "get /x"));
  absl::Status created = client->Create("/x", "").status();
  EXPECT_THAT(created, StatusIs(absl::StatusCode::kDeadlineExceeded, "create /x"));
  zk::internal::Notification done;
  client->AsyncDelete("/x", std::nullopt, [&](absl::Status s) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded));
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(kWait));
}

}  // namespace
}  // namespace zk::testing
