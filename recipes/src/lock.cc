// Lock, LockGuard and ReadWriteLock (zk/recipes/lock.h): each acquisition is a Contender whose
// blocker decides who waits for whom (the predecessor, or for a reader the first writer before it).

#include "zk/recipes/lock.h"

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "contender.h"
#include "listener_set.h"
#include "loop_wait.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "zk/path.h"

namespace zk::recipes {

using zk::internal::ClientAccess;
using zk::internal::MutexLock;
using internal::WaitForLoopResult;
using internal::WaitForResult;

namespace {

constexpr char kMutexMarker[] = "lock-";
constexpr char kReadMarker[] = "__READ__";
constexpr char kWriteMarker[] = "__WRIT__";

// A reader waits for the first writer queued before it (Curator's readLockPredicate).
std::optional<std::string> FirstWriterBlocks(const std::vector<std::string>& sorted, size_t self) {
  for (size_t i = 0; i < self; ++i) {
    if (sorted[i].find(kWriteMarker) != std::string::npos) return sorted[i];
  }
  return std::nullopt;
}

}  // namespace

namespace internal {
struct LockKind {
  std::string marker;
  std::vector<std::string> other_markers;
  BlockerFn blocker;
};

// Written by the loop thread (grants, failures) and by guard owners (releases): a mutex, held
// only to copy or bump a few fields.
struct LockStats {
  zk::internal::Mutex mu;
  LockMetrics metrics ABSL_GUARDED_BY(mu);
};
struct LockCurrent {
  mutable zk::internal::Mutex mu;
  // The contender of the pending acquisition or of the hold; it stays after a release.
  std::shared_ptr<Contender> contender ABSL_GUARDED_BY(mu);
};
}  // namespace internal

std::string_view LockEventTypeName(LockEventType type) {
  switch (type) {
    case LockEventType::kSuspended: return "suspended";
    case LockEventType::kReconnected: return "reconnected";
    case LockEventType::kLost: return "lost";
  }
  return "unknown";
}

// --- LockGuard --------------------------------------------------------------------------------

LockGuard::LockGuard(Client* client, std::shared_ptr<internal::Contender> contender,
                     std::string node_path, int64_t fencing_token,
                     std::shared_ptr<internal::LockStats> stats)
    : client_(client),
      contender_(std::move(contender)),
      node_path_(std::move(node_path)),
      fencing_token_(fencing_token),
      stats_(std::move(stats)),
      granted_at_(std::chrono::steady_clock::now()) {}

LockGuard::LockGuard(LockGuard&& other) noexcept
    : client_(other.client_),
      contender_(std::move(other.contender_)),
      node_path_(std::move(other.node_path_)),
      fencing_token_(other.fencing_token_),
      stats_(std::move(other.stats_)),
      granted_at_(other.granted_at_) {
  other.contender_.reset();
  other.stats_.reset();
}

void LockGuard::EndHold() {
  if (!stats_) return;
  const auto held_for = std::chrono::steady_clock::now() - granted_at_;
  {
    MutexLock lock(&stats_->mu);
    stats_->metrics.hold.Record(held_for);
  }
  stats_.reset();
}

// Leaves in the background; the owning Lock may start a new acquisition at once.
void ReleaseInBackground(Client& client, std::shared_ptr<internal::Contender> contender) {
  contender->MarkLeaving();
  ClientAccess::RunOnLoop(client, [c = std::move(contender)] { c->Leave(absl::OkStatus(), nullptr); });
}

LockGuard& LockGuard::operator=(LockGuard&& other) noexcept {
  if (this != &other) {
    EndHold();
    if (contender_) ReleaseInBackground(*client_, std::move(contender_));
    client_ = other.client_;
    contender_ = std::move(other.contender_);
    node_path_ = std::move(other.node_path_);
    fencing_token_ = other.fencing_token_;
    stats_ = std::move(other.stats_);
    granted_at_ = other.granted_at_;
    other.contender_.reset();
    other.stats_.reset();
  }
  return *this;
}

LockGuard::~LockGuard() {
  EndHold();
  if (contender_) ReleaseInBackground(*client_, std::move(contender_));
}

absl::Status LockGuard::Release() {
  EndHold();
  if (!contender_) return absl::OkStatus();
  std::shared_ptr<internal::Contender> contender = std::move(contender_);
  contender_.reset();
  if (ClientAccess::OnLoopThread(*client_)) {
    // An inline callback cannot wait: release in the background.
    ReleaseInBackground(*client_, std::move(contender));
    return absl::OkStatus();
  }
  contender->MarkLeaving();
  absl::StatusOr<std::monostate> released = WaitForLoopResult<std::monostate>(
      *client_, "release", node_path_, absl::Minutes(5),
      std::monostate{},  // a closed client has ended the session: the node went with it
      [contender](Callback<std::monostate> done) {
        contender->Leave(absl::OkStatus(), [done = std::move(done)](absl::Status s) mutable {
          if (s.ok()) {
            std::move(done)(std::monostate{});
          } else {
            std::move(done)(std::move(s));
          }
        });
      });
  return released.status();
}

bool LockGuard::IsHeld() const { return contender_ && contender_->held(); }

std::vector<Op> LockGuard::Guard(std::vector<Op> ops) const {
  return internal::PrependExistenceCheck(node_path_, std::move(ops));
}

absl::StatusOr<MultiResult> LockGuard::GuardedMulti(std::vector<Op> ops) const {
  if (!contender_) {
    return absl::FailedPreconditionError("guarded_multi: this guard holds no lock");
  }
  absl::StatusOr<MultiResult> result = client_->Multi(Guard(std::move(ops)));
  if (!result.ok()) {
    if (FailedOpIndex(result.status()) == 0) {
      absl::Status lost = absl::NotFoundError(absl::StrCat(
          "guarded_multi ", node_path_, ": the lock is no longer held (its node is gone); no op "
          "was applied"));
      lost.SetPayload("type.zkcpp/zk.FailedOpIndex", absl::Cord("0"));
      return lost;
    }
    return result.status();
  }
  result->results.erase(result->results.begin());
  return result;
}

// --- Lock -------------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Lock>> Lock::Create(Client& client, std::string_view path,
                                                   LockOptions options) {
  ZK_RETURN_IF_ERROR(ValidatePath("lock", path));
  if (path == "/") return absl::InvalidArgumentError("lock /: the root cannot be a lock path");
  auto kind = std::make_shared<const internal::LockKind>(
      internal::LockKind{kMutexMarker, {}, internal::PredecessorBlocks});
  return std::unique_ptr<Lock>(
      new Lock(client, std::string(path), std::move(options), std::move(kind)));
}

Lock::Lock(Client& client, std::string path, LockOptions options,
           std::shared_ptr<const internal::LockKind> kind)
    : client_(client),
      path_(std::move(path)),
      options_(std::move(options)),
      kind_(std::move(kind)),
      listeners_(std::make_shared<internal::ListenerSet<LockEvent>>()),
      stats_(std::make_shared<internal::LockStats>()),
      current_(std::make_unique<internal::LockCurrent>()) {}

Lock::~Lock() {
  Cancel();
  listeners_->Close();
}

void Lock::Start(std::chrono::milliseconds timeout, bool try_only, Callback<LockGuard> done,
                 bool deliver_on_loop) {
  // Delivers `result` to `done` where the caller asked for it. It may run after this Lock is
  // gone (an AsyncAcquire's Cancelled), so it holds nothing of it.
  Client* client = &client_;
  auto finish = [client, deliver_on_loop](Callback<LockGuard> done,
                                          absl::StatusOr<LockGuard> result) {
    if (deliver_on_loop) {
      std::move(done)(std::move(result));
    } else {
      ClientAccess::DeliverToUser(*client, [done = std::move(done),
                                            result = std::move(result)]() mutable {
        std::move(done)(std::move(result));
      });
    }
  };
  if (!try_only && timeout <= std::chrono::milliseconds::zero()) {
    absl::Status bad = absl::InvalidArgumentError(absl::StrCat(
        "acquire ", path_, ": timeout must be positive (got ", timeout.count(),
        " ms); use TryAcquire for a non-waiting attempt"));
    auto shared = std::make_shared<Callback<LockGuard>>(std::move(done));
    if (!ClientAccess::RunOnLoop(client_, [finish, shared, bad]() mutable {
          finish(std::move(*shared), std::move(bad));
        })) {
      std::move (*shared)(bad);
    }
    return;
  }
  auto busy = std::make_shared<bool>(false);
  internal::ContenderOptions options{.dir = path_,
                                     .marker = kind_->marker,
                                     .other_markers = kind_->other_markers,
                                     .data = options_.node_data,
                                     .blocker = kind_->blocker};
  if (try_only) {
    options.blocker = [busy, blocker = kind_->blocker](const std::vector<std::string>& sorted,
                                                       size_t self) {
      *busy = blocker(sorted, self).has_value();
      return std::optional<std::string>();
    };
  }
  auto contender = std::make_shared<internal::Contender>(client_, std::move(options));
  {
    MutexLock lock(&current_->mu);
    if (current_->contender && current_->contender->active()) {
      absl::Status busy_status = absl::FailedPreconditionError(absl::StrCat(
          "acquire ", path_, ": this Lock is already held or being acquired (locks are not "
          "reentrant; use one Lock object per participant)"));
      auto shared = std::make_shared<Callback<LockGuard>>(std::move(done));
      if (!ClientAccess::RunOnLoop(client_, [finish, shared, busy_status]() mutable {
            finish(std::move(*shared), std::move(busy_status));
          })) {
        std::move (*shared)(busy_status);
      }
      return;
    }
    current_->contender = contender;
    contender->MarkStarting();
  }
  const std::optional<absl::Time> deadline =
      try_only ? std::nullopt : std::optional<absl::Time>(absl::Now() + absl::FromChrono(timeout));
  auto shared_done = std::make_shared<Callback<LockGuard>>(std::move(done));
  std::weak_ptr<internal::ListenerSet<LockEvent>> listeners = listeners_;
  const std::shared_ptr<internal::LockStats> stats = stats_;
  const auto started_at = std::chrono::steady_clock::now();
  const bool posted = ClientAccess::RunOnLoop(client_, [=, path = path_]() mutable {
    contender->Start(
        deadline,
        [=](absl::StatusOr<internal::Acquired> acquired) mutable {
          if (!acquired.ok()) {
            {
              MutexLock lock(&stats->mu);
              ++stats->metrics.failed;
            }
            // Moved, not copied: a status shared across threads is released through Abseil's
            // refcount, which Debian's uninstrumented Abseil hides from TSan.
            return finish(std::move(*shared_done), std::move(acquired).status());
          }
          if (try_only && *busy) {
            contender->Leave(absl::OkStatus(), nullptr);
            return finish(std::move(*shared_done),
                          absl::ResourceExhaustedError(absl::StrCat("try_acquire ", path,
                                                                    ": busy")));
          }
          {
            MutexLock lock(&stats->mu);
            ++stats->metrics.acquired;
            stats->metrics.wait.Record(std::chrono::steady_clock::now() - started_at);
          }
          finish(std::move(*shared_done),
                 LockGuard(client, contender, acquired->path, acquired->czxid, stats));
        },
        [=](internal::ContenderEvent event, const internal::Acquired& acquired) {
          LockEventType type;
          switch (event) {
            case internal::ContenderEvent::kSuspended: type = LockEventType::kSuspended; break;
            case internal::ContenderEvent::kReconnected: type = LockEventType::kReconnected; break;
            case internal::ContenderEvent::kLost:
            case internal::ContenderEvent::kClosed: type = LockEventType::kLost; break;
            default: return;
          }
          if (auto shared = listeners.lock()) shared->Notify(*client, {type, acquired.path});
        });
  });
  if (!posted) {
    contender->MarkLeaving();  // never started
    std::move (*shared_done)(absl::CancelledError(absl::StrCat("acquire ", path_,
                                                               ": client is closed")));
  }
}

void Lock::AsyncAcquire(std::chrono::milliseconds timeout, Callback<LockGuard> done) {
  Start(timeout, false, std::move(done), false);
}

absl::StatusOr<LockGuard> Lock::Acquire(std::chrono::milliseconds timeout) {
  return WaitForResult<LockGuard>(
      client_, "acquire", path_,
      absl::FromChrono(std::max(timeout, std::chrono::milliseconds::zero())) + absl::Minutes(5),
      [this, timeout](Callback<LockGuard> done) { Start(timeout, false, std::move(done), true); });
}

absl::StatusOr<std::optional<LockGuard>> Lock::TryAcquire() {
  absl::StatusOr<LockGuard> guard = WaitForResult<LockGuard>(
      client_, "try_acquire", path_, absl::Minutes(5),
      [this](Callback<LockGuard> done) {
        Start(std::chrono::milliseconds::zero(), true, std::move(done), true);
      });
  if (absl::IsResourceExhausted(guard.status())) return std::optional<LockGuard>();
  if (!guard.ok()) return guard.status();
  return std::optional<LockGuard>(*std::move(guard));
}

void Lock::Cancel() {
  std::shared_ptr<internal::Contender> contender;
  {
    MutexLock lock(&current_->mu);
    contender = current_->contender;
  }
  if (!contender) return;
  const absl::Status why = absl::CancelledError(absl::StrCat("acquire ", path_, ": cancelled"));
  // Settled on return: the pending wait has ended when this returns.
  ClientAccess::RunOnLoopAndWait(client_, [&] { contender->CancelPending(why); });
}

bool Lock::IsHeld() const {
  MutexLock lock(&current_->mu);
  return current_->contender && current_->contender->held();
}

Subscription Lock::AddListener(std::function<void(const LockEvent&)> listener) {
  return listeners_->Add(std::move(listener));
}

LockMetrics Lock::Metrics() const {
  LockMetrics metrics;
  {
    MutexLock lock(&stats_->mu);
    metrics = stats_->metrics;
  }
  metrics.held = IsHeld();
  return metrics;
}

// --- ReadWriteLock ----------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<ReadWriteLock>> ReadWriteLock::Create(Client& client,
                                                                     std::string_view path,
                                                                     LockOptions options) {
  ZK_RETURN_IF_ERROR(ValidatePath("read_write_lock", path));
  if (path == "/") {
    return absl::InvalidArgumentError("read_write_lock /: the root cannot be a lock path");
  }
  auto read_kind = std::make_shared<const internal::LockKind>(
      internal::LockKind{kReadMarker, {kWriteMarker}, FirstWriterBlocks});
  auto write_kind = std::make_shared<const internal::LockKind>(
      internal::LockKind{kWriteMarker, {kReadMarker}, internal::PredecessorBlocks});
  std::unique_ptr<Lock> read(new Lock(client, std::string(path), options, std::move(read_kind)));
  std::unique_ptr<Lock> write(
      new Lock(client, std::string(path), std::move(options), std::move(write_kind)));
  return std::unique_ptr<ReadWriteLock>(new ReadWriteLock(std::move(read), std::move(write)));
}

}  // namespace zk::recipes
