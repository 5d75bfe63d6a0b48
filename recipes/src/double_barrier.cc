// DoubleBarrier (zk/recipes/double_barrier.h): Enter and Leave as continuations on the loop
// thread; one call at a time, each ended by its result, its deadline timer or the destructor.

#include "zk/recipes/double_barrier.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "contender.h"
#include "loop_wait.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "zk/path.h"

namespace zk::recipes {

using internal::Av;
using zk::internal::ClientAccess;
using zk::internal::MutexLock;

namespace {

constexpr std::string_view kReadyName = "ready";

std::string RandomUuid() {
  thread_local std::mt19937_64 random(std::random_device{}());
  const uint64_t high = (random() & ~uint64_t{0xf000}) | 0x4000;  // version 4
  const uint64_t low = (random() & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);  // variant
  char text[37];
  std::snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0xffff), static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text;
}

// The member names among `children`, sorted (Curator's order: by name).
std::vector<std::string> Members(std::vector<std::string> children) {
  std::erase(children, std::string(kReadyName));
  std::sort(children.begin(), children.end());
  return children;
}

// How long a failed step waits before it is sent again (requests made while disconnected wait
// for the next connection by themselves; this only keeps a refused step from spinning).
constexpr std::chrono::milliseconds kStepRetry{20};

}  // namespace

struct DoubleBarrier::Impl : std::enable_shared_from_this<Impl> {
  Impl(Client& client, std::string path, int member_count)
      : client(client),
        path(std::move(path)),
        member_count(member_count),
        member_name(RandomUuid()),
        member_path(JoinPath(this->path, member_name)),
        ready_path(JoinPath(this->path, kReadyName)) {}

  Client& client;
  const std::string path;
  const int member_count;
  const std::string member_name;
  const std::string member_path;
  const std::string ready_path;

  // The call in progress (loop thread only).
  struct Call {
    bool entering = true;
    std::string op;  // "double_barrier enter /path"
    Callback<bool> done;
    ClientAccess::LoopTimer timer;
    Watch watch;
  };
  uint64_t generation = 0;  // loop: of the current call; continuations of older ones stop
  std::unique_ptr<Call> call;
  bool closed = false;  // loop
  bool member_removed = false;  // loop: Leave sent the delete of the member node

  mutable zk::internal::Mutex mu;
  bool busy ABSL_GUARDED_BY(mu) = false;
  bool entered ABSL_GUARDED_BY(mu) = false;

  void Begin(bool entering, std::chrono::milliseconds timeout, Callback<bool> done);
  void Finish(uint64_t gen, absl::Status status);
  bool Current(uint64_t gen) const { return call != nullptr && generation == gen && !closed; }
  WatchCallback Again(uint64_t gen, void (Impl::*step)(uint64_t));
  void RetryLater(uint64_t gen, void (Impl::*step)(uint64_t));
  void Close();
  void MemberGone(uint64_t gen) {
    Finish(gen, absl::AbortedError(absl::StrCat(call->op, ": member node ", member_path,
                                                " is gone (the session was lost)")));
  }

  // Watches `node`: an event runs `step` again; then `then` runs with whether it exists.
  void WatchNode(uint64_t gen, const std::string& node, void (Impl::*step)(uint64_t),
                 void (Impl::*then)(uint64_t, bool));
  // Enter.
  void CreateMember(uint64_t gen);
  void CheckReady(uint64_t gen);
  void OnReadyChecked(uint64_t gen, bool ready);
  void CountMembers(uint64_t gen);
  void CreateReady(uint64_t gen);
  // Leave.
  void LeaveStep(uint64_t gen);
  void WaitFor(uint64_t gen, const std::string& name);
  void OnBlockerChecked(uint64_t gen, bool present);
};

WatchCallback DoubleBarrier::Impl::Again(uint64_t gen, void (Impl::*step)(uint64_t)) {
  return [weak = weak_from_this(), gen, step](const WatchEvent&) {
    // Any event, kNotWatching (session lost) included: look again.
    if (auto self = weak.lock(); self && self->Current(gen)) ((*self).*step)(gen);
  };
}

void DoubleBarrier::Impl::RetryLater(uint64_t gen, void (Impl::*step)(uint64_t)) {
  ClientAccess::RunAfter(client, kStepRetry, [weak = weak_from_this(), gen, step] {
    if (auto self = weak.lock(); self && self->Current(gen)) ((*self).*step)(gen);
  });
}

void DoubleBarrier::Impl::Begin(bool entering, std::chrono::milliseconds timeout,
                                Callback<bool> done) {
  const std::string op = absl::StrCat("double_barrier ", entering ? "enter " : "leave ", path);
  if (closed) return std::move(done)(absl::CancelledError(absl::StrCat(op, ": destroyed")));
  const uint64_t gen = ++generation;
  call = std::make_unique<Call>();
  call->entering = entering;
  call->op = op;
  call->done = std::move(done);
  call->timer = ClientAccess::RunAfter(client, timeout, [weak = weak_from_this(), gen, timeout] {
    auto self = weak.lock();
    if (!self || !self->Current(gen)) return;
    self->Finish(gen, absl::DeadlineExceededError(absl::StrCat(
                          self->call->op, ": ",
                          self->call->entering ? "fewer than " : "members still present after ",
                          self->call->entering ? absl::StrCat(self->member_count,
                                                              " members within ")
                                               : "",
                          timeout.count(), " ms")));
  });
  if (entering) {
    member_removed = false;
    CreateMember(gen);
  } else {
    LeaveStep(gen);
  }
}

void DoubleBarrier::Impl::Finish(uint64_t gen, absl::Status status) {
  if (call == nullptr || generation != gen) return;
  std::unique_ptr<Call> ended = std::move(call);
  ClientAccess::CancelTimer(client, ended->timer);
  ended->watch.Cancel();
  const bool entering = ended->entering;
  if (entering && !status.ok()) {
    // Not counted any longer (if it still can be): the member node goes.
    internal::DeleteUntilGone(client, member_path, nullptr);
  }
  {
    MutexLock lock(&mu);
    busy = false;
    entered = entering ? status.ok() : !status.ok() && !absl::IsAborted(status);
  }
  std::move(ended->done)(status.ok() ? absl::StatusOr<bool>(true)
                                     : absl::StatusOr<bool>(std::move(status)));
}

void DoubleBarrier::Impl::Close() {
  closed = true;
  if (call != nullptr) {
    const std::string op = call->op;
    Finish(generation, absl::CancelledError(absl::StrCat(op, ": destroyed")));
  }
  internal::DeleteUntilGone(client, member_path, nullptr);
}

void DoubleBarrier::Impl::CreateMember(uint64_t gen) {
  ClientAccess::Create(
      client, member_path, "", {.mode = CreateMode::kEphemeral, .create_parents = true},
      [weak = weak_from_this(), gen](absl::StatusOr<CreateResult> created) {
        auto self = weak.lock();
        if (!self || !self->Current(gen)) return;
        // NODEEXISTS: our own create of unknown outcome was applied (the name is unique).
        if (created.ok() || IsNodeExists(created.status())) return self->CheckReady(gen);
        if (internal::Transient(created.status())) {
          return self->RetryLater(gen, &Impl::CreateMember);
        }
        self->Finish(gen, created.status());
      });
}

void DoubleBarrier::Impl::WatchNode(uint64_t gen, const std::string& node,
                                    void (Impl::*step)(uint64_t),
                                    void (Impl::*then)(uint64_t, bool)) {
  ClientAccess::ExistsAndWatch(
      client, node, Again(gen, step),
      [weak = weak_from_this(), gen, step, then](
          absl::StatusOr<Watched<std::optional<Stat>>> exists) {
        auto self = weak.lock();
        if (!self || !self->Current(gen)) return;
        if (!exists.ok()) {
          if (internal::Transient(exists.status())) return self->RetryLater(gen, step);
          return self->Finish(gen, exists.status());
        }
        self->call->watch = std::move(exists->watch);
        ((*self).*then)(gen, exists->result.has_value());
      });
}

void DoubleBarrier::Impl::CheckReady(uint64_t gen) {
  WatchNode(gen, ready_path, &Impl::CheckReady, &Impl::OnReadyChecked);
}

void DoubleBarrier::Impl::OnReadyChecked(uint64_t gen, bool ready) {
  if (ready) return Finish(gen, absl::OkStatus());
  CountMembers(gen);
}

void DoubleBarrier::Impl::CountMembers(uint64_t gen) {
  ClientAccess::GetChildren(
      client, path, [weak = weak_from_this(), gen](absl::StatusOr<ChildrenResult> children) {
        auto self = weak.lock();
        if (!self || !self->Current(gen)) return;
        if (!children.ok()) {
          if (internal::Transient(children.status())) {
            return self->RetryLater(gen, &Impl::CheckReady);
          }
          return self->Finish(gen, children.status());
        }
        const std::vector<std::string> members = Members(std::move(children->children));
        if (!std::binary_search(members.begin(), members.end(), self->member_name)) {
          return self->MemberGone(gen);
        }
        if (static_cast<int>(members.size()) >= self->member_count) return self->CreateReady(gen);
        // Too few yet: the watch on "ready" (set by CheckReady) calls CheckReady again.
      });
}

void DoubleBarrier::Impl::CreateReady(uint64_t gen) {
  ClientAccess::Create(client, ready_path, "", {},
                       [weak = weak_from_this(), gen](absl::StatusOr<CreateResult> created) {
                         auto self = weak.lock();
                         if (!self || !self->Current(gen)) return;
                         if (created.ok() || IsNodeExists(created.status())) {
                           return self->Finish(gen, absl::OkStatus());
                         }
                         if (internal::Transient(created.status())) {
                           return self->RetryLater(gen, &Impl::CheckReady);
                         }
                         self->Finish(gen, created.status());
                       });
}

void DoubleBarrier::Impl::LeaveStep(uint64_t gen) {
  ClientAccess::GetChildren(
      client, path, [weak = weak_from_this(), gen](absl::StatusOr<ChildrenResult> children) {
        auto self = weak.lock();
        if (!self || !self->Current(gen)) return;
        if (IsNoNode(children.status())) {  // the whole barrier was removed
          if (!self->member_removed) return self->MemberGone(gen);
          return self->Finish(gen, absl::OkStatus());
        }
        if (!children.ok()) {
          if (internal::Transient(children.status())) {
            return self->RetryLater(gen, &Impl::LeaveStep);
          }
          return self->Finish(gen, children.status());
        }
        const std::vector<std::string> members = Members(std::move(children->children));
        const auto ours = std::find(members.begin(), members.end(), self->member_name);
        if (ours == members.end() && !self->member_removed) {
          // Gone without our delete: the session was lost, and with it the membership (the
          // others may have left without us).
          return self->MemberGone(gen);
        }
        if (members.empty()) {
          // The last one out removes "ready" (whoever sees the room empty; NONODE is fine, and
          // a failure leaves a harmless node of a finished round).
          return ClientAccess::Delete(self->client, self->ready_path, std::nullopt,
                                      [weak, gen](absl::Status) {
                                        if (auto self = weak.lock()) {
                                          self->Finish(gen, absl::OkStatus());
                                        }
                                      });
        }
        if (ours == members.end()) {
          return self->WaitFor(gen, members.front());  // ours is removed: the lowest goes last
        }
        if (ours == members.begin() && members.size() > 1) {
          // The lowest leaves last: wait for the highest, then look again.
          return self->WaitFor(gen, members.back());
        }
        // Remove ours (again, if a delete of unknown outcome did not apply), then wait for the
        // lowest (or, if ours was the only one, find the room empty).
        self->member_removed = true;
        internal::DeleteUntilGone(self->client, self->member_path,
                                  [weak, gen](absl::Status deleted) {
                                    auto self = weak.lock();
                                    if (!self || !self->Current(gen)) return;
                                    if (!deleted.ok() && !IsNoNode(deleted)) {
                                      return self->RetryLater(gen, &Impl::LeaveStep);
                                    }
                                    self->LeaveStep(gen);
                                  });
      });
}

void DoubleBarrier::Impl::WaitFor(uint64_t gen, const std::string& name) {
  // Look again once it goes (or, if it is gone already, now).
  WatchNode(gen, JoinPath(path, name), &Impl::LeaveStep, &Impl::OnBlockerChecked);
}

void DoubleBarrier::Impl::OnBlockerChecked(uint64_t gen, bool present) {
  if (!present) LeaveStep(gen);
}

absl::StatusOr<std::unique_ptr<DoubleBarrier>> DoubleBarrier::Create(Client& client,
                                                                     std::string_view path,
                                                                     int member_count) {
  ZK_RETURN_IF_ERROR(ValidatePath("double_barrier", path));
  if (path == "/") {
    return absl::InvalidArgumentError("double_barrier /: the root cannot be its path");
  }
  if (member_count < 1) {
    return absl::InvalidArgumentError(absl::StrCat("double_barrier ", Av(path),
                                                   ": member_count is ", member_count,
                                                   "; it must be at least 1"));
  }
  return std::unique_ptr<DoubleBarrier>(
      new DoubleBarrier(std::make_shared<Impl>(client, std::string(path), member_count)));
}

DoubleBarrier::~DoubleBarrier() {
  ClientAccess::RunOnLoopAndWait(impl_->client, [impl = impl_.get()] { impl->Close(); });
}

const std::string& DoubleBarrier::member_path() const { return impl_->member_path; }
const std::string& DoubleBarrier::path() const { return impl_->path; }

namespace {

// Checks a call's arguments and claims the member for it. Errors: InvalidArgument,
// FailedPrecondition.
absl::Status Claim(DoubleBarrier::Impl& impl, bool entering, std::chrono::milliseconds timeout) {
  const std::string op = absl::StrCat("double_barrier ", entering ? "enter " : "leave ", impl.path);
  if (timeout <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": timeout must be positive (got ", timeout.count(), " ms)"));
  }
  MutexLock lock(&impl.mu);
  if (impl.busy) {
    return absl::FailedPreconditionError(absl::StrCat(op, ": another call is in progress"));
  }
  if (entering == impl.entered) {
    return absl::FailedPreconditionError(
        absl::StrCat(op, entering ? ": already entered" : ": not entered"));
  }
  impl.busy = true;
  return absl::OkStatus();
}

void Release(DoubleBarrier::Impl& impl) {
  MutexLock lock(&impl.mu);
  impl.busy = false;
}

absl::AnyInvocable<void(Callback<bool>) &&> BeginStep(std::shared_ptr<DoubleBarrier::Impl> impl,
                                                     bool entering,
                                                     std::chrono::milliseconds timeout) {
  return [impl = std::move(impl), entering, timeout](Callback<bool> done) {
    impl->Begin(entering, timeout, std::move(done));
  };
}

absl::Status ClientClosed(const DoubleBarrier::Impl& impl) {
  return absl::CancelledError(absl::StrCat("double_barrier ", impl.path, ": client is closed"));
}

absl::Status RunBlocking(const std::shared_ptr<DoubleBarrier::Impl>& impl, bool entering,
                         std::chrono::milliseconds timeout) {
  ZK_RETURN_IF_ERROR(Claim(*impl, entering, timeout));
  if (ClientAccess::OnLoopThread(impl->client)) Release(*impl);
  absl::StatusOr<bool> result = internal::WaitForLoopResult<bool>(
      impl->client, "double_barrier", impl->path, absl::FromChrono(timeout) + absl::Minutes(5),
      ClientClosed(*impl), BeginStep(impl, entering, timeout));
  if (absl::IsCancelled(result.status())) Release(*impl);
  return result.status();
}

void RunAsync(const std::shared_ptr<DoubleBarrier::Impl>& impl, bool entering,
              std::chrono::milliseconds timeout, StatusCallback done) {
  if (absl::Status claimed = Claim(*impl, entering, timeout); !claimed.ok()) {
    return std::move(done)(std::move(claimed));
  }
  internal::RunOnLoopForUser<bool>(impl->client, ClientClosed(*impl),
                                   BeginStep(impl, entering, timeout),
                                   [impl, done = std::move(done)](absl::StatusOr<bool> r) mutable {
                                     if (absl::IsCancelled(r.status())) Release(*impl);
                                     std::move(done)(r.status());
                                   });
}

}  // namespace

absl::Status DoubleBarrier::Enter(std::chrono::milliseconds timeout) {
  return RunBlocking(impl_, true, timeout);
}

absl::Status DoubleBarrier::Leave(std::chrono::milliseconds timeout) {
  return RunBlocking(impl_, false, timeout);
}

void DoubleBarrier::AsyncEnter(std::chrono::milliseconds timeout, StatusCallback done) {
  RunAsync(impl_, true, timeout, std::move(done));
}

void DoubleBarrier::AsyncLeave(std::chrono::milliseconds timeout, StatusCallback done) {
  RunAsync(impl_, false, timeout, std::move(done));
}

}  // namespace zk::recipes
