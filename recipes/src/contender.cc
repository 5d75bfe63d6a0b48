#include "contender.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/path.h"

namespace zk::recipes::internal {

using zk::internal::ClientAccess;

std::optional<std::string> PredecessorBlocks(const std::vector<std::string>& sorted, size_t self) {
  if (self == 0) return std::nullopt;
  return sorted[self - 1];
}

std::string_view SequenceOf(std::string_view name, std::string_view marker) {
  const size_t at = name.rfind(marker);
  return at == std::string_view::npos ? name : name.substr(at + marker.size());
}

std::vector<std::string> SortedParticipants(const std::vector<std::string>& children,
                                            const std::vector<std::string>& markers) {
  std::vector<std::pair<std::string_view, const std::string*>> keyed;
  for (const std::string& child : children) {
    for (const std::string& marker : markers) {
      if (child.find(marker) != std::string::npos) {
        keyed.emplace_back(SequenceOf(child, marker), &child);
        break;
      }
    }
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::string> out;
  out.reserve(keyed.size());
  for (const auto& [key, child] : keyed) out.push_back(*child);
  return out;
}

std::vector<Op> PrependExistenceCheck(std::string node, std::vector<Op> ops) {
  std::vector<Op> guarded;
  guarded.reserve(ops.size() + 1);
  guarded.push_back(op::Check{.path = std::move(node)});
  for (Op& op : ops) guarded.push_back(std::move(op));
  return guarded;
}

Contender::Contender(Client& client, ContenderOptions options)
    : client_(client), options_(std::move(options)) {}

Contender::~Contender() = default;

void Contender::Start(std::optional<absl::Time> deadline, Result on_result,
                      std::function<void(ContenderEvent, const Acquired&)> on_event) {
  on_result_ = std::move(on_result);
  on_event_ = std::move(on_event);
  if (cancelled_before_start_) {
    state_ = State::kLeft;
    active_.store(false);
    return Finish(*std::exchange(cancelled_before_start_, std::nullopt));
  }
  active_.store(true);
  std::weak_ptr<Contender> weak = weak_from_this();
  listener_id_ = ClientAccess::AddSessionListener(client_, [weak](const SessionEvent& event) {
    if (auto self = weak.lock()) self->OnSession(event);
  });
  if (deadline) {
    const auto delay = absl::ToChronoMilliseconds(std::max(*deadline - absl::Now(),
                                                           absl::ZeroDuration()));
    deadline_timer_ = ClientAccess::RunAfter(client_, delay, [weak] {
      auto self = weak.lock();
      if (self && (self->state_ == State::kCreating || self->state_ == State::kWaiting)) {
        self->Leave(absl::DeadlineExceededError(absl::StrCat(
                        "acquire ", Av(self->options_.dir), ": not through before the deadline")),
                    nullptr);
      }
    });
  }
  Create();
}

void Contender::Create() {
  state_ = State::kCreating;
  const uint64_t generation = ++generation_;
  if (stale_node_.empty()) return CreateNode(generation);
  // Our node of a lost session may outlive it on the server until its expiry: it would block
  // us behind ourselves. Remove it first.
  DeleteUntilGone(client_, std::exchange(stale_node_, {}),
                  [self = shared_from_this(), generation](absl::Status) {
                    if (self->generation_ == generation && self->state_ == State::kCreating) {
                      self->CreateNode(generation);
                    }
                  });
}

void Contender::CreateNode(uint64_t generation) {
  ClientAccess::Create(client_, JoinPath(options_.dir, options_.marker), options_.data,
                       {.mode = CreateMode::kEphemeralSequential,
                        .create_parents = true,
                        .protect = true},
                       [self = shared_from_this(), generation](absl::StatusOr<CreateResult> r) {
                         self->OnCreated(std::move(r), generation);
                       });
  // Pipelined behind the create: its reply comes after the create's and includes our node
  // (one round trip instead of two). If the create needed a retry, OnCreated lists again.
  early_listing_.reset();
  early_listing_pending_ = true;
  ClientAccess::GetChildren(client_, options_.dir,
                            [self = shared_from_this(), generation](absl::StatusOr<ChildrenResult> r) {
                              if (self->generation_ != generation) return;
                              self->early_listing_pending_ = false;
                              if (self->state_ == State::kWaiting) {
                                return self->OnListed(std::move(r), generation);
                              }
                              self->early_listing_ = std::move(r);
                            });
}

void Contender::OnCreated(absl::StatusOr<CreateResult> created, uint64_t generation) {
  if (generation != generation_ || state_ != State::kCreating) {
    // Left (or re-queued) meanwhile: this node is not wanted.
    if (created.ok()) DeleteUntilGone(client_, created->path, nullptr);
    return;
  }
  if (!created.ok()) {
    if (Transient(created.status()) && --recreate_budget_ > 0) return Create();
    return Finish(created.status());
  }
  node_ = created->path;
  czxid_ = created->stat.czxid;
  state_ = State::kWaiting;
  if (early_listing_pending_) return;  // OnListed runs when the pipelined listing arrives
  if (early_listing_ && early_listing_->ok()) {
    absl::StatusOr<ChildrenResult> listed = *std::move(early_listing_);
    early_listing_.reset();
    return OnListed(std::move(listed), generation);
  }
  List(generation);
}

void Contender::List(uint64_t generation) {
  ClientAccess::GetChildren(client_, options_.dir,
                            [self = shared_from_this(), generation](absl::StatusOr<ChildrenResult> r) {
                              self->OnListed(std::move(r), generation);
                            });
}

void Contender::OnListed(absl::StatusOr<ChildrenResult> listed, uint64_t generation) {
  if (generation != generation_ || state_ != State::kWaiting) return;
  if (!listed.ok()) {
    if (Transient(listed.status())) return List(generation);
    return Finish(listed.status());
  }
  std::vector<std::string> markers = options_.other_markers;
  markers.insert(markers.begin(), options_.marker);
  const std::vector<std::string> sorted = SortedParticipants(listed->children, markers);
  const std::string_view own = BaseName(node_);
  const auto it = std::find(sorted.begin(), sorted.end(), own);
  if (it == sorted.end()) {
    // Either the listing predates our node (the pipelined listing of a create that had to be
    // retried, e.g. after creating the parent), or our node is gone (deleted by someone, or
    // with a session the listener has not reported yet). Re-creating in the first case would
    // leave an orphan ahead of us, so ask the node itself.
    ClientAccess::Exists(client_, node_, [self = shared_from_this(), generation](
                                             absl::StatusOr<std::optional<Stat>> exists) {
      if (generation != self->generation_ || self->state_ != State::kWaiting) return;
      if (exists.ok() && exists->has_value()) return self->List(generation);  // stale listing
      if (!exists.ok() && Transient(exists.status())) return self->List(generation);
      if (--self->recreate_budget_ > 0) return self->Create();
      self->Finish(absl::AbortedError(absl::StrCat(
          "acquire ", Av(self->options_.dir), ": our node keeps disappearing; giving up")));
    });
    return;
  }
  ahead_.assign(sorted.begin(), it);
  Decide(generation);
}

std::optional<std::string> Contender::Blocker() const {
  std::vector<std::string> queue = ahead_;
  queue.push_back(std::string(BaseName(node_)));
  return options_.blocker(queue, ahead_.size());
}

void Contender::Decide(uint64_t generation) {
  const std::optional<std::string> blocker = Blocker();
  if (!blocker) return BecomeThrough();
  WaitFor(*blocker, generation);
}

void Contender::OnBlockerGone(const std::string& blocker, uint64_t generation) {
  if (generation != generation_ || state_ != State::kWaiting) return;
  std::erase(ahead_, blocker);
  if (!Blocker()) return BecomeThrough();  // nobody left ahead that blocks us: no round trip
  // Others of our (old) listing are still ahead. Usually they are gone too — the blocker held
  // and released after them — so one fresh listing beats checking them one by one, which
  // would cost a round trip per node under contention.
  List(generation);
}

void Contender::WaitFor(const std::string& blocker, uint64_t generation) {
  std::weak_ptr<Contender> weak = weak_from_this();
  ClientAccess::ExistsAndWatch(
      client_, JoinPath(options_.dir, blocker),
      [weak, blocker, generation](const WatchEvent& event) {
        auto self = weak.lock();
        if (!self || event.type == WatchEventType::kNotWatching) return;
        if (event.type == WatchEventType::kDeleted) return self->OnBlockerGone(blocker, generation);
        if (self->generation_ == generation && self->state_ == State::kWaiting) {
          self->List(generation);  // anything else: look again
        }
      },
      [self = shared_from_this(), blocker, generation](
          absl::StatusOr<Watched<std::optional<Stat>>> r) {
        if (self->generation_ != generation || self->state_ != State::kWaiting) return;
        if (!r.ok()) {
          if (Transient(r.status())) return self->List(generation);
          return self->Finish(r.status());
        }
        if (!r->result) return self->OnBlockerGone(blocker, generation);  // already gone
        self->blocker_watch_ = std::move(r->watch);
      });
}

void Contender::BecomeThrough() {
  state_ = State::kThrough;
  // Through in time: drop the deadline's timer rather than leave it queued until it expires.
  ClientAccess::CancelTimer(client_, std::exchange(deadline_timer_, {}));
  blocker_watch_.Cancel();
  held_.store(true);
  const Acquired acquired{node_, czxid_};
  if (on_result_) {
    Finish(acquired);
  } else if (on_event_) {
    on_event_(ContenderEvent::kAcquired, acquired);
  }
}

void Contender::OnSession(const SessionEvent& event) {
  const Acquired acquired{node_, czxid_};
  switch (event.state) {
    case SessionState::kSuspended:
    case SessionState::kReadOnly:
      // A read-only server is cut off from the quorum: there our session may already have
      // expired and another holder taken over, so its answer confirms nothing. Held again only
      // on a read-write server (kReconnected).
      if (state_ == State::kThrough && held_.exchange(false) && on_event_) {
        on_event_(ContenderEvent::kSuspended, acquired);
      }
      break;
    case SessionState::kReconnected:
    case SessionState::kConnected:
      if (state_ == State::kThrough && !event.new_session) {
        // Same session: the node should still be there; confirm before claiming it again.
        const uint64_t generation = generation_;
        ClientAccess::Exists(client_, node_, [self = shared_from_this(), generation](
                                                 absl::StatusOr<std::optional<Stat>> r) {
          if (self->generation_ != generation || self->state_ != State::kThrough) return;
          const Acquired acquired{self->node_, self->czxid_};
          if (r.ok() && r->has_value()) {
            if (!self->held_.exchange(true) && self->on_event_) {
              self->on_event_(ContenderEvent::kReconnected, acquired);
            }
          } else if (r.ok()) {
            self->OnSession({SessionState::kLost, 0, false});
          } else if (Transient(r.status())) {
            // Not answered: ask again (the request waits for the connection), or we would stay
            // through but not held, and block everyone queued behind our node.
            self->OnSession({SessionState::kReconnected, 0, false});
          }
        });
      }
      break;
    case SessionState::kLost: {
      const State before = state_;
      if (before == State::kIdle || before == State::kLeft) break;
      held_.store(false);
      blocker_watch_.Cancel();
      stale_node_ = node_;
      node_.clear();
      if (before == State::kThrough) {
        if (on_event_) on_event_(ContenderEvent::kLost, acquired);
        if (!options_.requeue_after_loss) {
          state_ = State::kLeft;
          active_.store(false);
          ++generation_;
          break;
        }
      }
      // Waiting, or re-queueing: a new node in the new session (the create waits for it).
      Create();
      break;
    }
    case SessionState::kClosed:
      // Closing ends the session and takes our node with it: a holder must hear that it no
      // longer holds (a pending acquisition ends with Cancelled instead).
      if (state_ == State::kThrough) {
        held_.store(false);
        if (on_event_) on_event_(ContenderEvent::kClosed, acquired);
      }
      Leave(absl::CancelledError(absl::StrCat("acquire ", Av(options_.dir), ": client closed")),
            nullptr);
      break;
  }
}

void Contender::CancelPending(absl::Status why) {
  if (state_ == State::kIdle) {
    cancelled_before_start_ = std::move(why);
  } else if (state_ == State::kCreating || state_ == State::kWaiting) {
    Leave(std::move(why), nullptr);
  }
}

void Contender::Leave(absl::Status why, StatusCallback done) {
  const bool was_pending = state_ == State::kCreating || state_ == State::kWaiting;
  state_ = State::kLeft;
  active_.store(false);
  ++generation_;
  held_.store(false);
  blocker_watch_.Cancel();
  ClientAccess::CancelTimer(client_, std::exchange(deadline_timer_, {}));
  ClientAccess::RemoveSessionListener(client_, listener_id_);
  if (was_pending) Finish(std::move(why));
  std::string node = std::move(node_);
  node_.clear();
  if (node.empty()) {
    if (done) std::move(done)(absl::OkStatus());
    return;
  }
  DeleteUntilGone(client_, std::move(node), std::move(done));
}

void DeleteUntilGone(Client& client, std::string path, StatusCallback done, int attempt) {
  ClientAccess::Delete(
      client, path, std::nullopt,
      [&client, path, attempt, done = std::move(done)](absl::Status s) mutable {
        // A connection loss or a missed deadline leaves the node's fate unknown: try again (the
        // request waits for a connection); a node left behind would block everyone queued
        // after it for the session's life. A lost session took the node with it.
        constexpr int kMaxAttempts = 100;
        if ((absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)) && attempt < kMaxAttempts) {
          return DeleteUntilGone(client, std::move(path), std::move(done), attempt + 1);
        }
        if (IsNoNode(s) || IsSessionExpired(s) || absl::IsCancelled(s)) s = absl::OkStatus();
        if (done) std::move(done)(std::move(s));
      });
}

void Contender::Finish(absl::StatusOr<Acquired> result) {
  if (!result.ok() && state_ != State::kLeft) {
    // A failed acquisition leaves nothing behind.
    Leave(result.status(), nullptr);
    return;
  }
  if (on_result_) std::move(on_result_)(std::move(result));
  on_result_ = nullptr;
}

}  // namespace zk::recipes::internal
