// zkcpp testing: a real Apache ZooKeeper 3.8 ensemble on loopback for your failover tests.
//
// RealEnsemble starts N (default 3) servers of Debian's `zookeeper` package, each with its own
// temporary directory and distinct client, quorum and election ports on 127.0.0.1, waits until
// they form a quorum (one leader, the others followers), and lets tests kill, revive, pause
// and resume single members and expire sessions on the server side. The destructor kills
// every member and removes the directories. Members die with the test process too.
// With RealEnsembleOptions::tls every member also serves TLS on a second loopback port:
// connect to secure_connect_string().
// Standalone servers and the shared JVM options: zk/testing/real_zookeeper.h.
//
// Example:
//   absl::StatusOr<std::unique_ptr<zk::testing::RealEnsemble>> ensemble =
//       zk::testing::RealEnsemble::Start();
//   if (!ensemble.ok()) return ensemble.status();
//   auto client = zk::Client::Connect({.connect_string = (*ensemble)->connect_string()});
//   ...
//   absl::StatusOr<int> leader = (*ensemble)->LeaderIndex();
//   (*ensemble)->KillMember(*leader);                          // the client fails over
//   (*ensemble)->WaitForQuorum(absl::Now() + absl::Seconds(20));
//   (*ensemble)->ReviveMember(*leader);

#ifndef ZK_TESTING_REAL_ENSEMBLE_H_
#define ZK_TESTING_REAL_ENSEMBLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "zk/testing/real_zookeeper.h"

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
  // Makes every member serve TLS on a secure client port of its own too, with the same key
  // material (see RealZooKeeperOptions::tls; Netty's connection factory on both ports, and
  // with an empty jvm.classpath, Debian's netty jars added to it). The server certificate must
  // name 127.0.0.1 (or "localhost" for clients that verify that name): all members share it.
  std::optional<RealZooKeeperTls> tls;
  // How many fresh port sets to try on a bind collision.
  int start_attempts = 3;
};

// N real ZooKeeper servers forming one ensemble. Members are indexed 0..size-1 (server id =
// index + 1). Thread-safe: methods may be called from any thread; they are serialized, and
// every blocking one ends by its deadline (start_timeout for starts and revivals).
class RealEnsemble {
 public:
  // Starts all members and blocks until they form a quorum (WaitForQuorum), at most
  // jvm.start_timeout. Errors: InvalidArgument (size < 1), FailedPrecondition (Debian's
  // ZooKeeper jars are not installed), NotFound (no java launcher), Unavailable /
  // DeadlineExceeded with the members' log tails, Internal.
  static absl::StatusOr<std::unique_ptr<RealEnsemble>> Start(RealEnsembleOptions options = {});

  RealEnsemble(const RealEnsemble&) = delete;
  RealEnsemble& operator=(const RealEnsemble&) = delete;
  // Kills every member and removes the directories.
  ~RealEnsemble();

  // Returns the number of members.
  int size() const { return size_; }
  // Returns "127.0.0.1:p1,127.0.0.1:p2,..." for all members (also stopped ones).
  std::string connect_string() const;
  // Returns "127.0.0.1:<client port of member i>". Requires 0 <= i < size().
  std::string member_connect_string(int i) const;
  // Returns "127.0.0.1:s1,127.0.0.1:s2,..." (every member's TLS port, also stopped ones);
  // "" without RealEnsembleOptions::tls.
  std::string secure_connect_string() const;
  // Returns "127.0.0.1:<TLS port of member i>"; "" without RealEnsembleOptions::tls.
  // Requires 0 <= i < size().
  std::string member_secure_connect_string(int i) const;
  // Returns the TLS port of member i, or -1 without RealEnsembleOptions::tls.
  // Requires 0 <= i < size().
  int member_secure_port(int i) const;
  // Returns the directory of member i: zoo.cfg, data/, server.log.
  std::string member_directory(int i) const;
  // Returns true if member i was started and not killed or stopped since (also when paused).
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

  // Makes the ensemble expire session `session_id` now (see RealZooKeeper::ExpireSession),
  // through the first running member that answers. Blocks until a member acknowledged the
  // close. Errors: Aborted (invalid session or wrong password), Unavailable (no member
  // running or reachable), DeadlineExceeded.
  absl::Status ExpireSession(int64_t session_id, std::string_view password);

  // Asks every running, unpaused member for its `srvr` mode and returns the index of the one
  // that says "leader". Errors: NotFound (no leader right now), FailedPrecondition (two
  // leaders claimed).
  absl::StatusOr<int> LeaderIndex() const;

  // Waits until every running, unpaused member serves (leader or follower) and exactly one
  // of them is the leader. Errors: DeadlineExceeded naming each member's last mode, with the
  // log tails.
  absl::Status WaitForQuorum(absl::Time deadline) const;

  // Returns the `srvr` mode of member i right now ("" if not serving). Errors: OutOfRange, Unavailable.
  absl::StatusOr<std::string> MemberMode(int i) const;

  // Returns the last `max_bytes` of member i's server.log.
  std::string MemberLogTail(int i, size_t max_bytes = 3000) const;

 private:
  RealEnsemble(std::vector<std::string> directories,
               std::vector<std::unique_ptr<ZooKeeperProcess>> members,
               std::vector<int> secure_ports, absl::Duration start_timeout);

  absl::Status CheckIndex(int i, std::string_view op) const;
  absl::Status ReviveAllLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status WaitForQuorumLocked(absl::Time deadline) const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<int> LeaderIndexLocked() const ABSL_SHARED_LOCKS_REQUIRED(mutex_);

  const int size_;
  const absl::Duration start_timeout_;
  const std::vector<std::string> directories_;
  // The TLS port of each member; empty without RealEnsembleOptions::tls.
  const std::vector<int> secure_ports_;
  mutable absl::Mutex mutex_;
  const std::vector<std::unique_ptr<ZooKeeperProcess>> members_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace zk::testing

#endif  // ZK_TESTING_REAL_ENSEMBLE_H_
