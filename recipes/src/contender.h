// Contender: the core shared by every ephemeral-sequential recipe (lock, leader election).
//
// A contender owns at most one node "<dir>/_c_<uuid>-<name><seq>" (a protected create, so that
// after a connection loss the client finds the node it made instead of making a second one),
// lists the participants, and waits by watching only the node that blocks it (no herd: one
// departure wakes one waiter). When its blocker is gone it lists again; when nothing blocks it
// it is through ("acquired"). It follows the session: suspended → not held; reconnected to the
// same session → held again once the node is confirmed; lost → the node is gone (re-queued if
// the owner asks, after deleting the stale node of the old session).
//
// Threading: everything runs on the client's event-loop thread (continuations of
// zk::internal::ClientAccess), except held(), which any thread may read, and the factory.

#ifndef ZK_RECIPES_SRC_CONTENDER_H_
#define ZK_RECIPES_SRC_CONTENDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "zk/client.h"
#include "zk/internal/client_access.h"

namespace zk::recipes::internal {

// Returns, for participants sorted by sequence and our index among them, the name of the node
// we must wait for, or nullopt if we are through.
using BlockerFn =
    std::function<std::optional<std::string>(const std::vector<std::string>& sorted, size_t self)>;

// Waits for the node just before us: exclusive, first come first served.
std::optional<std::string> PredecessorBlocks(const std::vector<std::string>& sorted, size_t self);

// Returns the sequence part of a participant name: what follows the last `marker` in it.
std::string_view SequenceOf(std::string_view name, std::string_view marker);
// Returns the children that contain one of `markers`, sorted by the sequence after it (all
// markers share the parent's one sequence counter).
std::vector<std::string> SortedParticipants(const std::vector<std::string>& children,
                                            const std::vector<std::string>& markers);
inline std::vector<std::string> SortedParticipants(const std::vector<std::string>& children,
                                                   const std::string& marker) {
  return SortedParticipants(children, std::vector<std::string>{marker});
}

// Returns `ops` preceded by a check that `node` exists: as a Multi they commit only while it
// does (the fencing of locks and leaders).
std::vector<Op> PrependExistenceCheck(std::string node, std::vector<Op> ops);

// Loop thread. Deletes `path`, and sends the delete again after a connection loss or a missed
// deadline (the node's fate is then unknown), until the node is gone or the session ends;
// `done` (may be null) then gets OK, or the error that stopped it. For the nodes of a queue: one
// left behind would block everyone after it for the session's life.
void DeleteUntilGone(Client& client, std::string path, StatusCallback done, int attempt = 0);

struct ContenderOptions {
  std::string dir;     // the recipe's path
  std::string marker;  // name part before the sequence, e.g. "lock-"
  // Other markers whose nodes take part in the same queue (a read/write lock's other side).
  std::vector<std::string> other_markers;
  std::string data;    // payload of our node
  BlockerFn blocker = PredecessorBlocks;
  // After a session loss, queue again with a new node (leader election) instead of ending.
  bool requeue_after_loss = false;
};

enum class ContenderEvent {
  kAcquired,     // through (first time or again after a requeue)
  kSuspended,    // connection lost while through: ownership possibly lost
  kReconnected,  // same session, node confirmed: through again
  kLost,         // the session (and the node) is gone
  kClosed,       // the client closed while through: the node went with the session
};

struct Acquired {
  std::string path;   // our node
  int64_t czxid = 0;  // its creation zxid: the fencing token
};

class Contender : public std::enable_shared_from_this<Contender> {
 public:
  using Result = absl::AnyInvocable<void(absl::StatusOr<Acquired>) &&>;

  Contender(Client& client, ContenderOptions options);
  ~Contender();

  // Loop thread. Creates our node and waits until through or `deadline`. `on_result` runs once
  // on the loop thread: Acquired, DeadlineExceeded (node removed), Cancelled, or another error.
  // `on_event` runs on the loop thread for every later change (and kAcquired after a requeue).
  void Start(std::optional<absl::Time> deadline, Result on_result,
             std::function<void(ContenderEvent, const Acquired&)> on_event);

  // Loop thread. Leaves the queue: deletes our node (retrying across connection losses until it
  // is gone or the session ends); `done` (may be null) runs when that is settled. Ends a
  // pending Start with `why`.
  void Leave(absl::Status why, StatusCallback done);

  // Any thread: through, the session not suspended, and the server heard from within the
  // read timeout (so that a process resuming from a long pause is not told "held" before the
  // loop has noticed what happened meanwhile).
  bool held() const {
    return held_.load() && zk::internal::ClientAccess::ServerContactFresh(client_);
  }
  // Any thread: started and not left (acquiring or through).
  bool active() const { return active_.load(); }
  // Any thread, before Start is posted: from now on active() is true, so that an owner that
  // allows one acquisition at a time sees this one at once.
  void MarkStarting() { active_.store(true); }
  // Loop thread: leaves only if still acquiring (a holder keeps its node). Before Start has run
  // (its task still queued), Start then ends at once with `why`.
  void CancelPending(absl::Status why);
  // Any thread: from now on active() is false (a Leave is on its way to the loop), so that the
  // owner may start a new contender at once; posted tasks keep the order delete → create.
  void MarkLeaving() {
    held_.store(false);
    active_.store(false);
  }
  // Loop thread: our current node ("" when none).
  const std::string& node() const { return node_; }

 private:
  enum class State { kIdle, kCreating, kWaiting, kThrough, kLeft };

  void Create();
  void CreateNode(uint64_t generation);
  void OnCreated(absl::StatusOr<CreateResult> created, uint64_t generation);
  void List(uint64_t generation);
  void OnListed(absl::StatusOr<ChildrenResult> listed, uint64_t generation);
  // Decides from ahead_ (no round trip): through, or wait for the blocker.
  void Decide(uint64_t generation);
  // What blocks us according to ahead_ (nullopt: we are through).
  std::optional<std::string> Blocker() const;
  // The blocker is gone: forget it and decide again (nothing new can queue ahead of us).
  void OnBlockerGone(const std::string& blocker, uint64_t generation);
  void WaitFor(const std::string& blocker, uint64_t generation);
  void BecomeThrough();
  void OnSession(const SessionEvent& event);
  void Finish(absl::StatusOr<Acquired> result);

  Client& client_;
  const ContenderOptions options_;
  std::atomic<bool> held_{false};
  std::atomic<bool> active_{false};
  State state_ = State::kIdle;
  std::optional<absl::Status> cancelled_before_start_;
  uint64_t generation_ = 0;  // bumped whenever earlier continuations become stale
  std::string node_;
  int64_t czxid_ = 0;
  // The participants queued before our node, in order, as of the last listing minus those
  // seen leaving since: sequence numbers only grow, so none can join ahead of us.
  std::vector<std::string> ahead_;
  // A listing sent right behind the create (same connection, so it sees our node), or empty.
  std::optional<absl::StatusOr<ChildrenResult>> early_listing_;
  bool early_listing_pending_ = false;
  std::string stale_node_;  // our node of a lost session, deleted before re-creating
  Watch blocker_watch_;
  Result on_result_;
  std::function<void(ContenderEvent, const Acquired&)> on_event_;
  uint64_t listener_id_ = 0;
  zk::internal::ClientAccess::LoopTimer deadline_timer_;  // Start's deadline, while pending
  int recreate_budget_ = 16;  // bounds re-creates when our node keeps vanishing
};

}  // namespace zk::recipes::internal

#endif  // ZK_RECIPES_SRC_CONTENDER_H_
