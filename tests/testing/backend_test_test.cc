// Self-tests of the BackendTest fixture and of every Backend's fault primitives, checked with
// the raw-protocol session (independent of zk::Client).

#include "testing/backend_test.h"

#include <map>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/raw_session.h"

namespace zk::testing {
namespace {

using ::testing::MatchesRegex;

class FixtureSelfTest : public BackendTest {};

// Backend seen by FirstTestRecordsItsBackend per kind, to check sharing in the second test.
std::map<BackendKind, Backend*>& RecordedBackends() {
  static auto* const recorded = new std::map<BackendKind, Backend*>();
  return *recorded;
}

// Creates Root()'s parent and Root() with a raw session.
void CreateRoot(RawSession& session, const std::string& root) {
  absl::StatusOr<std::string> parent = session.Create("/zkcpp-test", "");
  ASSERT_TRUE(parent.ok() || absl::IsAlreadyExists(parent.status())) << parent.status();
  ZK_ASSERT_OK(session.Create(root, ""));
}

TEST_P(FixtureSelfTest, FirstTestRecordsItsBackend) {
  RecordedBackends()[kind()] = &backend();
  EXPECT_EQ(backend().kind(), GetParam());
  EXPECT_THAT(Root(), MatchesRegex("/zkcpp-test/FixtureSelfTest\\.FirstTestRecordsItsBackend-[0-9]+"));
}

TEST_P(FixtureSelfTest, SecondTestSharesTheSuiteBackend) {
  EXPECT_THAT(Root(), MatchesRegex("/zkcpp-test/FixtureSelfTest\\.SecondTestSharesTheSuiteBackend-[0-9]+"));
  auto recorded = RecordedBackends().find(kind());
  if (recorded == RecordedBackends().end()) {
    GTEST_SKIP() << "FirstTestRecordsItsBackend did not run in this process";
  }
  EXPECT_EQ(recorded->second, &backend());
}

TEST_P(FixtureSelfTest, ExpireSessionDeletesEphemeralsAndInvalidatesTheSession) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> owner, RawSession::Connect(connect_string()));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> observer,
                          RawSession::Connect(connect_string()));
  ASSERT_NO_FATAL_FAILURE(CreateRoot(*observer, Root()));
  const std::string ephemeral = Root() + "/owned";
  ZK_ASSERT_OK(owner->Create(ephemeral, "", RawCreateMode::kEphemeral));

  ZK_ASSERT_OK(backend().ExpireSession(owner->session_id(), owner->password()));
  // The embedded server expires asynchronously to our observer's connection: poll.
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<bool> exists = observer->Exists(ephemeral);
        return exists.ok() && !*exists;
      },
      absl::Seconds(5)));
  RawConnectOptions resume;
  resume.session_id = owner->session_id();
  resume.password = owner->password();
  EXPECT_THAT(RawSession::Connect(connect_string(), resume),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(backend().ExpireSession(owner->session_id(), owner->password()),
              StatusIs(absl::StatusCode::kAborted));
}

TEST_P(FixtureSelfTest, RestartKeepsDataAndSessions) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> session,
                          RawSession::Connect(connect_string()));
  ASSERT_NO_FATAL_FAILURE(CreateRoot(*session, Root()));
  ZK_ASSERT_OK(session->Create(Root() + "/ephemeral", "", RawCreateMode::kEphemeral));
  const std::string hosts = connect_string();

  ZK_ASSERT_OK(backend().Restart());
  EXPECT_EQ(connect_string(), hosts);
  RawConnectOptions resume;
  resume.session_id = session->session_id();
  resume.password = session->password();
  resume.last_zxid_seen = session->last_zxid();
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> resumed,
                          RawSession::Connect(connect_string(), resume));
  EXPECT_EQ(resumed->session_id(), session->session_id());
  EXPECT_THAT(resumed->Exists(Root()), IsOkAndHolds(true));
  EXPECT_THAT(resumed->Exists(Root() + "/ephemeral"), IsOkAndHolds(true));
}

TEST_P(FixtureSelfTest, EnsureServingResumesAPausedBackend) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> session,
                          RawSession::Connect(connect_string()));
  ZK_ASSERT_OK(backend().Pause());
  EXPECT_THAT(backend().Pause(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ZK_ASSERT_OK(backend().EnsureServing());
  ZK_EXPECT_OK(session->Ping());
  EXPECT_THAT(backend().Resume(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

ZK_INSTANTIATE_BACKEND_TEST(FixtureSelfTest);

}  // namespace
}  // namespace zk::testing
