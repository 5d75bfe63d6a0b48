#include "zk/recipes/service_registry.h"

#include <algorithm>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "recipe_status.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"
#include "zk/path.h"

namespace zk::recipes {

using zk::internal::ClientAccess;
using zk::internal::MutexLock;
using internal::Av;
using internal::Transient;

namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Runs `fn(done)` on the loop and waits for `done` at most `timeout`.
// Errors: DeadlineExceeded (`fn` goes on in the background), Cancelled (client closed).
absl::Status RunAndWait(Client& client, std::string_view op, std::string_view path,
                        std::chrono::milliseconds timeout,
                        absl::AnyInvocable<void(StatusCallback) &&> fn) {
  if (ClientAccess::OnLoopThread(client)) {
    return absl::FailedPreconditionError(absl::StrCat(
        Av(op), " ", Av(path), ": blocking call from an inline callback would deadlock"));
  }
  struct Result {
    zk::internal::Notification done;
    zk::internal::Mutex mu;
    absl::Status status ABSL_GUARDED_BY(mu);
  };
  auto result = std::make_shared<Result>();
  const bool posted = ClientAccess::RunOnLoop(client, [fn = std::move(fn), result]() mutable {
    std::move(fn)([result](absl::Status s) {
      {
        MutexLock lock(&result->mu);
        result->status = std::move(s);
      }
      result->done.NotifyFromOwner();
    });
  });
  if (!posted) {
    return absl::CancelledError(absl::StrCat(Av(op), " ", Av(path), ": client is closed"));
  }
  if (!result->done.WaitForNotificationWithTimeout(absl::FromChrono(timeout))) {
    return absl::DeadlineExceededError(absl::StrCat(Av(op), " ", Av(path), ": not done within ",
                                                    timeout.count(), " ms"));
  }
  MutexLock lock(&result->mu);
  return result->status;
}

}  // namespace

// --- ServiceRegistry::State ----------------------------------------------------------------------

// Shared by the registry, its registrations and the loop-thread continuations (which never
// touch the registry object). Fields marked "loop" are used on the loop thread only.
struct ServiceRegistry::State : std::enable_shared_from_this<ServiceRegistry::State> {
  State(Client& client, std::string base) : client(client), base(std::move(base)) {}
  Client& client;
  const std::string base;

  struct Desired {
    std::string data;
    uint64_t epoch = 0;  // bumped by every restart of the chain that makes the node match
    std::vector<StatusCallback> waiters;
    bool created = false;  // a create of ours succeeded: the next one is a restore
  };
  // loop
  bool stopped = false;
  uint64_t session_listener = 0;
  std::map<std::string, Desired> desired;  // the desired-state map, by path

  zk::internal::Mutex mu;
  std::map<std::string, bool> registered ABSL_GUARDED_BY(mu);  // paths with a live Registration
  uint64_t restores ABSL_GUARDED_BY(mu) = 0;

  void Listen() {
    if (session_listener != 0 || stopped) return;
    session_listener = ClientAccess::AddSessionListener(
        client, [weak = weak_from_this()](const SessionEvent& event) {
          auto self = weak.lock();
          if (!self || self->stopped) return;
          if (event.state == SessionState::kReconnected || event.state == SessionState::kConnected) {
            // Restore every registration (a new session lost them; a same-session reconnect
            // merely checks, since someone may have deleted a node meanwhile).
            std::vector<std::string> paths;
            for (const auto& [path, entry] : self->desired) paths.push_back(path);
            for (const std::string& path : paths) self->Restart(path);
          }
        });
  }
  void Stop() {
    stopped = true;
    if (session_listener != 0) ClientAccess::RemoveSessionListener(client, session_listener);
    session_listener = 0;
    for (auto& [path, entry] : desired) {
      for (auto& waiter : entry.waiters) {
        std::move(waiter)(absl::CancelledError(absl::StrCat("register ", path, ": registry closed")));
      }
    }
    desired.clear();
  }

  // Loop: makes `path` hold `data` (now and after every reconnect); `done` runs once it does.
  void Put(const std::string& path, std::string data, StatusCallback done) {
    if (stopped) {
      return std::move(done)(absl::CancelledError(absl::StrCat("register ", path, ": registry closed")));
    }
    Listen();
    Desired& entry = desired[path];
    entry.data = std::move(data);
    entry.waiters.push_back(std::move(done));
    Restart(path);
  }

  // Loop: stops restoring `path` and deletes its node.
  void Remove(const std::string& path, StatusCallback done) {
    if (auto it = desired.find(path); it != desired.end()) {
      for (auto& waiter : it->second.waiters) {
        std::move(waiter)(absl::AbortedError(absl::StrCat("register ", path, ": unregistered")));
      }
      desired.erase(it);
    }
    DeleteNode(path, std::nullopt, 0, std::move(done));
  }

  void DeleteNode(const std::string& path, std::optional<int32_t> version, int attempt,
                  StatusCallback done) {
    ClientAccess::Delete(
        client, path, version,
        [self = shared_from_this(), path, version, attempt,
         done = std::move(done)](absl::Status s) mutable {
          // Re-registered meanwhile: the node is wanted again; leave it to the new chain.
          if (self->desired.count(path) != 0) s = absl::OkStatus();
          else if ((absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)) && attempt < 50) {
            // The node's fate is unknown: delete again (the request waits for a connection),
            // or a stale instance stays advertised for the session's life.
            return self->DeleteNode(path, version, attempt + 1, std::move(done));
          }
          if (IsNoNode(s) || IsSessionExpired(s)) s = absl::OkStatus();
          if (done) std::move(done)(std::move(s));
        });
  }

  void Restart(const std::string& path) {
    auto it = desired.find(path);
    if (it == desired.end()) return;
    Ensure(path, ++it->second.epoch);
  }

  // Returns the entry if `epoch` is still its current chain.
  Desired* Current(const std::string& path, uint64_t epoch) {
    if (stopped) return nullptr;
    auto it = desired.find(path);
    if (it == desired.end() || it->second.epoch != epoch) return nullptr;
    return &it->second;
  }

  void Finish(const std::string& path, uint64_t epoch, absl::Status status) {
    Desired* entry = Current(path, epoch);
    if (entry == nullptr) return;
    std::vector<StatusCallback> waiters = std::move(entry->waiters);
    entry->waiters.clear();
    const bool background = waiters.empty();
    for (auto& waiter : waiters) std::move(waiter)(status);
    if (!status.ok() && background) Retry(path, epoch, std::chrono::milliseconds(1000));
  }

  void Retry(const std::string& path, uint64_t epoch, std::chrono::milliseconds delay) {
    ClientAccess::RunAfter(client, delay, [weak = weak_from_this(), path, epoch] {
      auto self = weak.lock();
      if (self && self->Current(path, epoch) != nullptr) self->Ensure(path, epoch);
    });
  }

  // The chain: create; if it exists, inspect the owner and the data.
  void Ensure(const std::string& path, uint64_t epoch) {
    Desired* entry = Current(path, epoch);
    if (entry == nullptr) return;
    ClientAccess::Create(
        client, path, entry->data, {.mode = CreateMode::kEphemeral, .create_parents = true},
        [self = shared_from_this(), path, epoch](absl::StatusOr<CreateResult> created) {
          if (self->stopped) return;
          if (self->desired.count(path) == 0) {
            // Unregistered while creating: the node must go.
            if (created.ok()) self->DeleteNode(path, std::nullopt, 0, nullptr);
            return;
          }
          // Counted before the chain check: a create parked across a session loss can succeed
          // in the new session after a newer chain has started, which then finds our node.
          if (created.ok() && std::exchange(self->desired[path].created, true)) {
            MutexLock lock(&self->mu);
            ++self->restores;
          }
          if (self->Current(path, epoch) == nullptr) return;  // a newer chain took over
          if (created.ok()) return self->Finish(path, epoch, absl::OkStatus());
          if (IsNodeExists(created.status())) return self->Inspect(path, epoch);
          if (Transient(created.status())) {
            return self->Retry(path, epoch, std::chrono::milliseconds(100));
          }
          self->Finish(path, epoch, created.status());
        });
  }

  void Inspect(const std::string& path, uint64_t epoch) {
    ClientAccess::Get(client, path, [self = shared_from_this(), path,
                                     epoch](absl::StatusOr<GetResult> got) {
      Desired* entry = self->Current(path, epoch);
      if (entry == nullptr) return;
      if (IsNoNode(got.status())) return self->Ensure(path, epoch);
      if (!got.ok()) {
        if (Transient(got.status())) return self->Retry(path, epoch, std::chrono::milliseconds(100));
        return self->Finish(path, epoch, got.status());
      }
      if (got->stat.ephemeral_owner == self->client.session_id()) {
        if (got->data == entry->data) return self->Finish(path, epoch, absl::OkStatus());
        ClientAccess::Set(self->client, path, entry->data, got->stat.version,
                          [self, path, epoch](absl::StatusOr<Stat> set) {
                            if (self->Current(path, epoch) == nullptr) return;
                            if (set.ok()) return self->Finish(path, epoch, absl::OkStatus());
                            if (IsBadVersion(set.status())) return self->Inspect(path, epoch);
                            if (IsNoNode(set.status())) return self->Ensure(path, epoch);
                            if (Transient(set.status())) {
                              return self->Retry(path, epoch, std::chrono::milliseconds(100));
                            }
                            self->Finish(path, epoch, set.status());
                          });
        return;
      }
      // A node of another session (an older one of ours, or a duplicate id): replace it, so
      // that the instance lives and dies with our session and watchers see the change.
      ClientAccess::Delete(self->client, path, got->stat.version,
                           [self, path, epoch](absl::Status deleted) {
                             if (self->Current(path, epoch) == nullptr) return;
                             if (deleted.ok() || IsNoNode(deleted)) return self->Ensure(path, epoch);
                             if (IsBadVersion(deleted)) return self->Inspect(path, epoch);
                             if (Transient(deleted)) {
                               return self->Retry(path, epoch, std::chrono::milliseconds(100));
                             }
                             self->Finish(path, epoch, deleted);
                           });
    });
  }
};

// --- ServiceRegistry -----------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<ServiceRegistry>> ServiceRegistry::Create(
    Client& client, std::string_view base_path, ServiceRegistryOptions options) {
  ZK_RETURN_IF_ERROR(ValidatePath("service_registry", base_path));
  if (options.timeout && *options.timeout <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError(
        absl::StrCat("service_registry ", Av(base_path), ": timeout must be positive"));
  }
  const std::chrono::milliseconds timeout = options.timeout.value_or(
      std::max<std::chrono::milliseconds>(client.negotiated_session_timeout(),
                                          std::chrono::milliseconds(5000)));
  return std::unique_ptr<ServiceRegistry>(
      new ServiceRegistry(client, std::string(base_path), timeout));
}

ServiceRegistry::ServiceRegistry(Client& client, std::string base_path,
                                 std::chrono::milliseconds timeout)
    : client_(client),
      base_path_(base_path),
      timeout_(timeout),
      state_(std::make_shared<State>(client, std::move(base_path))) {}

ServiceRegistry::~ServiceRegistry() {
  ClientAccess::RunOnLoopAndWait(client_, [this] { state_->Stop(); });
}

std::string ServiceRegistry::ServicePath(std::string_view name) const {
  return JoinPath(base_path_, name);
}
std::string ServiceRegistry::InstancePath(std::string_view name, std::string_view id) const {
  return JoinPath(ServicePath(name), id);
}

absl::StatusOr<std::unique_ptr<ServiceRegistry::Registration>> ServiceRegistry::Register(
    ServiceInstance instance) {
  ZK_RETURN_IF_ERROR(ValidateServiceInstance(instance));
  if (instance.registration_time_ms == 0) instance.registration_time_ms = NowMs();
  std::string path = InstancePath(instance.name, instance.id);
  ZK_RETURN_IF_ERROR(ValidatePath("register", path));
  {
    MutexLock lock(&state_->mu);
    if (!state_->registered.emplace(path, true).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("register ", path, ": already registered by this registry"));
    }
  }
  std::string data = ServiceInstanceToJson(instance);
  absl::Status status = RunAndWait(
      client_, "register", path, timeout_,
      [state = state_, path, data = std::move(data)](StatusCallback done) mutable {
        state->Put(path, std::move(data), std::move(done));
      });
  if (!status.ok()) {
    // Nothing stays registered.
    ClientAccess::RunOnLoop(client_, [state = state_, path] { state->Remove(path, nullptr); });
    MutexLock lock(&state_->mu);
    state_->registered.erase(path);
    return status;
  }
  return std::unique_ptr<Registration>(
      new Registration(state_, std::move(path), std::move(instance), timeout_));
}

absl::StatusOr<std::vector<std::string>> ServiceRegistry::ServiceNames() {
  absl::StatusOr<ChildrenResult> children = client_.GetChildren(base_path_);
  if (IsNoNode(children.status())) return std::vector<std::string>{};
  if (!children.ok()) return children.status();
  std::sort(children->children.begin(), children->children.end());
  return std::move(children->children);
}

absl::StatusOr<std::unique_ptr<ChildrenCache>> ServiceRegistry::WatchServiceNames() {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ChildrenCache> cache,
                      ChildrenCache::Create(client_, base_path_, {.cache_data = false}));
  ZK_RETURN_IF_ERROR(cache->Start());
  return cache;
}

ServiceRegistryMetrics ServiceRegistry::Metrics() const {
  MutexLock lock(&state_->mu);
  return {.registrations = state_->registered.size(), .restores = state_->restores};
}

// --- Registration --------------------------------------------------------------------------------

struct ServiceRegistry::Registration::Current {
  explicit Current(ServiceInstance instance) : instance(std::move(instance)) {}
  mutable zk::internal::Mutex mu;
  ServiceInstance instance ABSL_GUARDED_BY(mu);
  bool registered ABSL_GUARDED_BY(mu) = true;
};

ServiceRegistry::Registration::Registration(std::shared_ptr<State> state, std::string path,
                                            ServiceInstance instance,
                                            std::chrono::milliseconds timeout)
    : state_(std::move(state)), path_(std::move(path)), timeout_(timeout),
      current_(std::make_unique<Current>(std::move(instance))) {}

ServiceRegistry::Registration::~Registration() { Unregister().IgnoreError(); }

ServiceInstance ServiceRegistry::Registration::instance() const {
  MutexLock lock(&current_->mu);
  return current_->instance;
}

absl::Status ServiceRegistry::Registration::Update(ServiceInstance instance) {
  ZK_RETURN_IF_ERROR(ValidateServiceInstance(instance));
  {
    MutexLock lock(&current_->mu);
    if (!current_->registered) {
      return absl::FailedPreconditionError(absl::StrCat("update ", path_, ": unregistered"));
    }
    if (instance.name != current_->instance.name || instance.id != current_->instance.id) {
      return absl::InvalidArgumentError(
          absl::StrCat("update ", path_, ": name and id must not change (got ", instance.name,
                       "/", instance.id, ")"));
    }
    if (instance.registration_time_ms == 0) {
      instance.registration_time_ms = current_->instance.registration_time_ms;
    }
  }
  std::string data = ServiceInstanceToJson(instance);
  ZK_RETURN_IF_ERROR(RunAndWait(state_->client, "update", path_, timeout_,
                                [state = state_, path = path_, data = std::move(data),
                                 unregistered = unregistered_](StatusCallback done) mutable {
                                  if (unregistered->load()) {
                                    return std::move(done)(absl::FailedPreconditionError(
                                        absl::StrCat("update ", path, ": unregistered")));
                                  }
                                  state->Put(path, std::move(data), std::move(done));
                                }));
  MutexLock lock(&current_->mu);
  current_->instance = std::move(instance);
  return absl::OkStatus();
}

absl::Status ServiceRegistry::Registration::Unregister() {
  {
    MutexLock lock(&current_->mu);
    if (!current_->registered) return absl::OkStatus();
    current_->registered = false;
    unregistered_->store(true);
  }
  if (ClientAccess::OnLoopThread(state_->client)) {
    // An inline callback cannot wait (nor can the destructor there): remove in the background.
    state_->Remove(path_, nullptr);
    MutexLock lock(&state_->mu);
    state_->registered.erase(path_);
    return absl::OkStatus();
  }
  absl::Status status = RunAndWait(
      state_->client, "unregister", path_, timeout_,
      [state = state_, path = path_](StatusCallback done) { state->Remove(path, std::move(done)); });
  if (absl::IsCancelled(status)) status = absl::OkStatus();  // client closed: the node is gone
  MutexLock lock(&state_->mu);
  state_->registered.erase(path_);
  return status;
}

}  // namespace zk::recipes
