// DistributedAtomicLong (zk/recipes/distributed_atomic_long.h): each change is a chain of
// continuations on the client's loop thread — read, compute, versioned write, and after a write
// of unknown outcome: sync, read again, decide.

#include "zk/recipes/distributed_atomic_long.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "loop_wait.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/path.h"

namespace zk::recipes {

using internal::Av;
using zk::internal::ClientAccess;

std::string EncodeAtomicLong(int64_t value) {
  const auto bits = static_cast<uint64_t>(value);
  std::string data(8, '\0');
  for (int i = 0; i < 8; ++i) data[i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
  return data;
}

absl::StatusOr<int64_t> DecodeAtomicLong(std::string_view path, std::string_view data) {
  if (data.empty()) return 0;
  if (data.size() != 8) {
    return absl::DataLossError(absl::StrCat("distributed_atomic_long ", Av(path), ": node holds ",
                                            data.size(),
                                            " bytes, not an 8-byte big-endian long"));
  }
  uint64_t bits = 0;
  for (unsigned char byte : data) bits = (bits << 8) | byte;
  return static_cast<int64_t>(bits);
}

namespace {

enum class ChangeKind { kGet, kModify, kInitialize };

// One call in progress (loop thread only).
struct Change {
  ChangeKind kind = ChangeKind::kModify;
  std::string op;  // "distributed_atomic_long add /path": names errors
  // The new value from the current one; nullopt: leave it (a compare-and-set that found
  // another value).
  absl::AnyInvocable<std::optional<int64_t>(int64_t)> compute;
  Callback<AtomicResult> done;  // runs on the loop thread
  int attempts = 0;             // versioned writes sent
  int read_failures = 0;        // transient failures of reads (reads are retried by policy)
  // The write in flight or being verified.
  int32_t expected_version = -1;  // -1: the node was missing (a create)
  int64_t read_czxid = 0;
  int64_t pre = 0;
  int64_t post = 0;
  std::string data;
  zk::internal::ClientAccess::LoopTimer timer;
  bool finished = false;
};

}  // namespace

struct DistributedAtomicLong::Impl : std::enable_shared_from_this<Impl> {
  Impl(Client& client, std::string path, AtomicRetryPolicy retry)
      : client(client), path(std::move(path)), retry(retry), random(std::random_device{}()) {}

  Client& client;
  const std::string path;
  const AtomicRetryPolicy retry;

  // loop
  bool closed = false;
  std::mt19937_64 random;
  uint64_t next_id = 1;
  std::map<uint64_t, std::shared_ptr<Change>> pending;

  void Start(const std::shared_ptr<Change>& change);
  void Read(uint64_t id);
  void OnRead(uint64_t id, absl::StatusOr<GetResult> got);
  void Write(uint64_t id);
  void OnWritten(uint64_t id, absl::Status status);
  void Verify(uint64_t id);
  void OnVerified(uint64_t id, absl::StatusOr<GetResult> got);
  void RetryAfterBackoff(uint64_t id);
  void Finish(uint64_t id, absl::StatusOr<AtomicResult> result);
  void Close();
  std::shared_ptr<Change> Find(uint64_t id) {
    auto it = pending.find(id);
    return it == pending.end() ? nullptr : it->second;
  }
};

void DistributedAtomicLong::Impl::Start(const std::shared_ptr<Change>& change) {
  if (closed) {
    std::move(change->done)(absl::CancelledError(absl::StrCat(change->op, ": recipe destroyed")));
    return;
  }
  const uint64_t id = next_id++;
  pending.emplace(id, change);
  Read(id);
}

void DistributedAtomicLong::Impl::Read(uint64_t id) {
  if (!Find(id)) return;
  ClientAccess::Get(client, path, [weak = weak_from_this(), id](absl::StatusOr<GetResult> got) {
    if (auto self = weak.lock()) self->OnRead(id, std::move(got));
  });
}

void DistributedAtomicLong::Impl::OnRead(uint64_t id, absl::StatusOr<GetResult> got) {
  auto change = Find(id);
  if (!change) return;
  int64_t current = 0;
  change->expected_version = -1;
  change->read_czxid = 0;
  if (got.ok()) {
    absl::StatusOr<int64_t> decoded = DecodeAtomicLong(path, got->data);
    if (!decoded.ok()) return Finish(id, decoded.status());
    current = *decoded;
    change->expected_version = got->stat.version;
    change->read_czxid = got->stat.czxid;
  } else if (!IsNoNode(got.status())) {
    if (internal::Transient(got.status()) && ++change->read_failures < retry.max_attempts) {
      return RetryAfterBackoff(id);
    }
    return Finish(id, got.status());
  }
  const AtomicResult unchanged{.succeeded = false, .pre = current, .post = current,
                               .attempts = change->attempts};
  if (change->kind == ChangeKind::kGet) {
    AtomicResult read = unchanged;
    read.succeeded = true;
    return Finish(id, read);
  }
  if (change->kind == ChangeKind::kInitialize && change->expected_version >= 0) {
    return Finish(id, unchanged);
  }
  std::optional<int64_t> next = change->compute(current);
  if (!next.has_value() || change->attempts >= retry.max_attempts) return Finish(id, unchanged);
  change->attempts++;
  change->pre = current;
  change->post = *next;
  change->data = EncodeAtomicLong(*next);
  Write(id);
}

void DistributedAtomicLong::Impl::Write(uint64_t id) {
  auto change = Find(id);
  if (!change) return;
  if (change->expected_version < 0) {
    ClientAccess::Create(client, path, change->data, {.create_parents = true},
                         [weak = weak_from_this(), id](absl::StatusOr<CreateResult> created) {
                           if (auto self = weak.lock()) self->OnWritten(id, created.status());
                         });
  } else {
    ClientAccess::Set(client, path, change->data, change->expected_version,
                      [weak = weak_from_this(), id](absl::StatusOr<Stat> set) {
                        if (auto self = weak.lock()) self->OnWritten(id, set.status());
                      });
  }
}

void DistributedAtomicLong::Impl::OnWritten(uint64_t id, absl::Status status) {
  auto change = Find(id);
  if (!change) return;
  if (status.ok()) {
    return Finish(id, AtomicResult{.succeeded = true, .pre = change->pre, .post = change->post,
                                   .attempts = change->attempts});
  }
  // Lost a race: another writer changed (or created, or deleted) the node. Read and try again.
  if (IsBadVersion(status) || IsNodeExists(status) || IsNoNode(status)) {
    return RetryAfterBackoff(id);
  }
  // The write may or may not have been applied: decide from what the server holds now.
  if (internal::Transient(status)) return Verify(id);
  Finish(id, status);
}

void DistributedAtomicLong::Impl::Verify(uint64_t id) {
  if (!Find(id)) return;
  // A check through the leader first (a multi is a write, ordered after everything the leader
  // took before it, the lost set included if it got there), then, in session order after it,
  // the read that decides. The check's own result says nothing more than the read.
  ClientAccess::Multi(client, {op::Check{.path = path}}, [](absl::StatusOr<MultiResult>) {});
  ClientAccess::Get(client, path, [weak = weak_from_this(), id](absl::StatusOr<GetResult> got) {
    if (auto self = weak.lock()) self->OnVerified(id, std::move(got));
  });
}

void DistributedAtomicLong::Impl::OnVerified(uint64_t id, absl::StatusOr<GetResult> got) {
  auto change = Find(id);
  if (!change) return;
  if (!got.ok() && !IsNoNode(got.status())) {
    if (internal::Transient(got.status()) && ++change->read_failures < retry.max_attempts) {
      return Verify(id);
    }
    return Finish(id, MarkUnknownOutcome(absl::UnavailableError(absl::StrCat(
                          change->op, ": the write's outcome is unknown and the re-read failed: ",
                          got.status().message()))));
  }
  bool not_applied = false;
  std::string seen = "the node missing";
  if (!got.ok()) {
    not_applied = change->expected_version < 0;  // still missing: our create did not happen
  } else {
    const Stat& stat = got->stat;
    seen = absl::StrCat("version ", stat.version);
    const bool same_node = change->expected_version < 0 || stat.czxid == change->read_czxid;
    const int32_t ours = change->expected_version + 1;  // a create makes version 0
    not_applied = same_node && ((change->expected_version >= 0 &&
                                 stat.version == change->expected_version) ||
                                (stat.version == ours && got->data != change->data));
  }
  if (not_applied) return RetryAfterBackoff(id);
  Finish(id, MarkUnknownOutcome(absl::UnavailableError(absl::StrCat(
                 change->op, ": connection lost during the versioned write (expected ",
                 change->expected_version < 0 ? std::string("a missing node")
                                              : absl::StrCat("version ",
                                                             change->expected_version),
                 "); the re-read found ", seen, ": outcome unknown"))));
}

void DistributedAtomicLong::Impl::RetryAfterBackoff(uint64_t id) {
  auto change = Find(id);
  if (!change) return;
  const int failures = std::max(change->attempts, change->read_failures);
  const int64_t cap = std::min<int64_t>(
      retry.max_backoff.count(),
      retry.base_backoff.count() * (int64_t{1} << std::min(std::max(failures - 1, 0), 20)));
  const int64_t wait = cap <= 0 ? 0 : std::uniform_int_distribution<int64_t>(0, cap)(random);
  if (wait == 0) return Read(id);
  change->timer = ClientAccess::RunAfter(client, std::chrono::milliseconds(wait),
                                         [weak = weak_from_this(), id] {
                                           if (auto self = weak.lock()) self->Read(id);
                                         });
}

void DistributedAtomicLong::Impl::Finish(uint64_t id, absl::StatusOr<AtomicResult> result) {
  auto it = pending.find(id);
  if (it == pending.end()) return;
  std::shared_ptr<Change> change = std::move(it->second);
  pending.erase(it);
  ClientAccess::CancelTimer(client, change->timer);
  std::move(change->done)(std::move(result));
}

void DistributedAtomicLong::Impl::Close() {
  closed = true;
  while (!pending.empty()) {
    const uint64_t id = pending.begin()->first;
    const std::string op = pending.begin()->second->op;
    Finish(id, absl::CancelledError(absl::StrCat(op, ": recipe destroyed")));
  }
}

namespace {

absl::Status ValidateRetry(std::string_view path, const AtomicRetryPolicy& retry) {
  auto bad = [path](std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("distributed_atomic_long ", Av(path), ": retry policy: ", Av(what)));
  };
  if (retry.max_attempts < 1) return bad("max_attempts must be at least 1");
  if (retry.base_backoff < std::chrono::milliseconds::zero()) {
    return bad("base_backoff is negative");
  }
  if (retry.max_backoff < retry.base_backoff) return bad("max_backoff is below base_backoff");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DistributedAtomicLong>> DistributedAtomicLong::Create(
    Client& client, std::string_view path, DistributedAtomicLongOptions options) {
  ZK_RETURN_IF_ERROR(ValidatePath("distributed_atomic_long", path));
  if (path == "/") {
    return absl::InvalidArgumentError("distributed_atomic_long /: the root cannot be its path");
  }
  ZK_RETURN_IF_ERROR(ValidateRetry(path, options.retry));
  return std::unique_ptr<DistributedAtomicLong>(new DistributedAtomicLong(
      std::make_shared<Impl>(client, std::string(path), options.retry)));
}

DistributedAtomicLong::~DistributedAtomicLong() {
  ClientAccess::RunOnLoopAndWait(impl_->client, [this] { impl_->Close(); });
}

const std::string& DistributedAtomicLong::path() const { return impl_->path; }

namespace {

std::shared_ptr<Change> NewChange(ChangeKind kind, std::string_view op, std::string_view path,
                                  absl::AnyInvocable<std::optional<int64_t>(int64_t)> compute) {
  auto change = std::make_shared<Change>();
  change->kind = kind;
  change->op = absl::StrCat("distributed_atomic_long ", Av(op), " ", Av(path));
  change->compute = std::move(compute);
  return change;
}

std::shared_ptr<Change> GetChange(std::string_view path) {
  return NewChange(ChangeKind::kGet, "get", path, {});
}

std::shared_ptr<Change> AddChange(std::string_view path, int64_t delta) {
  return NewChange(ChangeKind::kModify, "add", path, [delta](int64_t value) {
    // Wraps on overflow, as Java's long does.
    return std::optional<int64_t>(
        static_cast<int64_t>(static_cast<uint64_t>(value) + static_cast<uint64_t>(delta)));
  });
}

std::shared_ptr<Change> CompareAndSetChange(std::string_view path, int64_t expected,
                                            int64_t new_value) {
  return NewChange(ChangeKind::kModify, "compare_and_set", path,
                   [expected, new_value](int64_t value) -> std::optional<int64_t> {
                     if (value != expected) return std::nullopt;
                     return new_value;
                   });
}

std::shared_ptr<Change> TrySetChange(std::string_view path, int64_t new_value) {
  return NewChange(ChangeKind::kModify, "try_set", path,
                   [new_value](int64_t) { return std::optional<int64_t>(new_value); });
}

// Starts `change` on the loop thread, completing with `done` there.
absl::AnyInvocable<void(Callback<AtomicResult>) &&> StartStep(
    std::shared_ptr<DistributedAtomicLong::Impl> impl, std::shared_ptr<Change> change) {
  return [impl = std::move(impl), change = std::move(change)](Callback<AtomicResult> done) {
    change->done = std::move(done);
    impl->Start(change);
  };
}

absl::Status ClientClosed(const Change& change) {
  return absl::CancelledError(absl::StrCat(change.op, ": client is closed"));
}

// The blocking form of a change.
absl::StatusOr<AtomicResult> RunBlocking(const std::shared_ptr<DistributedAtomicLong::Impl>& impl,
                                         std::shared_ptr<Change> change) {
  // The bound only guards against a lost completion: every step has the operation timeout.
  absl::Status if_closed = ClientClosed(*change);
  return internal::WaitForLoopResult<AtomicResult>(impl->client, "distributed_atomic_long",
                                                   impl->path, absl::Hours(1),
                                                   std::move(if_closed),
                                                   StartStep(impl, std::move(change)));
}

// The async form: `done` runs on the callback executor.
void RunAsync(const std::shared_ptr<DistributedAtomicLong::Impl>& impl,
              std::shared_ptr<Change> change, Callback<AtomicResult> done) {
  absl::Status if_closed = ClientClosed(*change);
  internal::RunOnLoopForUser<AtomicResult>(impl->client, std::move(if_closed),
                                           StartStep(impl, std::move(change)), std::move(done));
}

}  // namespace

absl::StatusOr<AtomicResult> DistributedAtomicLong::Get() {
  return RunBlocking(impl_, GetChange(impl_->path));
}

absl::StatusOr<AtomicResult> DistributedAtomicLong::Add(int64_t delta) {
  return RunBlocking(impl_, AddChange(impl_->path, delta));
}

absl::StatusOr<AtomicResult> DistributedAtomicLong::CompareAndSet(int64_t expected,
                                                                  int64_t new_value) {
  return RunBlocking(impl_, CompareAndSetChange(impl_->path, expected, new_value));
}

absl::StatusOr<AtomicResult> DistributedAtomicLong::TrySet(int64_t new_value) {
  return RunBlocking(impl_, TrySetChange(impl_->path, new_value));
}

absl::StatusOr<bool> DistributedAtomicLong::Initialize(int64_t value) {
  ZK_ASSIGN_OR_RETURN(AtomicResult result,
                      RunBlocking(impl_, NewChange(ChangeKind::kInitialize, "initialize",
                                                   impl_->path, [value](int64_t) {
                                                     return std::optional<int64_t>(value);
                                                   })));
  return result.succeeded;
}

void DistributedAtomicLong::AsyncGet(Callback<AtomicResult> done) {
  RunAsync(impl_, GetChange(impl_->path), std::move(done));
}

void DistributedAtomicLong::AsyncAdd(int64_t delta, Callback<AtomicResult> done) {
  RunAsync(impl_, AddChange(impl_->path, delta), std::move(done));
}

void DistributedAtomicLong::AsyncCompareAndSet(int64_t expected, int64_t new_value,
                                               Callback<AtomicResult> done) {
  RunAsync(impl_, CompareAndSetChange(impl_->path, expected, new_value), std::move(done));
}

void DistributedAtomicLong::AsyncTrySet(int64_t new_value, Callback<AtomicResult> done) {
  RunAsync(impl_, TrySetChange(impl_->path, new_value), std::move(done));
}

}  // namespace zk::recipes
