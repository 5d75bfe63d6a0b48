// Self-tests of RealEnsemble: quorum, failover, revival, pause, expiry through a follower.

#include "zk/testing/real_ensemble.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/net.h"
#include "harness/raw_session.h"
#include "testing/backend.h"
#include "testing/status_matchers.h"
#include "testing/wait_for.h"

namespace zk::testing {
namespace {

constexpr absl::Duration kQuorumTimeout = absl::Seconds(30);

TEST(RealEnsembleTest, LeaderFailsOverAndRejoinsAsFollower) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RealEnsemble> ensemble, RealEnsemble::Start());
  ASSERT_EQ(ensemble->size(), 3);
  ZK_ASSERT_OK_AND_ASSIGN(int old_leader, ensemble->LeaderIndex());
  int followers = 0;
  for (int i = 0; i < 3; ++i) {
    ZK_ASSERT_OK_AND_ASSIGN(std::string mode, ensemble->MemberMode(i));
    if (mode == "follower") ++followers;
  }
  EXPECT_EQ(followers, 2);

  // A write through one member is replicated (to a quorum) before it is acknowledged.
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> writer,
                          RawSession::Connect(ensemble->member_connect_string(old_leader)));
  ZK_ASSERT_OK(writer->Create("/replicated", "x"));
  writer.reset();

  ZK_ASSERT_OK(ensemble->KillMember(old_leader));
  EXPECT_FALSE(ensemble->member_running(old_leader));
  ZK_ASSERT_OK(ensemble->WaitForQuorum(absl::Now() + kQuorumTimeout));
  ZK_ASSERT_OK_AND_ASSIGN(int new_leader, ensemble->LeaderIndex());
  EXPECT_NE(new_leader, old_leader);

  // The surviving quorum still has the write.
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> reader,
                          RawSession::Connect(ensemble->member_connect_string(new_leader)));
  EXPECT_THAT(reader->Exists("/replicated"), IsOkAndHolds(true));

  ZK_ASSERT_OK(ensemble->ReviveMember(old_leader));
  ZK_ASSERT_OK(ensemble->WaitForQuorum(absl::Now() + kQuorumTimeout));
  EXPECT_THAT(ensemble->MemberMode(old_leader), IsOkAndHolds(std::string("follower")));
  EXPECT_THAT(ensemble->LeaderIndex(), IsOkAndHolds(new_leader));
  EXPECT_THAT(ensemble->KillMember(7), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(RealEnsembleTest, PausedFollowerAndExpiryThroughAnotherMember) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> backend, StartRealEnsembleBackend({}));
  RealEnsemble* ensemble = AsRealEnsemble(*backend);
  ASSERT_NE(ensemble, nullptr);
  EXPECT_EQ(AsRealZooKeeper(*backend), nullptr);
  ZK_ASSERT_OK_AND_ASSIGN(int leader, ensemble->LeaderIndex());
  const int follower = (leader + 1) % 3;
  const int other = (leader + 2) % 3;

  // A session made on one follower is expired through another member.
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> owner,
                          RawSession::Connect(ensemble->member_connect_string(follower)));
  ZK_ASSERT_OK(owner->Create("/owned", "", RawCreateMode::kEphemeral));
  ZK_ASSERT_OK(ForceExpireSession(ensemble->member_connect_string(other), owner->session_id(),
                                  owner->password()));
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> observer,
                          RawSession::Connect(ensemble->member_connect_string(other)));
  // The member that answered closeSession had applied it (deleting the ephemeral) first.
  EXPECT_THAT(observer->Exists("/owned"), IsOkAndHolds(false));
  EXPECT_THAT(backend->ExpireSession(owner->session_id(), owner->password()),
              StatusIs(absl::StatusCode::kAborted));

  // RealEnsemble::ExpireSession picks a member itself; the observer's member applies the
  // close when it has caught up with the leader: poll.
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> second,
                          RawSession::Connect(ensemble->member_connect_string(follower)));
  ZK_ASSERT_OK(second->Create("/owned-2", "", RawCreateMode::kEphemeral));
  ZK_ASSERT_OK(ensemble->ExpireSession(second->session_id(), second->password()));
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<bool> exists = observer->Exists("/owned-2");
        return exists.ok() && !*exists;
      },
      absl::Seconds(10)));

  ZK_ASSERT_OK(ensemble->PauseMember(follower));
  EXPECT_THAT(FourLetterWord(ensemble->member_connect_string(follower), "srvr",
                             absl::Now() + absl::Milliseconds(300)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  // Two of three still form a quorum (WaitForQuorum skips paused members).
  ZK_ASSERT_OK(ensemble->WaitForQuorum(absl::Now() + kQuorumTimeout));
  ZK_ASSERT_OK(ensemble->ResumeMember(follower));
  ZK_ASSERT_OK(ensemble->WaitForQuorum(absl::Now() + kQuorumTimeout));

  // Restart of the whole ensemble keeps the data.
  ZK_ASSERT_OK(observer->Create("/durable", "d"));
  observer.reset();
  ZK_ASSERT_OK(backend->Restart());
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RawSession> after,
                          RawSession::Connect(ensemble->member_connect_string(follower)));
  // A follower may serve the read before it has caught up with the leader: poll.
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<bool> exists = after->Exists("/durable");
        return exists.ok() && *exists;
      },
      absl::Seconds(10)));
}

}  // namespace
}  // namespace zk::testing
