// zkcpp recipes — leader election (an active/standby pair, or N candidates, electing a master).
//
// Overview. Every participant creates "<path>/_c_<uuid>-latch-<seq>" holding its participant id
// (Curator LeaderLatch's layout); the lowest node leads. A follower watches only its
// predecessor. Two styles:
//   - LeaderElection (latch): Start() once, then IsLeader(), AwaitLeadership(), listeners;
//   - LeaderSelector (zk/recipes/leader_selector.h): a take-leadership function runs on its own
//     thread while this process leads, and leadership is given up when it returns (then
//     re-queued if asked).
//
//   ZK_ASSIGN_OR_RETURN(auto election, zk::recipes::LeaderElection::Create(
//                                          *client, "/services/billing/leader",
//                                          {.participant_id = "billing-a:8080"}));
//   ZK_RETURN_IF_ERROR(election->Start());
//   if (election->AwaitLeadership(std::chrono::seconds(30)).ok()) { /* act as master */ }
//
// Safety. Leadership is given up the moment the connection is suspended (listeners hear it
// before any later event), and taken back after a reconnect only once our node is confirmed
// (a node that was lowest stays lowest: sequence numbers only grow). After a session loss the
// participant re-queues with a new node, deleting its stale node of the old session first. The
// epoch (our node's czxid) increases from one leader to the next: use it to fence writes. Closing
// the Client ends leadership too (listeners hear "client closed"; AwaitLeadership then returns
// Cancelled). With fail_fast, losing leadership calls on_leadership_lost (default: abort the
// process).
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client; the destructor leaves the
// election and no callback of it runs after the destructor returns.

#ifndef ZK_RECIPES_LEADER_ELECTION_H_
#define ZK_RECIPES_LEADER_ELECTION_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "zk/client.h"

namespace zk::recipes {

namespace internal {
class Contender;
}

struct LeaderElectionOptions {
  // Who we are (stored in our node; CurrentLeader() returns it). Required.
  std::string participant_id;
  // Treat losing leadership as fatal: call on_leadership_lost (default: abort()).
  bool fail_fast = false;
  std::function<void()> on_leadership_lost;
};

// Why leadership changed (LeadershipEvent::reason).
enum class LeadershipReason {
  kElected,       // our node became the first: we lead
  kSuspended,     // connection lost: we may no longer lead; stop acting as leader
  kReconnected,   // same session, node still there: we lead again
  kSessionLost,   // the session expired or was lost: our node is gone
  kResigned,      // Resign() (or the selector's take_leadership returned)
  kClientClosed,  // the client was closed
};
// "elected", "suspended", "reconnected", "session lost", "resigned", "client closed".
std::string_view LeadershipReasonName(LeadershipReason reason);

struct LeadershipEvent {
  bool is_leader = false;
  int64_t epoch = 0;  // our node's czxid while leading
  LeadershipReason reason = LeadershipReason::kElected;
};

// What one participant has seen since it was created (LeaderElection::Metrics()).
struct LeaderElectionMetrics {
  // Times it became leader: elected, or leading again after a reconnect to the same session.
  uint64_t elected = 0;
  // Times it stopped leading: suspended connection, session lost, resigned, client closed.
  uint64_t lost = 0;
  // Whether it leads now, as its listeners last heard (unlike IsLeader(), not lowered by a
  // pause the loop has not noticed yet).
  bool leading = false;
};

struct Participant {
  std::string id;
  bool is_leader = false;
};

// Latch-style election. Thread-safe.
class LeaderElection {
 public:
  // Creates the recipe; no I/O. Errors: InvalidArgument (bad path, empty participant id).
  static absl::StatusOr<std::unique_ptr<LeaderElection>> Create(Client& client,
                                                                std::string_view path,
                                                                LeaderElectionOptions options);
  ~LeaderElection();

  // Joins the election (returns at once; leadership is reported to listeners). The
  // participant stays in until Resign or destruction: an attempt that fails on the way (e.g.
  // no permission to create under the path) is retried after a second, and a lost session
  // re-queues it in the new one.
  // Errors: FailedPrecondition if already started; Cancelled if the client is closed.
  absl::Status Start();
  // Leaves the election and joins again at the back of the queue (another participant leads
  // next if there is one). Errors: FailedPrecondition if not started; Cancelled if the client is
  // closed.
  absl::Status Resign();

  // True while we lead: elected, the session not suspended or lost, not on a read-only server,
  // and the server heard from within two thirds of the session timeout (a leader whose process
  // stood still that long may have been replaced; it is not told "leader" until it catches up).
  bool IsLeader() const;
  // The epoch of our current leadership (0 when not leading).
  int64_t epoch() const;
  // Returns `ops` preceded by a check that our leader node still exists: as a Multi they commit
  // only while we lead (fencing). Errors: FailedPrecondition when not leading.
  absl::StatusOr<std::vector<Op>> Guard(std::vector<Op> ops) const;
  // Waits until we lead, at most `timeout` (> 0).
  // Errors: DeadlineExceeded, InvalidArgument, FailedPrecondition (not started, or on an inline
  // callback thread), Cancelled (this election destroyed, or the client closed).
  absl::Status AwaitLeadership(std::chrono::milliseconds timeout);
  // Calls `listener` on the callback executor at every change of leadership.
  Subscription AddListener(std::function<void(const LeadershipEvent&)> listener);
  // Returns this participant's counts so far (zk/recipes/prometheus.h renders them). Cheap: a
  // copy under the election's mutex, which no I/O holds. Threading: any thread.
  LeaderElectionMetrics Metrics() const;

  // The id of the current leader (one round trip per participant read).
  // Errors: NotFound if nobody takes part; the client's errors.
  absl::StatusOr<std::string> CurrentLeader();
  // The participants in queue order, the leader first.
  absl::StatusOr<std::vector<Participant>> Participants();

  const std::string& path() const { return path_; }
  // The client this election runs on.
  const Client& client() const { return client_; }

 private:
  struct State;
  LeaderElection(Client& client, std::string path, LeaderElectionOptions options);
  static void Join(const std::shared_ptr<State>& state);  // loop thread

  Client& client_;
  const std::string path_;
  const LeaderElectionOptions options_;
  std::shared_ptr<State> state_;
};

}  // namespace zk::recipes

// LeaderSelector has its own header; this one keeps declaring it for the code that included
// only leader_election.h for it (source compatibility).
#include "zk/recipes/leader_selector.h"

#endif  // ZK_RECIPES_LEADER_ELECTION_H_
