// PersistentNode (zk/recipes/persistent_node.h): one chain of steps at a time on the loop thread
// (check, create, replace a foreign node, write the data), started by Start, by the node's
// watch, by every reconnect and by SetData; a request for a chain while one runs is remembered
// and served when it ends, so that no two creates are ever in flight.

#include "zk/recipes/persistent_node.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "listener_set.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "zk/path.h"

namespace zk::recipes {

using internal::Av;
using internal::Transient;
using zk::internal::ClientAccess;
using zk::internal::MutexLock;

namespace {

constexpr size_t kMaxDataBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kTransientRetry{100};
constexpr std::chrono::milliseconds kErrorRetry{1000};

bool IsSequentialMode(CreateMode mode) {
  return mode == CreateMode::kPersistentSequential || mode == CreateMode::kEphemeralSequential ||
         mode == CreateMode::kPersistentSequentialWithTtl;
}
bool IsEphemeralMode(CreateMode mode) {
  return mode == CreateMode::kEphemeral || mode == CreateMode::kEphemeralSequential;
}
bool IsTtlMode(CreateMode mode) {
  return mode == CreateMode::kPersistentWithTtl || mode == CreateMode::kPersistentSequentialWithTtl;
}
// The mode that re-creates a sequential node at the path it first got.
CreateMode WithoutSequence(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistentSequential: return CreateMode::kPersistent;
    case CreateMode::kEphemeralSequential: return CreateMode::kEphemeral;
    case CreateMode::kPersistentSequentialWithTtl: return CreateMode::kPersistentWithTtl;
    default: return mode;
  }
}

absl::Status Invalid(std::string_view path, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("persistent_node ", Av(path), ": ", Av(problem)));
}

absl::Status ValidateData(std::string_view path, std::string_view data) {
  if (data.size() >= kMaxDataBytes) {
    return Invalid(path, absl::StrCat("data of ", data.size(), " bytes is over the 1 MB limit"));
  }
  return absl::OkStatus();
}

// Runs `step` on the loop thread and waits at most `timeout` for the status it completes with.
// Returns `if_closed` when the client is closed (`step` never runs), `if_late` past the timeout.
absl::Status AwaitLoopStep(Client& client, std::chrono::milliseconds timeout,
                           absl::AnyInvocable<void(StatusCallback) &&> step,
                           absl::Status if_closed, absl::Status if_late) {
  struct Result {
    zk::internal::Notification done;
    zk::internal::Mutex mu;
    absl::Status status ABSL_GUARDED_BY(mu);
  };
  auto result = std::make_shared<Result>();
  if (!ClientAccess::RunOnLoop(client, [step = std::move(step), result]() mutable {
        std::move(step)([result](absl::Status status) {
          {
            MutexLock lock(&result->mu);
            result->status = std::move(status);
          }
          result->done.NotifyFromOwner();
        });
      })) {
    return if_closed;
  }
  if (!result->done.WaitForNotificationWithTimeout(absl::FromChrono(timeout))) return if_late;
  MutexLock lock(&result->mu);
  return result->status;
}

}  // namespace

struct PersistentNode::Impl : std::enable_shared_from_this<Impl> {
  Impl(Client& client, std::string path, std::string data, PersistentNodeOptions options,
       std::chrono::milliseconds timeout)
      : client(client),
        path(std::move(path)),
        options(std::move(options)),
        timeout(timeout),
        data(std::move(data)) {}

  Client& client;
  const std::string path;
  const PersistentNodeOptions options;
  const std::chrono::milliseconds timeout;
  internal::ListenerSet<PersistentNodeEvent> listeners;

  // loop
  bool stopped = false;
  bool running = false;  // a chain is in flight (or waiting on its retry timer)
  bool again = false;    // a chain was asked for while one ran
  uint64_t session_listener = 0;
  Watch watch;
  ClientAccess::LoopTimer retry_timer;
  std::string node_path;    // where our node is (or is to be re-created); empty before the first
  int64_t node_czxid = 0;   // the node we created or adopted
  uint64_t written_seq = 0;  // the data_seq the node is known to hold
  bool ever_created = false;
  std::vector<std::pair<uint64_t, StatusCallback>> data_waiters;

  mutable zk::internal::Mutex mu;
  bool started ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;
  std::string data ABSL_GUARDED_BY(mu);
  uint64_t data_seq ABSL_GUARDED_BY(mu) = 1;
  std::optional<std::string> actual_path ABSL_GUARDED_BY(mu);
  bool created_once ABSL_GUARDED_BY(mu) = false;
  absl::Status last_error ABSL_GUARDED_BY(mu);
  uint64_t creates ABSL_GUARDED_BY(mu) = 0;

  std::pair<std::string, uint64_t> Desired() {
    MutexLock lock(&mu);
    return {data, data_seq};
  }
  void Notify(PersistentNodeEventType type, std::string event_path, absl::Status status = {},
              bool recreated = false) {
    listeners.Notify(client, {.type = type,
                              .path = std::move(event_path),
                              .status = std::move(status),
                              .recreated = recreated});
  }

  void Listen();
  void Ensure();
  void Step();
  void EndChain();
  void Retry(std::chrono::milliseconds delay);
  void Failed(std::string_view op, const std::string& at, absl::Status status);
  void Check();
  void Replace(const std::string& at, const Stat& stat);
  void CreateNode();
  void OnCreated(const std::string& create_path, CreateMode mode, uint64_t seq,
                 absl::StatusOr<CreateResult> created);
  void WriteIfNeeded();
  void ResolveWaiters();
  void AddWaiter(uint64_t seq, StatusCallback done);
  void Stop(StatusCallback done);
  void DeleteOwnNode(StatusCallback done);
  WatchCallback Trigger() {
    return [weak = weak_from_this()](const WatchEvent& event) {
      auto self = weak.lock();
      // kNotWatching: the session ended; the reconnect check re-arms.
      if (self && event.type != WatchEventType::kNotWatching) self->Ensure();
    };
  }
};

void PersistentNode::Impl::Listen() {
  session_listener = ClientAccess::AddSessionListener(
      client, [weak = weak_from_this()](const SessionEvent& event) {
        auto self = weak.lock();
        // A new session lost an ephemeral node; a same-session reconnect checks that nobody
        // deleted it meanwhile (a watch event may have been missed).
        if (self && event.state == SessionState::kReconnected) self->Ensure();
      });
}

void PersistentNode::Impl::Ensure() {
  if (stopped) return;
  if (running) {
    again = true;
    return;
  }
  running = true;
  Step();
}

void PersistentNode::Impl::Step() {
  if (stopped) return;
  again = false;
  if (node_path.empty()) return CreateNode();
  Check();
}

void PersistentNode::Impl::EndChain() {
  running = false;
  if (again) Ensure();
}

void PersistentNode::Impl::Retry(std::chrono::milliseconds delay) {
  if (stopped) return;
  retry_timer = ClientAccess::RunAfter(client, delay, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->retry_timer = {};
    self->Step();
  });
}

void PersistentNode::Impl::Failed(std::string_view op, const std::string& at,
                                  absl::Status status) {
  if (stopped) return;
  if (Transient(status)) return Retry(kTransientRetry);
  absl::Status error(status.code(), absl::StrCat("persistent_node ", at, ": ", Av(op),
                                                 " failed: ", status.message()));
  // Keeps the ZooKeeper error code (zk::ZooErrorOf) of the failure.
  status.ForEachPayload([&error](absl::string_view type_url, const absl::Cord& payload) {
    error.SetPayload(type_url, payload);
  });
  {
    MutexLock lock(&mu);
    last_error = error;
  }
  Notify(PersistentNodeEventType::kError, at, std::move(error));
  Retry(kErrorRetry);
}

// Reads the node with a watch: missing → create; another session's ephemeral → replace; ours →
// write the data if it is behind.
void PersistentNode::Impl::Check() {
  ClientAccess::ExistsAndWatch(
      client, node_path, Trigger(),
      [self = shared_from_this(), at = node_path](
          absl::StatusOr<Watched<std::optional<Stat>>> exists) mutable {
        if (self->stopped) return;
        if (!exists.ok()) return self->Failed("check", at, exists.status());
        if (!exists->result) {
          self->watch = Watch();
          self->Notify(PersistentNodeEventType::kDeleted, at);
          return self->CreateNode();
        }
        const Stat& stat = *exists->result;
        if (IsEphemeralMode(self->options.mode) &&
            stat.ephemeral_owner != self->client.session_id()) {
          self->watch = Watch();
          return self->Replace(at, stat);
        }
        self->watch = std::move(exists->watch);
        if (stat.czxid != self->node_czxid) {  // a node we did not create: adopt it, our data
          self->node_czxid = stat.czxid;
          self->written_seq = 0;
          MutexLock lock(&self->mu);
          self->actual_path = at;
          self->created_once = true;
        }
        self->WriteIfNeeded();
      });
}

// Deletes a node of another session (a stale one of ours, or another client's) so that ours
// replaces it.
void PersistentNode::Impl::Replace(const std::string& at, const Stat& stat) {
  ClientAccess::Delete(client, at, stat.version, [self = shared_from_this(), at](absl::Status s) {
    if (self->stopped) return;
    if (IsBadVersion(s)) return self->Check();
    if (!s.ok() && !IsNoNode(s)) return self->Failed("delete of a stale node", at, s);
    self->CreateNode();
  });
}

void PersistentNode::Impl::CreateNode() {
  if (stopped) return;
  const bool sequential = IsSequentialMode(options.mode);
  // A protected node gets a new sequential path each time (the uuid prefix finds it after a
  // connection loss); an unprotected one comes back where it first was.
  const bool fresh = node_path.empty() || (sequential && options.protect);
  const std::string create_path = fresh ? path : node_path;
  const CreateMode mode = fresh ? options.mode : WithoutSequence(options.mode);
  auto [data, seq] = Desired();
  ClientAccess::Create(client, create_path, data,
                       {.mode = mode,
                        .acl = options.acl,
                        .ttl = options.ttl,
                        .create_parents = options.create_parents,
                        .protect = fresh && options.protect},
                       [self = shared_from_this(), create_path, mode,
                        seq = seq](absl::StatusOr<CreateResult> created) {
                         self->OnCreated(create_path, mode, seq, std::move(created));
                       });
}

void PersistentNode::Impl::OnCreated(const std::string& create_path, CreateMode mode, uint64_t seq,
                                     absl::StatusOr<CreateResult> created) {
  if (stopped) {
    // Closed while creating: the node must go.
    if (created.ok()) {
      ClientAccess::Delete(client, created->path, std::nullopt, [](absl::Status) {});
    }
    return;
  }
  if (IsNodeExists(created.status()) && !IsSequentialMode(mode)) {
    node_path = create_path;
    return Check();
  }
  if (!created.ok()) return Failed("create", create_path, created.status());
  node_path = created->path;
  node_czxid = created->stat.czxid;
  written_seq = seq;
  {
    MutexLock lock(&mu);
    actual_path = node_path;
    created_once = true;
    last_error = absl::OkStatus();
    ++creates;
  }
  Notify(PersistentNodeEventType::kCreated, node_path, {}, std::exchange(ever_created, true));
  ResolveWaiters();
  Check();  // arms the watch, and writes data set while the create was out
}

void PersistentNode::Impl::WriteIfNeeded() {
  auto [data, seq] = Desired();
  if (written_seq >= seq) return EndChain();
  ClientAccess::Set(
      client, node_path, data, std::nullopt,
      [self = shared_from_this(), at = node_path, seq = seq](absl::StatusOr<Stat> set) {
        if (self->stopped) return;
        if (IsNoNode(set.status())) return self->Check();
        if (!set.ok()) return self->Failed("set_data", at, set.status());
        self->written_seq = std::max(self->written_seq, seq);
        self->ResolveWaiters();
        self->WriteIfNeeded();
      });
}

void PersistentNode::Impl::ResolveWaiters() {
  std::vector<StatusCallback> ready;
  std::erase_if(data_waiters, [&](auto& waiter) {
    if (waiter.first > written_seq) return false;
    ready.push_back(std::move(waiter.second));
    return true;
  });
  for (StatusCallback& done : ready) std::move(done)(absl::OkStatus());
}

void PersistentNode::Impl::AddWaiter(uint64_t seq, StatusCallback done) {
  if (stopped) {
    return std::move(done)(
        absl::CancelledError(absl::StrCat("persistent_node ", path, ": closed")));
  }
  if (written_seq >= seq) return std::move(done)(absl::OkStatus());
  data_waiters.emplace_back(seq, std::move(done));
  if (running || node_path.empty()) return Ensure();
  running = true;  // the node is settled: write straight away, no check first
  WriteIfNeeded();
}

void PersistentNode::Impl::Stop(StatusCallback done) {
  if (stopped) return std::move(done)(absl::OkStatus());
  stopped = true;
  watch.Cancel();
  ClientAccess::CancelTimer(client, retry_timer);
  if (session_listener != 0) ClientAccess::RemoveSessionListener(client, session_listener);
  session_listener = 0;
  std::vector<std::pair<uint64_t, StatusCallback>> waiters = std::move(data_waiters);
  data_waiters.clear();
  for (auto& [seq, waiter] : waiters) {
    std::move(waiter)(absl::CancelledError(
        absl::StrCat("persistent_node ", path, ": closed before the data was written")));
  }
  DeleteOwnNode(std::move(done));
}

// Deletes the node only if it is still the one we created or adopted (same czxid) and, for an
// ephemeral, still of our session.
void PersistentNode::Impl::DeleteOwnNode(StatusCallback done) {
  if (node_path.empty()) return std::move(done)(absl::OkStatus());
  ClientAccess::Exists(
      client, node_path,
      [self = shared_from_this(), at = node_path,
       done = std::move(done)](absl::StatusOr<std::optional<Stat>> exists) mutable {
        if (!exists.ok()) return std::move(done)(exists.status());
        const std::optional<Stat>& stat = *exists;
        if (!stat || stat->czxid != self->node_czxid ||
            (IsEphemeralMode(self->options.mode) &&
             stat->ephemeral_owner != self->client.session_id())) {
          return std::move(done)(absl::OkStatus());
        }
        ClientAccess::Delete(self->client, at, stat->version,
                             [done = std::move(done)](absl::Status deleted) mutable {
                               if (IsNoNode(deleted) || IsBadVersion(deleted)) {
                                 deleted = absl::OkStatus();  // gone, or no longer ours
                               }
                               std::move(done)(std::move(deleted));
                             });
      });
}

// --- PersistentNode ------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<PersistentNode>> PersistentNode::Create(
    Client& client, std::string_view path, std::string_view data, PersistentNodeOptions options) {
  ZK_RETURN_IF_ERROR(ValidatePath("persistent_node", path));
  if (path == "/") return Invalid(path, "the root cannot be its path");
  ZK_RETURN_IF_ERROR(ValidateData(path, data));
  if (options.mode == CreateMode::kContainer) {
    return Invalid(path, "a container node cannot be kept (the server deletes it)");
  }
  if (options.protect && !IsSequentialMode(options.mode)) {
    return Invalid(path, "protect needs a sequential mode");
  }
  if (IsTtlMode(options.mode)) {
    if (!options.ttl) return Invalid(path, "a TTL mode needs ttl");
    if (options.ttl->count() <= 0 || options.ttl->count() > (int64_t{1} << 40) - 1) {
      return Invalid(path, absl::StrCat("ttl of ", options.ttl->count(),
                                        " ms is outside 1 .. 2^40-1 ms"));
    }
  } else if (options.ttl) {
    return Invalid(path, "ttl is only allowed with a *WithTtl mode");
  }
  if (options.timeout && *options.timeout <= std::chrono::milliseconds::zero()) {
    return Invalid(path, "timeout must be positive");
  }
  const std::chrono::milliseconds timeout = options.timeout.value_or(
      std::max<std::chrono::milliseconds>(client.negotiated_session_timeout(),
                                          std::chrono::milliseconds(5000)));
  return std::unique_ptr<PersistentNode>(new PersistentNode(std::make_shared<Impl>(
      client, std::string(path), std::string(data), std::move(options), timeout)));
}

PersistentNode::~PersistentNode() { Close().IgnoreError(); }

const std::string& PersistentNode::path() const { return impl_->path; }

absl::Status PersistentNode::Start() {
  {
    MutexLock lock(&impl_->mu);
    if (impl_->closed) {
      return absl::FailedPreconditionError(
          absl::StrCat("persistent_node ", impl_->path, ": closed"));
    }
    if (impl_->started) {
      return absl::FailedPreconditionError(
          absl::StrCat("persistent_node ", impl_->path, ": already started"));
    }
    impl_->started = true;
  }
  if (!ClientAccess::RunOnLoop(impl_->client, [impl = impl_] {
        impl->Listen();
        impl->Ensure();
      })) {
    return absl::CancelledError(
        absl::StrCat("persistent_node ", impl_->path, ": client is closed"));
  }
  return absl::OkStatus();
}

absl::Status PersistentNode::WaitForInitialCreate(std::chrono::milliseconds timeout) {
  if (ClientAccess::OnLoopThread(impl_->client)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "persistent_node ", impl_->path, ": blocking call from an inline callback would deadlock"));
  }
  MutexLock lock(&impl_->mu);
  if (!impl_->started) {
    return absl::FailedPreconditionError(
        absl::StrCat("persistent_node ", impl_->path, ": not started"));
  }
  const bool done = impl_->mu.AwaitWithTimeout(
      [impl = impl_.get()]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return impl->created_once || impl->closed;
      },
      absl::FromChrono(timeout));
  if (impl_->created_once) return absl::OkStatus();
  if (impl_->closed) {
    return absl::CancelledError(absl::StrCat("persistent_node ", impl_->path, ": closed"));
  }
  (void)done;
  return absl::DeadlineExceededError(absl::StrCat(
      "persistent_node ", impl_->path, ": not created within ", timeout.count(), " ms",
      impl_->last_error.ok() ? "" : "; last error: ", impl_->last_error.message()));
}

namespace {

// Stores `data` as the desired data; returns its sequence number.
absl::StatusOr<uint64_t> Remember(PersistentNode::Impl& impl, std::string_view data) {
  ZK_RETURN_IF_ERROR(ValidateData(impl.path, data));
  MutexLock lock(&impl.mu);
  if (impl.closed) {
    return absl::CancelledError(absl::StrCat("persistent_node ", impl.path, ": closed"));
  }
  if (!impl.started) {
    return absl::FailedPreconditionError(
        absl::StrCat("persistent_node ", impl.path, ": not started"));
  }
  impl.data = std::string(data);
  return ++impl.data_seq;
}

}  // namespace

absl::Status PersistentNode::SetData(std::string_view data) {
  if (ClientAccess::OnLoopThread(impl_->client)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "persistent_node ", impl_->path, ": blocking SetData from an inline callback would "
        "deadlock; use AsyncSetData"));
  }
  ZK_ASSIGN_OR_RETURN(uint64_t seq, Remember(*impl_, data));
  return AwaitLoopStep(
      impl_->client, impl_->timeout,
      [impl = impl_, seq](StatusCallback done) { impl->AddWaiter(seq, std::move(done)); },
      absl::CancelledError(absl::StrCat("persistent_node ", impl_->path, ": client is closed")),
      absl::DeadlineExceededError(absl::StrCat(
          "persistent_node ", impl_->path, ": set_data not written within ",
          impl_->timeout.count(), " ms; the data is kept and written once possible")));
}

void PersistentNode::AsyncSetData(std::string_view data, StatusCallback done) {
  absl::StatusOr<uint64_t> seq = Remember(*impl_, data);
  if (!seq.ok()) return std::move(done)(seq.status());
  auto user = std::make_shared<StatusCallback>(std::move(done));
  if (!ClientAccess::RunOnLoop(impl_->client, [impl = impl_, seq = *seq, user] {
        impl->AddWaiter(seq, [impl, user](absl::Status status) {
          ClientAccess::DeliverToUser(impl->client, [user, status = std::move(status)]() mutable {
            std::move (*user)(std::move(status));
          });
        });
      })) {
    std::move(*user)(
        absl::CancelledError(absl::StrCat("persistent_node ", impl_->path, ": client is closed")));
  }
}

std::string PersistentNode::GetData() const {
  MutexLock lock(&impl_->mu);
  return impl_->data;
}

std::optional<std::string> PersistentNode::ActualPath() const {
  MutexLock lock(&impl_->mu);
  return impl_->actual_path;
}

uint64_t PersistentNode::creates() const {
  MutexLock lock(&impl_->mu);
  return impl_->creates;
}

absl::Status PersistentNode::Close() {
  {
    MutexLock lock(&impl_->mu);
    if (impl_->closed) return absl::OkStatus();
    impl_->closed = true;
  }
  impl_->listeners.Close();
  if (ClientAccess::OnLoopThread(impl_->client)) {
    impl_->Stop([](absl::Status) {});
    return absl::OkStatus();
  }
  absl::Status deleted = AwaitLoopStep(
      impl_->client, impl_->timeout,
      [impl = impl_](StatusCallback done) { impl->Stop(std::move(done)); },
      absl::OkStatus(),  // the client is closed: its session (and an ephemeral) is gone
      absl::DeadlineExceededError(absl::StrCat("persistent_node ", impl_->path,
                                               ": delete not done within ",
                                               impl_->timeout.count(), " ms")));
  if (absl::IsCancelled(deleted)) return absl::OkStatus();  // the client closed meanwhile
  return deleted;
}

Subscription PersistentNode::AddListener(Listener listener) {
  return impl_->listeners.Add(std::move(listener));
}

}  // namespace zk::recipes
