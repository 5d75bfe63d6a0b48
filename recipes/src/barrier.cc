// Barrier (zk/recipes/barrier.h): set and remove are single client calls; every wait is a chain
// of watched existence checks on the loop thread, ended by the node's absence, its deadline
// timer or the destructor.

#include "zk/recipes/barrier.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "loop_wait.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/path.h"

namespace zk::recipes {

using zk::internal::ClientAccess;

namespace {
constexpr std::chrono::milliseconds kStepRetry{20};
}  // namespace

struct Barrier::Impl : std::enable_shared_from_this<Impl> {
  Impl(Client& client, std::string path) : client(client), path(std::move(path)) {}

  Client& client;
  const std::string path;

  // Waits in progress (loop thread only).
  struct Wait {
    Callback<bool> done;
    ClientAccess::LoopTimer timer;
    Watch watch;
  };
  std::map<uint64_t, Wait> waits;
  uint64_t next_id = 1;
  bool closed = false;

  void Begin(std::chrono::milliseconds timeout, Callback<bool> done) {
    if (closed) {
      return std::move(done)(absl::CancelledError(absl::StrCat("barrier ", path, ": destroyed")));
    }
    const uint64_t id = next_id++;
    Wait& wait = waits[id];
    wait.done = std::move(done);
    wait.timer = ClientAccess::RunAfter(client, timeout, [weak = weak_from_this(), id, timeout] {
      if (auto self = weak.lock()) {
        self->Finish(id, absl::DeadlineExceededError(absl::StrCat(
                             "barrier ", self->path, ": still set after ", timeout.count(), " ms")));
      }
    });
    Check(id);
  }

  void Check(uint64_t id) {
    if (!waits.contains(id)) return;
    ClientAccess::ExistsAndWatch(
        client, path,
        [weak = weak_from_this(), id](const WatchEvent&) {
          // Deleted, changed, or kNotWatching (session lost): look again.
          if (auto self = weak.lock()) self->Check(id);
        },
        [weak = weak_from_this(), id](absl::StatusOr<Watched<std::optional<Stat>>> exists) {
          auto self = weak.lock();
          if (!self) return;
          auto it = self->waits.find(id);
          if (it == self->waits.end()) return;
          if (!exists.ok()) {
            if (!internal::Transient(exists.status())) return self->Finish(id, exists.status());
            ClientAccess::RunAfter(self->client, kStepRetry, [weak, id] {
              if (auto self = weak.lock()) self->Check(id);
            });
            return;
          }
          it->second.watch = std::move(exists->watch);
          if (!exists->result.has_value()) self->Finish(id, absl::OkStatus());
        });
  }

  void Finish(uint64_t id, absl::Status status) {
    auto it = waits.find(id);
    if (it == waits.end()) return;
    Wait wait = std::move(it->second);
    waits.erase(it);
    ClientAccess::CancelTimer(client, wait.timer);
    wait.watch.Cancel();
    std::move(wait.done)(status.ok() ? absl::StatusOr<bool>(true)
                                     : absl::StatusOr<bool>(std::move(status)));
  }

  void Close() {
    closed = true;
    while (!waits.empty()) {
      Finish(waits.begin()->first,
             absl::CancelledError(absl::StrCat("barrier ", path, ": destroyed")));
    }
  }
};

absl::StatusOr<std::unique_ptr<Barrier>> Barrier::Create(Client& client, std::string_view path) {
  ZK_RETURN_IF_ERROR(ValidatePath("barrier", path));
  if (path == "/") return absl::InvalidArgumentError("barrier /: the root cannot be its path");
  return std::unique_ptr<Barrier>(new Barrier(std::make_shared<Impl>(client, std::string(path))));
}

Barrier::~Barrier() {
  ClientAccess::RunOnLoopAndWait(impl_->client, [impl = impl_.get()] { impl->Close(); });
}

const std::string& Barrier::path() const { return impl_->path; }

absl::Status Barrier::SetBarrier() {
  absl::Status created =
      impl_->client.Create(impl_->path, "", {.create_parents = true}).status();
  return IsNodeExists(created) ? absl::OkStatus() : created;
}

absl::Status Barrier::RemoveBarrier() {
  absl::Status deleted = impl_->client.Delete(impl_->path);
  return IsNoNode(deleted) ? absl::OkStatus() : deleted;
}

namespace {

absl::Status CheckTimeout(const std::string& path, std::chrono::milliseconds timeout) {
  if (timeout > std::chrono::milliseconds::zero()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("barrier ", path, ": timeout must be positive (got ",
                                                 timeout.count(), " ms)"));
}

absl::AnyInvocable<void(Callback<bool>) &&> WaitStep(std::shared_ptr<Barrier::Impl> impl,
                                                    std::chrono::milliseconds timeout) {
  return [impl = std::move(impl), timeout](Callback<bool> done) {
    impl->Begin(timeout, std::move(done));
  };
}

absl::Status ClientClosed(const std::string& path) {
  return absl::CancelledError(absl::StrCat("barrier ", path, ": client is closed"));
}

}  // namespace

absl::Status Barrier::WaitOnBarrier(std::chrono::milliseconds timeout) {
  ZK_RETURN_IF_ERROR(CheckTimeout(impl_->path, timeout));
  return internal::WaitForLoopResult<bool>(impl_->client, "barrier", impl_->path,
                                           absl::FromChrono(timeout) + absl::Minutes(5),
                                           ClientClosed(impl_->path), WaitStep(impl_, timeout))
      .status();
}

void Barrier::AsyncWaitOnBarrier(std::chrono::milliseconds timeout, StatusCallback done) {
  if (absl::Status bad = CheckTimeout(impl_->path, timeout); !bad.ok()) {
    return std::move(done)(std::move(bad));
  }
  internal::RunOnLoopForUser<bool>(
      impl_->client, ClientClosed(impl_->path), WaitStep(impl_, timeout),
      [done = std::move(done)](absl::StatusOr<bool> r) mutable { std::move(done)(r.status()); });
}

}  // namespace zk::recipes
