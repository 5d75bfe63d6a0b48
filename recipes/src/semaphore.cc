// Semaphore and Lease (zk/recipes/semaphore.h): a Lock orders the waiters, the lease nodes are
// counted by the waiter holding it.

#include "zk/recipes/semaphore.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "contender.h"
#include "loop_wait.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/path.h"
#include "zk/recipes/lock.h"

namespace zk::recipes {

using zk::internal::ClientAccess;
using internal::Av;
using internal::WaitForLoopResult;

namespace {
// Returns a lease in the background, until its node is gone (a closed client took it along).
void ReturnLeaseInBackground(Client& client, std::string path) {
  ClientAccess::RunOnLoop(client, [&client, path = std::move(path)]() mutable {
    internal::DeleteUntilGone(client, std::move(path), nullptr);
  });
}
}  // namespace

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (!node_path_.empty()) ReturnLeaseInBackground(*client_, std::move(node_path_));
    client_ = other.client_;
    node_path_ = std::move(other.node_path_);
    other.node_path_.clear();
  }
  return *this;
}

Lease::~Lease() {
  if (!node_path_.empty()) ReturnLeaseInBackground(*client_, std::move(node_path_));
}

absl::Status Lease::Release() {
  if (node_path_.empty()) return absl::OkStatus();
  std::string path = std::exchange(node_path_, {});
  if (ClientAccess::OnLoopThread(*client_)) {
    ReturnLeaseInBackground(*client_, std::move(path));
    return absl::OkStatus();
  }
  absl::Status deleted = client_->Delete(path);
  if (IsNoNode(deleted) || absl::IsCancelled(deleted)) return absl::OkStatus();
  // Not known to be gone: keep trying in the background, or the lease stays taken for the
  // session's life.
  if (absl::IsUnavailable(deleted) || absl::IsDeadlineExceeded(deleted)) {
    ReturnLeaseInBackground(*client_, std::move(path));
  }
  return deleted;
}

absl::StatusOr<std::unique_ptr<Semaphore>> Semaphore::Create(Client& client, std::string_view path,
                                                             int max_leases) {
  ZK_RETURN_IF_ERROR(ValidatePath("semaphore", path));
  if (path == "/") return absl::InvalidArgumentError("semaphore /: the root cannot be its path");
  if (max_leases < 1) {
    return absl::InvalidArgumentError(absl::StrCat("semaphore ", Av(path), ": max_leases is ",
                                                   max_leases, "; it must be at least 1"));
  }
  return std::unique_ptr<Semaphore>(new Semaphore(client, std::string(path), max_leases));
}

absl::StatusOr<Lease> Semaphore::Acquire(std::chrono::milliseconds timeout) {
  if (timeout <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError(absl::StrCat("semaphore ", path_,
                                                   ": timeout must be positive (got ",
                                                   timeout.count(), " ms)"));
  }
  const absl::Time deadline = absl::Now() + absl::FromChrono(timeout);
  const auto remaining = [deadline] {
    return std::max(absl::ToChronoMilliseconds(deadline - absl::Now()),
                    std::chrono::milliseconds(1));
  };
  // The mutex orders the waiters: only its holder looks at (and watches) the leases. One Lock
  // per call, as a Lock is not reentrant: threads sharing this Semaphore queue like processes.
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<Lock> mutex, Lock::Create(client_, JoinPath(path_, "locks")));
  ZK_ASSIGN_OR_RETURN(LockGuard turn, mutex->Acquire(remaining()));
  const std::string leases = JoinPath(path_, "leases");
  ZK_ASSIGN_OR_RETURN(CreateResult created,
                      client_.Create(JoinPath(leases, "lease-"), "",
                                     {.mode = CreateMode::kEphemeralSequential,
                                      .create_parents = true,
                                      .protect = true}));
  Lease lease(&client_, created.path);
  while (true) {
    auto changed = std::make_shared<zk::internal::Notification>();
    // The watch fires on the loop thread, not on the callback executor: this may be running on
    // the dispatcher thread, which would then never deliver it.
    absl::StatusOr<Watched<ChildrenResult>> children = WaitForLoopResult<Watched<ChildrenResult>>(
        client_, "semaphore", path_, absl::FromChrono(timeout) + absl::Minutes(5),
        absl::CancelledError(absl::StrCat("semaphore ", path_, ": client is closed")),
        [client = &client_, leases, changed](Callback<Watched<ChildrenResult>> done) {
          ClientAccess::GetChildrenAndWatch(
              *client, leases, [changed](const WatchEvent&) { changed->NotifyFromOwner(); },
              std::move(done));
        });
    if (!children.ok()) return children.status();  // `lease` is returned on the way out
    if (static_cast<int>(children->result.children.size()) <= max_leases_) {
      (void)turn.Release();
      return lease;
    }
    if (!changed->WaitForNotificationWithTimeout(deadline - absl::Now())) {
      return absl::DeadlineExceededError(absl::StrCat("semaphore ", path_, ": no lease of ",
                                                      max_leases_, " free within ",
                                                      timeout.count(), " ms"));
    }
  }
}

}  // namespace zk::recipes
