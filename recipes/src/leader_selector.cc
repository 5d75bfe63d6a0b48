// LeaderSelector and LeadershipContext (zk/recipes/leader_selector.h): a thread that runs
// take_leadership each time the election it listens to makes us leader.

#include "zk/recipes/leader_selector.h"

#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"

namespace zk::recipes {

using zk::internal::ClientAccess;
using zk::internal::MutexLock;
using internal::Av;

struct LeadershipContext::Shared {
  const Client* client = nullptr;  // leadership also needs recent contact with the server
  mutable zk::internal::Mutex mu;
  bool leading ABSL_GUARDED_BY(mu) = false;
  bool stopping ABSL_GUARDED_BY(mu) = false;  // the selector is being destroyed
};

struct LeaderSelector::State {
  State(std::unique_ptr<LeaderElection> election, LeaderSelectorOptions options,
        TakeLeadership take_leadership)
      : election(std::move(election)),
        options(std::move(options)),
        take_leadership(std::move(take_leadership)),
        shared(std::make_shared<LeadershipContext::Shared>()) {}
  // The selector's thread: waits to be elected, runs take_leadership, resigns, again.
  void Run();

  std::unique_ptr<LeaderElection> election;
  const LeaderSelectorOptions options;
  const TakeLeadership take_leadership;
  Subscription subscription;
  const std::shared_ptr<LeadershipContext::Shared> shared;
  mutable zk::internal::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  int64_t count ABSL_GUARDED_BY(mu) = 0;
  std::thread thread;
};

bool LeadershipContext::IsLeader() const {
  {
    MutexLock lock(&shared_->mu);
    if (!shared_->leading) return false;
  }
  return shared_->client == nullptr || ClientAccess::ServerContactFresh(*shared_->client);
}

bool LeadershipContext::WaitWhileLeader(std::chrono::milliseconds timeout) const {
  MutexLock lock(&shared_->mu);
  Shared* shared = shared_.get();
  shared_->mu.AwaitWithTimeout([shared]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !shared->leading; },
                               absl::FromChrono(timeout));
  return shared_->leading;
}

absl::StatusOr<std::unique_ptr<LeaderSelector>> LeaderSelector::Create(
    Client& client, std::string_view path, LeaderSelectorOptions options,
    TakeLeadership take_leadership) {
  if (!take_leadership) {
    return absl::InvalidArgumentError(
        absl::StrCat("leader_selector ", Av(path), ": take_leadership is empty"));
  }
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<LeaderElection> election,
                      LeaderElection::Create(client, path, options.election));
  return std::unique_ptr<LeaderSelector>(new LeaderSelector(std::make_unique<State>(
      std::move(election), std::move(options), std::move(take_leadership))));
}

LeaderSelector::LeaderSelector(std::unique_ptr<State> state) : state_(std::move(state)) {
  LeadershipContext::Shared* shared = state_->shared.get();
  shared->client = &state_->election->client();
  state_->subscription = state_->election->AddListener([shared](const LeadershipEvent& event) {
    MutexLock lock(&shared->mu);
    shared->leading = event.is_leader && !shared->stopping;
  });
}

LeaderSelector::~LeaderSelector() {
  State& s = *state_;
  {
    MutexLock lock(&s.mu);
    s.stopping = true;
  }
  {
    MutexLock lock(&s.shared->mu);
    s.shared->leading = false;
    s.shared->stopping = true;
  }
  s.subscription.Cancel();
  if (s.thread.joinable()) s.thread.join();
  s.election.reset();
}

absl::Status LeaderSelector::Start() {
  ZK_RETURN_IF_ERROR(state_->election->Start());
  state_->thread = std::thread([state = state_.get()] { state->Run(); });
  return absl::OkStatus();
}

int64_t LeaderSelector::leadership_count() const {
  MutexLock lock(&state_->mu);
  return state_->count;
}

LeaderElectionMetrics LeaderSelector::Metrics() const { return state_->election->Metrics(); }

void LeaderSelector::State::Run() {
  while (true) {
    {
      MutexLock lock(&mu);
      if (stopping) return;
    }
    // AwaitLeadership blocks on the election's own condition; the bound only re-checks
    // `stopping`.
    absl::Status elected = election->AwaitLeadership(std::chrono::milliseconds(200));
    {
      MutexLock lock(&mu);
      if (stopping) return;
    }
    if (!elected.ok()) {
      if (absl::IsDeadlineExceeded(elected)) continue;  // re-check stopping
      return;
    }
    LeadershipContext context;
    context.shared_ = shared;
    context.epoch_ = election->epoch();
    {
      // Not simply true: leadership may have been lost since AwaitLeadership returned (its
      // event already applied), or the selector may be stopping.
      const bool leading = election->IsLeader();
      MutexLock lock(&shared->mu);
      shared->leading = leading && !shared->stopping;
    }
    take_leadership(context);
    {
      MutexLock lock(&mu);
      ++count;
      if (stopping) return;
    }
    if (!options.auto_requeue) return;
    if (!election->Resign().ok()) return;
  }
}

}  // namespace zk::recipes
