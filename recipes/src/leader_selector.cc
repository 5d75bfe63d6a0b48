// LeaderSelector and LeadershipContext (zk/recipes/leader_selector.h): a thread that runs
// take_leadership each time the election it listens to makes us leader.

#include "zk/recipes/leader_selector.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"

namespace zk::recipes {

using zk::internal::ClientAccess;
using zk::internal::MutexLock;
using internal::Av;

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
  return std::unique_ptr<LeaderSelector>(
      new LeaderSelector(std::move(election), std::move(options), std::move(take_leadership)));
}

LeaderSelector::LeaderSelector(std::unique_ptr<LeaderElection> election,
                               LeaderSelectorOptions options, TakeLeadership take_leadership)
    : election_(std::move(election)),
      options_(std::move(options)),
      take_leadership_(std::move(take_leadership)),
      shared_(std::make_shared<LeadershipContext::Shared>()) {
  shared_->client = &election_->client();
  subscription_ = election_->AddListener([this](const LeadershipEvent& event) {
    MutexLock lock(&shared_->mu);
    shared_->leading = event.is_leader && !shared_->stopping;
  });
}

LeaderSelector::~LeaderSelector() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  {
    MutexLock lock(&shared_->mu);
    shared_->leading = false;
    shared_->stopping = true;
  }
  subscription_.Cancel();
  if (thread_.joinable()) thread_.join();
  election_.reset();
}

absl::Status LeaderSelector::Start() {
  ZK_RETURN_IF_ERROR(election_->Start());
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

int64_t LeaderSelector::leadership_count() const {
  MutexLock lock(&mu_);
  return count_;
}

LeaderElectionMetrics LeaderSelector::Metrics() const { return election_->Metrics(); }

void LeaderSelector::Run() {
  while (true) {
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
    }
    // Poll-free wait: AwaitLeadership blocks on the election's own condition.
    absl::Status elected = election_->AwaitLeadership(std::chrono::milliseconds(200));
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (!elected.ok()) {
      if (absl::IsDeadlineExceeded(elected)) continue;  // re-check stopping_
      return;
    }
    LeadershipContext context;
    context.shared_ = shared_;
    context.epoch_ = election_->epoch();
    {
      // Not simply true: leadership may have been lost since AwaitLeadership returned (its
      // event already applied), or the selector may be stopping.
      const bool leading = election_->IsLeader();
      MutexLock lock(&shared_->mu);
      shared_->leading = leading && !shared_->stopping;
    }
    take_leadership_(context);
    {
      MutexLock lock(&mu_);
      ++count_;
      if (stopping_) return;
    }
    if (!options_.auto_requeue) return;
    if (!election_->Resign().ok()) return;
  }
}

}  // namespace zk::recipes
