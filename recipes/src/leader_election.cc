#include "zk/recipes/leader_election.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "contender.h"
#include "listener_set.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/path.h"

namespace zk::recipes {

using zk::internal::ClientAccess;
using zk::internal::MutexLock;
using internal::Av;

std::string_view LeadershipReasonName(LeadershipReason reason) {
  switch (reason) {
    case LeadershipReason::kElected: return "elected";
    case LeadershipReason::kSuspended: return "suspended";
    case LeadershipReason::kReconnected: return "reconnected";
    case LeadershipReason::kSessionLost: return "session lost";
    case LeadershipReason::kResigned: return "resigned";
    case LeadershipReason::kClientClosed: return "client closed";
  }
  return "unknown";
}

namespace {

constexpr char kMarker[] = "latch-";
// How long a participant whose attempt failed waits before it joins again.
constexpr std::chrono::milliseconds kRejoinDelay{1000};

}  // namespace

// Shared between the recipe object and its loop-thread continuations, which never touch the
// recipe object itself (it may be gone by the time they run).
struct LeaderElection::State {
  State(Client& client, std::string path, LeaderElectionOptions options)
      : client(client), path(std::move(path)), options(std::move(options)) {}
  Client& client;
  const std::string path;
  const LeaderElectionOptions options;
  zk::internal::Mutex mu;
  bool started ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;
  bool client_closed ABSL_GUARDED_BY(mu) = false;  // nothing can lead again
  bool leading ABSL_GUARDED_BY(mu) = false;
  uint64_t times_elected ABSL_GUARDED_BY(mu) = 0;  // changes of `leading`, for Metrics()
  uint64_t times_lost ABSL_GUARDED_BY(mu) = 0;
  int64_t epoch ABSL_GUARDED_BY(mu) = 0;
  std::string node ABSL_GUARDED_BY(mu);  // our node while leading
  // Replaced on Resign; only the loop thread uses the contender itself.
  std::shared_ptr<internal::Contender> contender ABSL_GUARDED_BY(mu);
  internal::ListenerSet<LeadershipEvent> listeners;

  // A Cancelled result or kClosed event of the current contender (not of one replaced by
  // Resign, nor of a closed election) means that the client closed.
  void MarkClientClosedIfCurrent(const internal::Contender* self) {
    MutexLock lock(&mu);
    if (!closed && contender.get() == self) client_closed = true;
  }
};

absl::StatusOr<std::unique_ptr<LeaderElection>> LeaderElection::Create(
    Client& client, std::string_view path, LeaderElectionOptions options) {
  ZK_RETURN_IF_ERROR(ValidatePath("leader_election", path));
  if (path == "/") {
    return absl::InvalidArgumentError("leader_election /: the root cannot be an election path");
  }
  if (options.participant_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("leader_election ", Av(path), ": participant_id is empty"));
  }
  return std::unique_ptr<LeaderElection>(
      new LeaderElection(client, std::string(path), std::move(options)));
}

LeaderElection::LeaderElection(Client& client, std::string path, LeaderElectionOptions options)
    : client_(client),
      path_(path),
      options_(options),
      state_(std::make_shared<State>(client, std::move(path), std::move(options))) {}

LeaderElection::~LeaderElection() {
  {
    MutexLock lock(&state_->mu);
    state_->closed = true;
  }
  state_->listeners.Close();
  // Leave on the loop, after any Join/Resign already queued there, and wait for that step (not
  // for the server's reply) so that nothing of ours runs after we return.
  std::shared_ptr<State> state = state_;
  auto leave = [state] {
    std::shared_ptr<internal::Contender> contender;
    {
      MutexLock lock(&state->mu);
      contender = std::move(state->contender);
    }
    if (contender) contender->Leave(absl::CancelledError("leader_election: closed"), nullptr);
  };
  ClientAccess::RunOnLoopAndWait(client_, leave);
  // A closed client runs no task. Its session took our node along, but the contender must
  // still go: its callbacks hold `state_`, and `state_` holds it.
  std::shared_ptr<internal::Contender> contender;
  MutexLock lock(&state_->mu);
  contender = std::move(state_->contender);
}

absl::Status LeaderElection::Start() {
  {
    MutexLock lock(&state_->mu);
    if (state_->started) {
      return absl::FailedPreconditionError(
          absl::StrCat("leader_election ", path_, ": already started"));
    }
    state_->started = true;
  }
  if (!ClientAccess::RunOnLoop(client_, [state = state_] { Join(state); })) {
    return absl::CancelledError(absl::StrCat("leader_election ", path_, ": client is closed"));
  }
  return absl::OkStatus();
}

void LeaderElection::Join(const std::shared_ptr<State>& state) {
  auto contender = std::make_shared<internal::Contender>(
      state->client, internal::ContenderOptions{.dir = state->path,
                                                .marker = kMarker,
                                                .data = state->options.participant_id,
                                                .requeue_after_loss = true});
  std::shared_ptr<internal::Contender> replaced;
  {
    MutexLock lock(&state->mu);
    if (state->closed) return;
    replaced = std::exchange(state->contender, contender);
  }
  // Two Joins can be queued (Resign right after Start, or twice in a row, before the loop ran
  // the first): the earlier contender must leave, or its node would block everyone.
  if (replaced) replaced->Leave(absl::CancelledError("leader_election: joined again"), nullptr);
  // Records a change of leadership and tells the listeners (loop thread). It names its
  // contender by address only: the contender holds this function, so a shared_ptr would be a
  // cycle.
  const internal::Contender* self = contender.get();
  auto set_leader = [state, self](bool leading, int64_t epoch, LeadershipReason reason,
                                  const std::string& node) {
    bool was_leading;
    {
      MutexLock lock(&state->mu);
      if (state->closed || state->contender.get() != self) return;  // closed or resigned
      was_leading = state->leading;
      if (was_leading == leading) return;
      state->leading = leading;
      ++(leading ? state->times_elected : state->times_lost);
      state->epoch = leading ? epoch : 0;
      state->node = leading ? node : std::string();
    }
    state->listeners.Notify(state->client, {leading, leading ? epoch : 0, reason});
    if (was_leading && !leading && state->options.fail_fast) {
      ClientAccess::DeliverToUser(state->client, [on_lost = state->options.on_leadership_lost] {
        if (on_lost) {
          on_lost();
        } else {
          std::fprintf(stderr, "zkcpp: leadership lost with fail_fast set; aborting\n");
          std::abort();
        }
      });
    }
  };
  std::weak_ptr<internal::Contender> weak = contender;  // not an address: it may be reused
  contender->Start(
      std::nullopt,
      [set_leader, state, self, weak](absl::StatusOr<internal::Acquired> acquired) {
        if (acquired.ok()) {
          return set_leader(true, acquired->czxid, LeadershipReason::kElected, acquired->path);
        }
        if (absl::IsCancelled(acquired.status())) {  // closed, resigned, or the client closed
          state->MarkClientClosedIfCurrent(self);
          return;
        }
        // The attempt ended (e.g. our node kept vanishing, or no permission): a participant
        // must not drop out silently. Join again after a pause, unless this contender was
        // replaced or the election closed meanwhile.
        ClientAccess::RunAfter(state->client, kRejoinDelay, [state, weak] {
          {
            std::shared_ptr<internal::Contender> failed = weak.lock();
            MutexLock lock(&state->mu);
            if (state->closed || failed == nullptr || state->contender != failed) return;
          }
          Join(state);
        });
      },
      [set_leader, state, self](internal::ContenderEvent event,
                                const internal::Acquired& acquired) {
        switch (event) {
          case internal::ContenderEvent::kAcquired:
            set_leader(true, acquired.czxid, LeadershipReason::kElected, acquired.path);
            break;
          case internal::ContenderEvent::kSuspended:
            set_leader(false, 0, LeadershipReason::kSuspended, acquired.path);
            break;
          case internal::ContenderEvent::kReconnected:
            set_leader(true, acquired.czxid, LeadershipReason::kReconnected, acquired.path);
            break;
          case internal::ContenderEvent::kLost:
            set_leader(false, 0, LeadershipReason::kSessionLost, acquired.path);
            break;
          case internal::ContenderEvent::kClosed:
            set_leader(false, 0, LeadershipReason::kClientClosed, acquired.path);
            state->MarkClientClosedIfCurrent(self);
            break;
        }
      });
}

absl::Status LeaderElection::Resign() {
  std::shared_ptr<internal::Contender> old;
  bool was_leading;
  int64_t epoch;
  {
    // Synchronously: from here on IsLeader() is false and events of the old node are ignored.
    MutexLock lock(&state_->mu);
    if (!state_->started || state_->closed) {
      return absl::FailedPreconditionError(
          absl::StrCat("leader_election ", path_, ": not started"));
    }
    old = std::move(state_->contender);
    was_leading = state_->leading;
    epoch = state_->epoch;
    if (was_leading) ++state_->times_lost;
    state_->leading = false;
    state_->epoch = 0;
    state_->node.clear();
  }
  const bool posted = ClientAccess::RunOnLoop(client_, [state = state_, old, was_leading, epoch] {
    if (old) old->Leave(absl::CancelledError("leader_election: resigned"), nullptr);
    if (was_leading) {
      state->listeners.Notify(state->client, {false, epoch, LeadershipReason::kResigned});
    }
    Join(state);  // at the back of the queue: our new node's sequence is the highest
  });
  if (!posted) {
    return absl::CancelledError(absl::StrCat("leader_election ", path_, ": client is closed"));
  }
  return absl::OkStatus();
}

bool LeaderElection::IsLeader() const {
  {
    MutexLock lock(&state_->mu);
    if (!state_->leading) return false;
  }
  // A leader that has not heard from the server within the read timeout (a long pause) may
  // have been replaced already: not the leader until the loop has caught up.
  return ClientAccess::ServerContactFresh(client_);
}

LeaderElectionMetrics LeaderElection::Metrics() const {
  MutexLock lock(&state_->mu);
  return {.elected = state_->times_elected,
          .lost = state_->times_lost,
          .leading = state_->leading};
}

int64_t LeaderElection::epoch() const {
  MutexLock lock(&state_->mu);
  return state_->epoch;
}

absl::Status LeaderElection::AwaitLeadership(std::chrono::milliseconds timeout) {
  if (timeout <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "await_leadership ", path_, ": timeout must be positive (got ", timeout.count(), " ms)"));
  }
  if (ClientAccess::OnLoopThread(client_)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "await_leadership ", path_, ": blocking call from an inline callback would deadlock"));
  }
  MutexLock lock(&state_->mu);
  if (!state_->started) {
    return absl::FailedPreconditionError(
        absl::StrCat("await_leadership ", path_, ": not started"));
  }
  State* state = state_.get();
  state_->mu.AwaitWithTimeout(
      [state]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return state->leading || state->closed || state->client_closed;
      },
      absl::FromChrono(timeout));
  if (state_->leading) return absl::OkStatus();
  if (state_->closed) return absl::CancelledError(absl::StrCat("await_leadership ", path_, ": closed"));
  // (The flag wakes us; the state also covers a client closed while no attempt was running.)
  if (state_->client_closed || client_.state() == SessionState::kClosed) {
    return absl::CancelledError(absl::StrCat("await_leadership ", path_, ": client closed"));
  }
  return absl::DeadlineExceededError(absl::StrCat("await_leadership ", path_,
                                                  ": not elected within ", timeout.count(), " ms"));
}

absl::StatusOr<std::vector<Op>> LeaderElection::Guard(std::vector<Op> ops) const {
  std::string node;
  {
    MutexLock lock(&state_->mu);
    if (!state_->leading) {
      return absl::FailedPreconditionError(absl::StrCat("guard ", path_, ": not the leader"));
    }
    node = state_->node;
  }
  return internal::PrependExistenceCheck(std::move(node), std::move(ops));
}

Subscription LeaderElection::AddListener(std::function<void(const LeadershipEvent&)> listener) {
  return state_->listeners.Add(std::move(listener));
}

absl::StatusOr<std::vector<Participant>> LeaderElection::Participants() {
  ZK_ASSIGN_OR_RETURN(ChildrenResult children, client_.GetChildren(path_));
  std::vector<Participant> participants;
  for (const std::string& name : internal::SortedParticipants(children.children, kMarker)) {
    absl::StatusOr<GetResult> node = client_.Get(JoinPath(path_, name));
    if (IsNoNode(node.status())) continue;  // left meanwhile
    if (!node.ok()) return node.status();
    participants.push_back({node->data, participants.empty()});
  }
  return participants;
}

absl::StatusOr<std::string> LeaderElection::CurrentLeader() {
  ZK_ASSIGN_OR_RETURN(std::vector<Participant> participants, Participants());
  if (participants.empty()) {
    return absl::NotFoundError(absl::StrCat("current_leader ", path_, ": no participants"));
  }
  return participants.front().id;
}

}  // namespace zk::recipes
