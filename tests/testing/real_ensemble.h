// zkcpp test support: a real Apache ZooKeeper 3.8 ensemble on loopback for failover tests.
//
// RealEnsemble starts N (default 3) real servers, each with its own directory and distinct
// client, quorum and election ports, waits until they form a quorum (one leader, the others
// followers), and lets tests kill, revive, pause and resume single members. The destructor
// kills every member and removes the directories.
//
// Example:
//   absl::StatusOr<std::unique_ptr<zk::testing::RealEnsemble>> ensemble =
//       zk::testing::RealEnsemble::Start({});
//   ASSERT_THAT(ensemble, zk::testing::IsOk());
//   absl::StatusOr<int> leader = (*ensemble)->LeaderIndex();
//   ASSERT_THAT((*ensemble)->KillMember(*leader), zk::testing::IsOk());
//   ASSERT_THAT((*ensemble)->WaitForQuorum(absl::Now() + absl::Seconds(20)),
//               zk::testing::IsOk());

#ifndef ZKCPP_TESTS_TESTING_REAL_ENSEMBLE_H_
#define ZKCPP_TESTS_TESTING_REAL_ENSEMBLE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "testing/zookeeper_process.h"

namespace zk::testing {

// Options of a real ensemble.
struct RealEnsembleOptions {
  // Number of members (ids 1..size).
  int size = 3;
  // Lets a member that lost the quorum serve reads ("Mode: read-only";
  // -Dreadonlymode.enabled=true). Clients must ask for read-only sessions to use it.
  bool read_only_mode = false;
  // JVM, config and timing options shared by every member.
  ZooKeeperJvmOptions jvm;
  // How many fresh port sets to try on a bind collision.
  int start_attempts = 3;
};

// N real ZooKeeper servers forming one ensemble. Members are indexed 0..size-1 (server id =
// index + 1). Thread-safe: calls are serialized.
class RealEnsemble {
 public:
  // Starts all members and waits for the quorum (WaitForQuorum).
  // Errors: InvalidArgument (size < 1), Unavailable / DeadlineExceeded with log tails.
  static absl::StatusOr<std::unique_ptr<RealEnsemble>> Start(RealEnsembleOptions options = {});

  RealEnsemble(const RealEnsemble&) = delete;
  RealEnsemble& operator=(const RealEnsemble&) = delete;
  // Kills every member and removes the directories.
  ~RealEnsemble();

  int size() const { return size_; }
  // "127.0.0.1:p1,127.0.0.1:p2,..." for all members (also stopped ones).
  std::string connect_string() const;
  // "127.0.0.1:<client port of member i>". Requires 0 <= i < size().
  std::string member_connect_string(int i) const;
  // The directory of member i: zoo.cfg, data/, server.log.
  std::string member_directory(int i) const;
  bool member_running(int i) const;

  // Crashes member i (SIGKILL). Errors: OutOfRange, FailedPrecondition (not running).
  absl::Status KillMember(int i);
  // Stops member i cleanly (SIGTERM). Errors: OutOfRange, FailedPrecondition.
  absl::Status StopMember(int i);
  // Starts a killed/stopped member again on its ports and data and waits until it serves as
  // leader, follower (or read-only). Errors: OutOfRange, FailedPrecondition (running),
  // DeadlineExceeded / Unavailable with its log tail.
  absl::Status ReviveMember(int i);
  // SIGSTOP / SIGCONT member i. Errors: OutOfRange, FailedPrecondition.
  absl::Status PauseMember(int i);
  absl::Status ResumeMember(int i);

  // Resumes paused members, starts every member that is down (together, so that a quorum can
  // form) and waits for the quorum. Errors: as WaitForQuorum, Unavailable (a JVM exited).
  absl::Status ReviveAll();
  // Crashes every member (SIGKILL), then ReviveAll(): data and sessions are kept.
  absl::Status RestartAll();

  // Asks every running, unpaused member for its `srvr` mode and returns the index of the one
  // that says "leader". Errors: NotFound (no leader right now), FailedPrecondition (two
  // leaders claimed).
  absl::StatusOr<int> LeaderIndex() const;

  // Waits until every running, unpaused member serves (leader or follower) and exactly one
  // of them is the leader. Errors: DeadlineExceeded naming each member's last mode, with the
  // log tails.
  absl::Status WaitForQuorum(absl::Time deadline) const;

  // `srvr` mode of member i right now ("" if not serving). Errors: OutOfRange, Unavailable.
  absl::StatusOr<std::string> MemberMode(int i) const;

  // The last `max_bytes` of member i's server.log.
  std::string MemberLogTail(int i, size_t max_bytes = 3000) const;

 private:
  RealEnsemble(std::vector<std::string> directories,
               std::vector<std::unique_ptr<ZooKeeperProcess>> members,
               absl::Duration start_timeout);

  absl::Status CheckIndex(int i, std::string_view op) const;
  absl::Status ReviveAllLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status WaitForQuorumLocked(absl::Time deadline) const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<int> LeaderIndexLocked() const ABSL_SHARED_LOCKS_REQUIRED(mutex_);

  const int size_;
  const absl::Duration start_timeout_;
  const std::vector<std::string> directories_;
  mutable absl::Mutex mutex_;
  const std::vector<std::unique_ptr<ZooKeeperProcess>> members_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace zk::testing

#endif  // ZKCPP_TESTS_TESTING_REAL_ENSEMBLE_H_
