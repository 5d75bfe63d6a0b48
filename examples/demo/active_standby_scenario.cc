// zkcpp-demo, scenario 3: an active/standby pair that fails over.
//
// Two "billing" servers run a LeaderElection: the first to join is active, the other waits
// as standby, watching only the active's node. Then the active dies. On the embedded server
// the server expires its session, as ZooKeeper does once a crashed process has missed its
// session timeout; against a real ensemble its client closes, as on a clean process exit.
// Either way its election node goes, the standby's watch fires, and the standby's leadership
// callback runs: the demo prints the time from the kill to that callback, and checks that the
// new leader's epoch (the fencing value for its writes) is above the old one's.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "demo/demo.h"
#include "zk/client.h"
#include "zk/recipes/leader_election.h"

namespace zkcpp_demo {

namespace {

using zk::recipes::LeaderElection;
using zk::recipes::LeadershipEvent;
using zk::recipes::Participant;

// What the servers' leadership listeners report. Thread-safe.
class LeadershipLog {
 public:
  void Record(int server, const LeadershipEvent& event) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (event.is_leader && !became_leader_at_[server]) became_leader_at_[server] = now;
      // Only a loss after a win counts (a listener may also hear "not leader" while queued).
      if (!event.is_leader && became_leader_at_[server]) lost_leadership_[server] =
          std::string(zk::recipes::LeadershipReasonName(event.reason));
    }
    changed_.notify_all();
  }
  // Waits until `server`'s listener reported leadership; returns when, or nullopt on timeout.
  std::optional<std::chrono::steady_clock::time_point> AwaitLeader(
      int server, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, timeout, [&] { return became_leader_at_[server].has_value(); });
    return became_leader_at_[server];
  }
  // Waits until `server`'s listener reported losing leadership; returns the reason, or
  // nullopt on timeout.
  std::optional<std::string> AwaitLost(int server, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, timeout, [&] { return lost_leadership_[server].has_value(); });
    return lost_leadership_[server];
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::optional<std::chrono::steady_clock::time_point> became_leader_at_[2];  // guarded by mu_
  std::optional<std::string> lost_leadership_[2];                             // guarded by mu_
};

// One billing server: a process with its own session. Members go bottom-up: the listener,
// then the election, then the client.
struct Server {
  std::string name;
  std::unique_ptr<zk::Client> client;
  std::unique_ptr<LeaderElection> election;
  zk::Subscription listener;
};

absl::Status SayQueue(LeaderElection& election) {
  ZK_ASSIGN_OR_RETURN(std::vector<Participant> participants, election.Participants());
  std::string queue;
  for (const Participant& participant : participants) {
    absl::StrAppend(&queue, queue.empty() ? "" : ", ", participant.id,
                    participant.is_leader ? " (active)" : "");
  }
  Say("election queue: %s", queue.c_str());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RunActiveStandbyScenario(const DemoContext& context) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ScenarioRoot> root,
                      ScenarioRoot::Create(context, "failover"));
  const std::string leader_path = root->Child("billing/leader");
  LeadershipLog log;  // outlives the listeners that write to it
  Server servers[2];
  for (int i = 0; i < 2; ++i) {
    Server& server = servers[i];
    server.name = absl::StrCat("billing-", i == 0 ? "a" : "b");
    ZK_ASSIGN_OR_RETURN(server.client, ConnectClient(context, server.name));
    ZK_ASSIGN_OR_RETURN(server.election,
                        LeaderElection::Create(*server.client, leader_path,
                                               {.participant_id = server.name + ":8080"}));
    server.listener = server.election->AddListener(
        [&log, i](const LeadershipEvent& event) { log.Record(i, event); });
  }
  Server& active = servers[0];
  Server& standby = servers[1];

  // 1. billing-a joins first and becomes active; billing-b queues behind it.
  ZK_RETURN_IF_ERROR(active.election->Start());
  ZK_RETURN_IF_ERROR(active.election->AwaitLeadership(kWaitTimeout));
  const int64_t old_epoch = active.election->epoch();
  Say("%s is active (epoch %s)", active.name.c_str(), Hex(old_epoch).c_str());
  ZK_RETURN_IF_ERROR(standby.election->Start());
  // Its node is in the queue once the election directory has two children.
  ZK_RETURN_IF_ERROR(WaitForChildren(*standby.client, leader_path, 2, kWaitTimeout));
  Say("%s is standby", standby.name.c_str());
  ZK_RETURN_IF_ERROR(SayQueue(*standby.election));
  if (standby.election->IsLeader()) return ClaimFailed("one active at a time");

  // 2. The active dies.
  std::chrono::steady_clock::time_point killed;
  if (context.embedded_server != nullptr) {
    Say("%s crashes: the server expires its session (as it would %lld ms after a real crash)",
        active.name.c_str(), static_cast<long long>(kSessionTimeout.count()));
    killed = std::chrono::steady_clock::now();
    ZK_RETURN_IF_ERROR(context.embedded_server->ExpireSession(active.client->session_id()));
  } else {
    Say("%s dies: its process exits and closes its session", active.name.c_str());
    killed = std::chrono::steady_clock::now();
    active.client->Close();
  }

  // 3. The standby's leadership callback runs.
  const std::optional<std::chrono::steady_clock::time_point> took_over =
      log.AwaitLeader(1, kWaitTimeout);
  if (!took_over) return ClaimFailed(absl::StrCat(standby.name, " takes over"));
  const double failover_ms = Millis(killed, *took_over);
  const int64_t new_epoch = standby.election->epoch();
  Say("%s is active (epoch %s): its leadership callback ran %.1f ms after the kill",
      standby.name.c_str(), Hex(new_epoch).c_str(), failover_ms);
  if (new_epoch <= old_epoch) {
    return ClaimFailed("the new leader's epoch is above the old one's (fencing)");
  }

  // 4. On the embedded server the crashed server's client notices, opens a new session by
  // itself, and its election queues it again, now behind the new active one.
  if (context.embedded_server != nullptr) {
    const std::optional<std::string> lost = log.AwaitLost(0, kWaitTimeout);
    if (!lost) return ClaimFailed(absl::StrCat(active.name, " learns it is no longer active"));
    Say("%s's listener: leadership lost (%s)", active.name.c_str(), lost->c_str());
    ZK_RETURN_IF_ERROR(WaitForChildren(*standby.client, leader_path, 2, kWaitTimeout));
    Say("%s is back in a new session, as standby", active.name.c_str());
    ZK_RETURN_IF_ERROR(SayQueue(*standby.election));
    if (active.election->IsLeader()) return ClaimFailed("one active at a time");
  }
  if (!standby.election->IsLeader()) return ClaimFailed(absl::StrCat(standby.name, " leads"));
  Say("ok: failover in %.1f ms; one active at a time; epoch %s -> %s", failover_ms,
      Hex(old_epoch).c_str(), Hex(new_epoch).c_str());
  return absl::StrFormat("standby took over %.1f ms after the active died; epoch %s -> %s",
                         failover_ms, Hex(old_epoch), Hex(new_epoch));
}

}  // namespace zkcpp_demo
