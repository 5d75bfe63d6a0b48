// Loop waits: how a blocking recipe call (Lock::Acquire, LockGuard::Release, Semaphore::Acquire)
// waits for work that runs on the client's event-loop thread. Shared by the lock and the
// semaphore, which both block on a Contender or a watch driven by the loop.

#ifndef ZK_RECIPES_SRC_LOOP_WAIT_H_
#define ZK_RECIPES_SRC_LOOP_WAIT_H_

#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "recipe_status.h"
#include "zk/client.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"

namespace zk::recipes::internal {

// Blocks on the loop's hand-off of an async result; the recipe's own deadline bounds the wait,
// the margin only guards against a lost completion.
template <typename T>
absl::StatusOr<T> WaitForResult(Client& client, std::string_view op, std::string_view path,
                                absl::Duration bound,
                                absl::AnyInvocable<void(Callback<T>) &&> start) {
  if (zk::internal::ClientAccess::OnLoopThread(client)) {
    return absl::FailedPreconditionError(
        absl::StrCat(Av(op), " ", Av(path),
                     ": blocking call from an inline callback would deadlock; use the Async form"));
  }
  struct State {
    zk::internal::Notification done;
    std::optional<absl::StatusOr<T>> result;
  };
  auto state = std::make_shared<State>();
  std::move(start)([state](absl::StatusOr<T> result) {
    state->result = std::move(result);
    state->done.NotifyFromOwner();
  });
  if (!state->done.WaitForNotificationWithTimeout(bound)) {
    return absl::DeadlineExceededError(
        absl::StrCat(Av(op), " ", Av(path), ": no completion (internal error: please report)"));
  }
  return std::move(*state->result);
}

// As WaitForResult, with `step` started on the loop thread; on a closed client the result is
// `if_closed`.
template <typename T>
absl::StatusOr<T> WaitForLoopResult(Client& client, std::string_view op, std::string_view path,
                                    absl::Duration bound, absl::StatusOr<T> if_closed,
                                    absl::AnyInvocable<void(Callback<T>) &&> step) {
  return WaitForResult<T>(
      client, op, path, bound,
      [&client, &if_closed, step = std::move(step)](Callback<T> done) mutable {
        auto shared_done = std::make_shared<Callback<T>>(std::move(done));
        if (!zk::internal::ClientAccess::RunOnLoop(
                client, [step = std::move(step), shared_done]() mutable {
                  std::move(step)(std::move(*shared_done));
                })) {
          std::move(*shared_done)(std::move(if_closed));
        }
      });
}

// The async form of a loop step: `step` runs on the loop thread and completes there; `done`
// runs on the client's callback executor (at once on the calling thread, with `if_closed`, when
// the client is closed).
template <typename T>
void RunOnLoopForUser(Client& client, absl::StatusOr<T> if_closed,
                      absl::AnyInvocable<void(Callback<T>) &&> step, Callback<T> done) {
  auto user = std::make_shared<Callback<T>>(std::move(done));
  Callback<T> deliver = [&client, user](absl::StatusOr<T> result) mutable {
    if (!zk::internal::ClientAccess::OnLoopThread(client)) {
      return std::move(*user)(std::move(result));
    }
    zk::internal::ClientAccess::DeliverToUser(client, [user, result = std::move(result)]() mutable {
      std::move(*user)(std::move(result));
    });
  };
  auto shared = std::make_shared<std::pair<absl::AnyInvocable<void(Callback<T>) &&>, Callback<T>>>(
      std::move(step), std::move(deliver));
  if (!zk::internal::ClientAccess::RunOnLoop(client, [shared]() mutable {
        std::move(shared->first)(std::move(shared->second));
      })) {
    std::move(shared->second)(std::move(if_closed));
  }
}

}  // namespace zk::recipes::internal

#endif  // ZK_RECIPES_SRC_LOOP_WAIT_H_
