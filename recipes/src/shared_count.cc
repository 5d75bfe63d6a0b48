// SharedCount (zk/recipes/shared_count.h): a NodeCache serves the value; writes run on the loop
// thread and remember what they learnt, so that a caller sees its own write (or the value that
// beat it) before the watch brings it.

#include "zk/recipes/shared_count.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "listener_set.h"
#include "loop_wait.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "zk/path.h"
#include "zk/recipes/node_cache.h"

namespace zk::recipes {

using internal::Av;
using zk::internal::ClientAccess;
using zk::internal::MutexLock;

std::string EncodeSharedCount(int32_t value) {
  const auto bits = static_cast<uint32_t>(value);
  return std::string{static_cast<char>(bits >> 24), static_cast<char>((bits >> 16) & 0xff),
                     static_cast<char>((bits >> 8) & 0xff), static_cast<char>(bits & 0xff)};
}

absl::StatusOr<int32_t> DecodeSharedCount(std::string_view path, std::string_view data) {
  if (data.size() != 4) {
    return absl::DataLossError(absl::StrCat("shared_count ", Av(path), ": node holds ",
                                            data.size(), " bytes, not a 4-byte big-endian int"));
  }
  uint32_t bits = 0;
  for (unsigned char byte : data) bits = (bits << 8) | byte;
  return static_cast<int32_t>(bits);
}

struct SharedCount::Impl : std::enable_shared_from_this<Impl> {
  Impl(Client& client, std::string path, int32_t seed, std::unique_ptr<NodeCache> cache)
      : client(client), path(std::move(path)), seed(seed), cache(std::move(cache)) {}

  Client& client;
  const std::string path;
  const int32_t seed;
  const std::unique_ptr<NodeCache> cache;
  internal::ListenerSet<SharedCountEvent> listeners;
  Subscription cache_subscription;
  uint64_t session_listener = 0;  // loop

  mutable zk::internal::Mutex mu;
  bool started ABSL_GUARDED_BY(mu) = false;
  // The newest state this object wrote or read itself (null until then); served when newer
  // (by mzxid) than the cache's.
  std::shared_ptr<const NodeData> own ABSL_GUARDED_BY(mu);

  std::shared_ptr<const NodeData> Newest() const {
    std::shared_ptr<const NodeData> cached = cache->Current();
    MutexLock lock(&mu);
    if (own != nullptr && cached->exists && own->mzxid() > cached->mzxid()) return own;
    return cached;
  }
  void Remember(NodeData now) {
    auto next = std::make_shared<const NodeData>(std::move(now));
    MutexLock lock(&mu);
    if (own == nullptr || next->mzxid() > own->mzxid()) own = std::move(next);
  }
  VersionedCount KnownOrZero() const {
    std::shared_ptr<const NodeData> now = Newest();
    absl::StatusOr<int32_t> value = DecodeSharedCount(path, now->data);
    return {.value = value.ok() ? *value : 0, .version = now->version()};
  }

  // Loop thread: the versioned (or, without `expected_version`, plain) set, then on BADVERSION
  // a read that refreshes the known value.
  void Write(int32_t new_value, std::optional<int32_t> expected_version, Callback<bool> done);
};

void SharedCount::Impl::Write(int32_t new_value, std::optional<int32_t> expected_version,
                              Callback<bool> done) {
  std::string data = EncodeSharedCount(new_value);
  ClientAccess::Set(
      client, path, data, expected_version,
      [self = shared_from_this(), data, done = std::move(done)](absl::StatusOr<Stat> set) mutable {
        if (set.ok()) {
          self->Remember({.exists = true, .data = std::move(data), .stat = *set});
          return std::move(done)(true);
        }
        if (!IsBadVersion(set.status())) return std::move(done)(set.status());
        ClientAccess::Get(self->client, self->path,
                          [self, done = std::move(done)](absl::StatusOr<GetResult> got) mutable {
                            if (got.ok()) {
                              self->Remember({.exists = true,
                                              .data = std::move(got->data),
                                              .stat = got->stat});
                            }
                            std::move(done)(false);
                          });
      });
}

absl::StatusOr<std::unique_ptr<SharedCount>> SharedCount::Create(Client& client,
                                                                 std::string_view path,
                                                                 int32_t seed) {
  ZK_RETURN_IF_ERROR(ValidatePath("shared_count", path));
  if (path == "/") return absl::InvalidArgumentError("shared_count /: the root cannot be its path");
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<NodeCache> cache, NodeCache::Create(client, path));
  return std::unique_ptr<SharedCount>(new SharedCount(
      std::make_shared<Impl>(client, std::string(path), seed, std::move(cache))));
}

SharedCount::~SharedCount() {
  impl_->cache_subscription = Subscription();
  impl_->listeners.Close();
  ClientAccess::RunOnLoopAndWait(impl_->client, [impl = impl_.get()] {
    if (impl->session_listener != 0) {
      ClientAccess::RemoveSessionListener(impl->client, impl->session_listener);
    }
  });
}

const std::string& SharedCount::path() const { return impl_->path; }

absl::Status SharedCount::Start(std::chrono::milliseconds timeout) {
  {
    MutexLock lock(&impl_->mu);
    if (impl_->started) {
      return absl::FailedPreconditionError(
          absl::StrCat("shared_count ", impl_->path, ": already started"));
    }
    impl_->started = true;
  }
  if (ClientAccess::OnLoopThread(impl_->client)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "shared_count ", impl_->path, ": blocking call from an inline callback would deadlock"));
  }
  absl::Status created = impl_->client
                             .Create(impl_->path, EncodeSharedCount(impl_->seed),
                                     {.create_parents = true})
                             .status();
  if (!created.ok() && !IsNodeExists(created)) return created;

  // Changes come from the cache on the callback executor; they are queued for our listeners
  // from the loop, as the session events are.
  std::weak_ptr<Impl> weak = impl_;
  impl_->cache_subscription = impl_->cache->AddListener([weak](const NodeData& now) {
    auto self = weak.lock();
    if (!self || !now.exists) return;
    absl::StatusOr<int32_t> value = DecodeSharedCount(self->path, now.data);
    if (!value.ok()) return;
    SharedCountEvent event{.type = SharedCountEventType::kCountChanged,
                           .count = {.value = *value, .version = now.version()}};
    ClientAccess::RunOnLoop(self->client, [weak, event] {
      if (auto self = weak.lock()) self->listeners.Notify(self->client, event);
    });
  });
  ClientAccess::RunOnLoopAndWait(impl_->client, [impl = impl_.get(), weak] {
    impl->session_listener =
        ClientAccess::AddSessionListener(impl->client, [weak](const SessionEvent& session) {
          auto self = weak.lock();
          if (!self) return;
          SharedCountEventType type;
          switch (session.state) {
            case SessionState::kSuspended: type = SharedCountEventType::kSuspended; break;
            case SessionState::kReconnected: type = SharedCountEventType::kReconnected; break;
            case SessionState::kLost: type = SharedCountEventType::kLost; break;
            default: return;
          }
          self->listeners.Notify(self->client, {.type = type, .count = self->KnownOrZero()});
        });
  });
  ZK_RETURN_IF_ERROR(impl_->cache->Start());
  return impl_->cache->WaitUntilLoaded(timeout);
}

absl::StatusOr<VersionedCount> SharedCount::GetVersionedCount() const {
  {
    MutexLock lock(&impl_->mu);
    if (!impl_->started) {
      return absl::FailedPreconditionError(
          absl::StrCat("shared_count ", impl_->path, ": not started"));
    }
  }
  std::shared_ptr<const NodeData> now = impl_->Newest();
  if (!now->exists) {
    return absl::NotFoundError(absl::StrCat("shared_count ", impl_->path,
                                            impl_->cache->status().loaded
                                                ? ": the node was deleted"
                                                : ": not loaded yet"));
  }
  ZK_ASSIGN_OR_RETURN(int32_t value, DecodeSharedCount(impl_->path, now->data));
  return VersionedCount{.value = value, .version = now->version()};
}

absl::StatusOr<int32_t> SharedCount::GetCount() const {
  ZK_ASSIGN_OR_RETURN(VersionedCount count, GetVersionedCount());
  return count.value;
}

namespace {

absl::AnyInvocable<void(Callback<bool>) &&> WriteStep(std::shared_ptr<SharedCount::Impl> impl,
                                                     int32_t new_value,
                                                     std::optional<int32_t> expected_version);

absl::Status ClosedError(const std::string& path) {
  return absl::CancelledError(absl::StrCat("shared_count ", path, ": client is closed"));
}

}  // namespace

absl::StatusOr<bool> SharedCount::TrySetCount(int32_t new_value, VersionedCount expected) {
  return internal::WaitForLoopResult<bool>(impl_->client, "shared_count", impl_->path,
                                           absl::Hours(1), ClosedError(impl_->path),
                                           WriteStep(impl_, new_value, expected.version));
}

absl::Status SharedCount::SetCount(int32_t new_value) {
  return internal::WaitForLoopResult<bool>(impl_->client, "shared_count", impl_->path,
                                           absl::Hours(1), ClosedError(impl_->path),
                                           WriteStep(impl_, new_value, std::nullopt))
      .status();
}

void SharedCount::AsyncTrySetCount(int32_t new_value, VersionedCount expected,
                                   Callback<bool> done) {
  internal::RunOnLoopForUser<bool>(impl_->client, ClosedError(impl_->path),
                                   WriteStep(impl_, new_value, expected.version), std::move(done));
}

void SharedCount::AsyncSetCount(int32_t new_value, StatusCallback done) {
  internal::RunOnLoopForUser<bool>(
      impl_->client, ClosedError(impl_->path), WriteStep(impl_, new_value, std::nullopt),
      [done = std::move(done)](absl::StatusOr<bool> set) mutable {
        std::move(done)(set.status());
      });
}

Subscription SharedCount::AddListener(Listener listener) {
  return impl_->listeners.Add(std::move(listener));
}

namespace {

absl::AnyInvocable<void(Callback<bool>) &&> WriteStep(std::shared_ptr<SharedCount::Impl> impl,
                                                     int32_t new_value,
                                                     std::optional<int32_t> expected_version) {
  return [impl = std::move(impl), new_value, expected_version](Callback<bool> done) {
    impl->Write(new_value, expected_version, std::move(done));
  };
}

}  // namespace

}  // namespace zk::recipes
