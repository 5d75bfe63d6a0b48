// zkcpp recipes — leader selector: a take-leadership function runs on the selector's own thread
// while this process leads, and leadership is given up when it returns (then re-queued if
// asked). It is a LeaderElection (zk/recipes/leader_election.h: node layout, safety) driven by
// its listener.
//
//   ZK_ASSIGN_OR_RETURN(auto selector, zk::recipes::LeaderSelector::Create(
//       *client, "/services/billing/leader", {.election = {.participant_id = "billing-a:8080"}},
//       [](const zk::recipes::LeadershipContext& context) {
//         while (context.IsLeader()) { /* act as master */ }
//       }));
//   ZK_RETURN_IF_ERROR(selector->Start());
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client.

#ifndef ZK_RECIPES_LEADER_SELECTOR_H_
#define ZK_RECIPES_LEADER_SELECTOR_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "zk/client.h"
#include "zk/recipes/leader_election.h"

namespace zk::recipes {

// What take_leadership gets: whether it still leads. Thread-safe.
class LeadershipContext {
 public:
  // True until leadership is lost (suspension, session loss) or the selector is stopping; false
  // too while the server has not been heard from for two thirds of the session timeout.
  bool IsLeader() const;
  // Waits until IsLeader() turns false, at most `timeout`; returns IsLeader().
  bool WaitWhileLeader(std::chrono::milliseconds timeout) const;
  int64_t epoch() const { return epoch_; }

 private:
  friend class LeaderSelector;
  struct Shared;  // whether we lead, shared by the selector and every context it handed out
  std::shared_ptr<Shared> shared_;
  int64_t epoch_ = 0;
};

struct LeaderSelectorOptions {
  LeaderElectionOptions election;
  // Join again after take_leadership returns (else leave for good).
  bool auto_requeue = true;
};

// Selector-style election: runs `take_leadership` on its own thread while leading. Thread-safe.
class LeaderSelector {
 public:
  using TakeLeadership = std::function<void(const LeadershipContext&)>;
  // Creates the selector; no I/O. Errors: InvalidArgument (empty take_leadership, or as
  // LeaderElection::Create).
  static absl::StatusOr<std::unique_ptr<LeaderSelector>> Create(Client& client,
                                                                std::string_view path,
                                                                LeaderSelectorOptions options,
                                                                TakeLeadership take_leadership);
  // Tells a running take_leadership that leadership ends (context.IsLeader() turns false),
  // waits for it to return, and leaves the election. Joins the selector's thread: never call it
  // from take_leadership, nor from an inline callback (take_leadership's blocking calls would
  // wait for that very thread).
  ~LeaderSelector();
  // Joins the election and starts the selector's thread, which calls take_leadership each time
  // we are elected. The thread ends when auto_requeue is off and take_leadership has returned,
  // or when the client is closed. Errors: as LeaderElection::Start.
  absl::Status Start();
  // How many times take_leadership has been called.
  int64_t leadership_count() const;
  // Returns the counts of the election under this selector (LeaderElection::Metrics()).
  // Threading: any thread.
  LeaderElectionMetrics Metrics() const;

 private:
  struct State;  // the election, the selector's thread and its counts
  explicit LeaderSelector(std::unique_ptr<State> state);
  const std::unique_ptr<State> state_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_LEADER_SELECTOR_H_
