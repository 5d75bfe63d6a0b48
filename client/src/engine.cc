#include "engine.h"
#include "string_util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "zk/path.h"

namespace zk::internal {
namespace {

// The engine served by the current loop thread. Completions of the C library carry only a
// `const void*` (we pass the request id), and log callbacks carry nothing, so the trampolines
// find their engine here. Set for the loop thread's whole life, and briefly on the thread that
// creates a handle in Engine::Start.
thread_local Engine* current_engine = nullptr;

// libzookeeper_st keeps process-global state that it does not synchronise (static log
// buffers, the xid counter): with several clients in one process, their loop threads must not
// be inside the library at the same time (TSan showed the races). Every entry into the library
// holds this lock; it is re-entrant per thread because our callbacks run inside the library
// and may call back into it (zoo_client_id in the session watcher).
std::mutex c_library_mu;
thread_local int c_library_depth = 0;

class CLibraryLock {
 public:
  CLibraryLock() {
    if (c_library_depth++ == 0) c_library_mu.lock();
  }
  ~CLibraryLock() {
    if (--c_library_depth == 0) c_library_mu.unlock();
  }
  CLibraryLock(const CLibraryLock&) = delete;
  CLibraryLock& operator=(const CLibraryLock&) = delete;
};

// Contexts of per-path watchers: the C library keys its watcher tables by (function, context),
// so one context per kind gives exactly one native watch per (path, kind).
int data_watch_tag;
int child_watch_tag;

Stat ToStat(const ::Stat* s) {
  Stat out;
  if (s == nullptr) return out;
  out.czxid = s->czxid;
  out.mzxid = s->mzxid;
  out.ctime = s->ctime;
  out.mtime = s->mtime;
  out.version = s->version;
  out.cversion = s->cversion;
  out.aversion = s->aversion;
  out.ephemeral_owner = s->ephemeralOwner;
  out.data_length = s->dataLength;
  out.num_children = s->numChildren;
  out.pzxid = s->pzxid;
  return out;
}

uint64_t IdOf(const void* data) { return reinterpret_cast<uintptr_t>(data); }
const void* DataOf(uint64_t id) { return reinterpret_cast<const void*>(static_cast<uintptr_t>(id)); }

void Finish(const void* data, int rc, const std::function<void(Reply&)>& fill) {
  if (current_engine != nullptr) current_engine->OnCompletion(IdOf(data), rc, fill);
}

void OnVoid(int rc, const void* data) { Finish(data, rc, [](Reply&) {}); }

// For requests nobody waits for. The C library asserts on a reply whose completion is null, so
// fire-and-forget requests still need one.
void IgnoreReply(int rc, const void* data) {}

void OnStat(int rc, const ::Stat* stat, const void* data) {
  Finish(data, rc, [&](Reply& r) { r.stat = ToStat(stat); });
}

void OnData(int rc, const char* value, int value_len, const ::Stat* stat, const void* data) {
  Finish(data, rc, [&](Reply& r) {
    if (value != nullptr && value_len > 0) r.data.assign(value, static_cast<size_t>(value_len));
    r.stat = ToStat(stat);
  });
}

void OnStringStat(int rc, const char* value, const ::Stat* stat, const void* data) {
  Finish(data, rc, [&](Reply& r) {
    if (value != nullptr) r.data = value;
    if (stat != nullptr) r.stat = ToStat(stat);
  });
}

void OnString(int rc, const char* value, const void* data) {
  Finish(data, rc, [&](Reply& r) {
    if (value != nullptr) r.data = value;
  });
}

void OnChildren(int rc, const struct String_vector* strings, const ::Stat* stat,
                const void* data) {
  Finish(data, rc, [&](Reply& r) {
    if (strings != nullptr) {
      r.children.reserve(static_cast<size_t>(strings->count));
      for (int32_t i = 0; i < strings->count; ++i) r.children.emplace_back(strings->data[i]);
    }
    r.stat = ToStat(stat);
  });
}

void OnAcl(int rc, struct ACL_vector* acl, ::Stat* stat, const void* data) {
  Finish(data, rc, [&](Reply& r) {
    if (acl != nullptr) {
      for (int32_t i = 0; i < acl->count; ++i) {
        r.acl.push_back({acl->data[i].perms, {acl->data[i].id.scheme, acl->data[i].id.id}});
      }
    }
    r.stat = ToStat(stat);
  });
}

void SessionWatcher(zhandle_t* zh, int type, int state, const char* path, void* context) {
  if (type == ZOO_SESSION_EVENT) static_cast<Engine*>(context)->OnSessionEvent(state);
}

void PathWatcher(zhandle_t* zh, int type, int state, const char* path, void* context) {
  if (type == ZOO_SESSION_EVENT || type == ZOO_NOTWATCHING_EVENT) return;  // we track those
  if (current_engine == nullptr || path == nullptr) return;
  current_engine->OnWatchEvent(type, path, context == &child_watch_tag ? WatchKind::kChild
                                                                       : WatchKind::kData);
}

void LogTrampoline(const char* message) {
  if (current_engine != nullptr) {
    current_engine->OnLog(message);
  } else {
    std::fprintf(stderr, "%s\n", message);
  }
}

// Owns the C structs an ACL list is passed as; `vector` points into `acl`'s strings.
struct CAcl {
  explicit CAcl(AclList list) : acl(std::move(list)), entries(acl.size()) {
    for (size_t i = 0; i < acl.size(); ++i) {
      entries[i].perms = acl[i].perms;
      entries[i].id.scheme = acl[i].id.scheme.data();
      entries[i].id.id = acl[i].id.id.data();
    }
    vector.count = static_cast<int32_t>(entries.size());
    vector.data = entries.data();
  }
  CAcl(const CAcl&) = delete;
  AclList acl;
  std::vector<struct ACL> entries;
  struct ACL_vector vector;
};

// Buffers of one multi: the C library writes results into them until its completion runs.
struct MultiStorage {
  std::vector<zoo_op_t> ops;
  std::vector<zoo_op_result_t> results;
  std::vector<std::unique_ptr<CAcl>> acls;
  std::vector<std::string> path_buffers;
  std::vector<::Stat> stats;
};

ZooLogLevel ToCLevel(LogLevel level) { return static_cast<ZooLogLevel>(static_cast<int>(level)); }

// The C library's log level is process-global: raise it to the most verbose level any client
// asked for; each client filters to its own level.
void RaiseGlobalLogLevel(LogLevel level) {
  CLibraryLock library;  // also guards `current`
  static int current = 0;
  if (static_cast<int>(level) > current) {
    current = static_cast<int>(level);
    zoo_set_debug_level(ToCLevel(level));
  }
}

}  // namespace

bool IsWrite(OpKind kind) {
  switch (kind) {
    case OpKind::kCreate:
    case OpKind::kDelete:
    case OpKind::kSet:
    case OpKind::kSetAcl:
    case OpKind::kMulti: return true;
    default: return false;
  }
}

Engine::Engine(ClientOptions options)
    : options_(std::move(options)),
      operation_timeout_(absl::FromChrono(options_.operation_timeout.value_or(
          options_.session_timeout))),
      hosts_(options_.chroot.empty() ? options_.connect_string
                                     : StrCat(options_.connect_string, options_.chroot)),
      digest_auth_(options_.digest_auth) {}

absl::StatusOr<std::shared_ptr<Engine>> Engine::Start(ClientOptions options) {
  if (options.connect_string.empty()) {
    return absl::InvalidArgumentError("connect: connect_string is empty");
  }
  if (options.connect_string.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("connect ", options.connect_string, ": connect_string contains whitespace"));
  }
  const size_t slash = options.connect_string.find('/');
  if (slash != std::string::npos) {
    if (!options.chroot.empty()) {
      return absl::InvalidArgumentError(StrCat(
          "connect ", options.connect_string, ": chroot given both in connect_string and in chroot"));
    }
    options.chroot = options.connect_string.substr(slash);
    options.connect_string.resize(slash);
  }
  if (!options.chroot.empty()) {
    if (options.chroot == "/") {
      options.chroot.clear();
    } else if (absl::Status s = ValidatePath("connect (chroot)", options.chroot); !s.ok()) {
      return s;
    }
  }
  if (options.session_timeout <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError("connect: session_timeout must be positive");
  }
  if (options.operation_timeout && *options.operation_timeout <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError("connect: operation_timeout must be positive");
  }
  if (options.host_resolution_interval &&
      *options.host_resolution_interval < std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError("connect: host_resolution_interval must not be negative");
  }
  std::shared_ptr<Engine> engine(new Engine(std::move(options)));
  engine->wakeup_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (engine->wakeup_fd_ < 0) {
    return absl::InternalError(StrCat("connect: eventfd: ", std::strerror(errno)));
  }
  RaiseGlobalLogLevel(engine->options_.log_level);
  {
    // The handle is created here, before the loop thread exists, so that a bad connect string
    // fails Connect() itself; the thread start orders it before every later use.
    Engine* previous = current_engine;
    current_engine = engine.get();
    absl::Status opened = engine->OpenHandle();
    current_engine = previous;
    if (!opened.ok()) return opened;
  }
  if (engine->options_.callback_execution == CallbackExecution::kDispatcherThread) {
    std::weak_ptr<Engine> weak = engine;
    engine->dispatcher_ = std::make_unique<Dispatcher>([weak] {
      if (auto self = weak.lock()) self->FlushDeferredSubmissions();
    });
  }
  // The loop thread keeps the engine alive until it ends (it may be detached by Shutdown).
  // The id is set by the thread itself, before anything it runs asks, and cleared when the loop
  // has ended: a later thread may get the same id, and must not pass for the loop.
  engine->loop_thread_ = std::thread([self = engine] {
    self->loop_thread_id_.store(std::this_thread::get_id());
    current_engine = self.get();
    self->Loop();
    current_engine = nullptr;
    self->loop_thread_id_.store(std::thread::id());
  });
  return engine;
}

Engine::~Engine() {
  if (loop_thread_.joinable()) loop_thread_.detach();  // only when the last owner is the loop
  if (wakeup_fd_ >= 0) close(wakeup_fd_);
}

absl::Status Engine::OpenHandle() {
  CLibraryLock library;
  const int flags = options_.allow_read_only ? ZOO_READONLY : 0;
  const int timeout_ms = static_cast<int>(options_.session_timeout.count());
  errno = 0;
  zh_ = zookeeper_init2(hosts_.c_str(), &SessionWatcher, timeout_ms, nullptr, this, flags,
                        &LogTrampoline);
  if (zh_ == nullptr) {
    return absl::InvalidArgumentError(StrCat(
        "connect ", options_.connect_string, ": the C library rejected the connect string (",
        std::strerror(errno != 0 ? errno : EINVAL), ")"));
  }
  const int delay_ms = options_.host_resolution_interval
                           ? static_cast<int>(options_.host_resolution_interval->count())
                           : -1;
  zoo_set_servers_resolution_delay(zh_, delay_ms);
  // Credentials are queued now and sent right after the handshake, before any request.
  for (const DigestCredential& credential : digest_auth_) {
    const std::string cert = StrCat(credential.user, ":", credential.password);
    zoo_add_auth(zh_, "digest", cert.data(), static_cast<int>(cert.size()), &IgnoreReply,
                 nullptr);
  }
  for (const auto& [scheme, cert] : extra_auth_) {
    zoo_add_auth(zh_, scheme.c_str(), cert.data(), static_cast<int>(cert.size()), &IgnoreReply,
                 nullptr);
  }
  fd_ = -1;
  next_interest_ = absl::InfinitePast();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Submission

void Engine::Submit(std::unique_ptr<Request> request) {
  request->submitted = absl::Now();
  if (dispatcher_ != nullptr && dispatcher_->OnDispatcherThread()) {
    deferred_.push_back(std::move(request));
    return;
  }
  Task task = [this, request = std::move(request)]() mutable { Execute(std::move(request)); };
  // Once the loop has ended, Execute runs here and completes the request with Cancelled
  // without touching loop state.
  if (!TryPost(std::move(task))) std::move(task)();
}

void Engine::FlushDeferredSubmissions() {
  if (dispatcher_ == nullptr || !dispatcher_->OnDispatcherThread() || deferred_.empty()) return;
  std::vector<std::unique_ptr<Request>> requests;
  requests.swap(deferred_);
  bool ended;
  {
    MutexLock lock(&queue_mu_);
    ended = loop_ended_;
    if (!ended) {
      for (auto& request : requests) {
        queue_.push_back([this, request = std::move(request)]() mutable {
          Execute(std::move(request));
        });
      }
      WakeLoopLocked();
    }
  }
  if (ended) {
    // Closed meanwhile: Execute completes them with Cancelled right here.
    for (auto& request : requests) Execute(std::move(request));
  }
}

ClientMetrics Engine::Metrics() const {
  int64_t queued;
  {
    MutexLock lock(&queue_mu_);
    queued = static_cast<int64_t>(queue_.size());
  }
  return metrics_.Snapshot(queued);
}

void Engine::Post(Task task) { TryPost(std::move(task)); }

bool Engine::TryPost(Task&& task) {
  if (OnLoopThread()) {
    local_queue_.push_back(std::move(task));
    return true;
  }
  FlushDeferredSubmissions();  // keeps this thread's submission order
  MutexLock lock(&queue_mu_);
  if (loop_ended_) return false;
  queue_.push_back(std::move(task));
  WakeLoopLocked();
  return true;
}

// Called with queue_mu_ held, and never after it is released: once a task is in the queue, its
// completion may destroy the engine (a callback that destroys its client), so a submitting
// thread must not touch the engine after the lock's release.
void Engine::WakeLoopLocked() {
  if (sleeping_.load()) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wakeup_fd_, &one, sizeof(one));
  }
}

void Engine::Execute(std::unique_ptr<Request> request) {
  if (stopping_ || closed()) {
    Entry entry{std::move(request)};
    Reply reply;
    reply.rc = ZooError::kClosing;
    reply.sent = false;
    reply.detail = "client is closed";
    Complete(entry, std::move(reply));
    return;
  }
  const uint64_t id = next_id_++;
  const absl::Time deadline = request->deadline.value_or(request->submitted + operation_timeout_);
  if (request->watch != WatchKind::kNone) {
    ++native_watches_[{request->path, static_cast<int>(request->watch)}].pending_arms;
  }
  entries_.emplace(id, Entry{std::move(request)});
  deadlines_.emplace(deadline, id);
  if (loop_connected_ && parked_.empty()) {
    Send(id);
  } else {
    parked_.push_back(id);
  }
}

void Engine::Send(uint64_t id) {
  CLibraryLock library;
  Entry& entry = entries_.at(id);
  Request& r = *entry.request;
  const char* path = r.path.c_str();
  const void* data = DataOf(id);
  const bool watch = r.watch != WatchKind::kNone;
  void* tag = r.watch == WatchKind::kChild ? &child_watch_tag : &data_watch_tag;
  int rc = ZOK;
  switch (r.kind) {
    case OpKind::kCreate: {
      CAcl acl(r.acl);
      if (r.ttl_ms > 0) {
        rc = zoo_acreate2_ttl(zh_, path, r.data.data(), static_cast<int>(r.data.size()),
                              &acl.vector, r.create_flags, r.ttl_ms, &OnStringStat, data);
      } else {
        rc = zoo_acreate2(zh_, path, r.data.data(), static_cast<int>(r.data.size()), &acl.vector,
                          r.create_flags, &OnStringStat, data);
      }
      break;
    }
    case OpKind::kDelete: rc = zoo_adelete(zh_, path, r.version, &OnVoid, data); break;
    case OpKind::kExists:
      rc = watch ? zoo_awexists(zh_, path, &PathWatcher, tag, &OnStat, data)
                 : zoo_aexists(zh_, path, 0, &OnStat, data);
      break;
    case OpKind::kGet:
      rc = watch ? zoo_awget(zh_, path, &PathWatcher, tag, &OnData, data)
                 : zoo_aget(zh_, path, 0, &OnData, data);
      break;
    case OpKind::kSet:
      rc = zoo_aset(zh_, path, r.data.data(), static_cast<int>(r.data.size()), r.version, &OnStat,
                    data);
      break;
    case OpKind::kGetChildren:
      rc = watch ? zoo_awget_children2(zh_, path, &PathWatcher, tag, &OnChildren, data)
                 : zoo_aget_children2(zh_, path, 0, &OnChildren, data);
      break;
    case OpKind::kGetAcl: rc = zoo_aget_acl(zh_, path, &OnAcl, data); break;
    case OpKind::kSetAcl: {
      CAcl acl(r.acl);
      rc = zoo_aset_acl(zh_, path, r.version, &acl.vector, &OnVoid, data);
      break;
    }
    case OpKind::kSync: rc = zoo_async(zh_, path, &OnString, data); break;
    case OpKind::kAddAuth:
      rc = zoo_add_auth(zh_, r.scheme.c_str(), r.data.data(), static_cast<int>(r.data.size()),
                        &OnVoid, data);
      break;
    case OpKind::kMulti: {
      auto storage = std::make_shared<MultiStorage>();
      const size_t n = r.ops.size();
      storage->ops.resize(n);
      storage->results.resize(n);
      storage->path_buffers.resize(n);
      storage->stats.resize(n);
      for (size_t i = 0; i < n; ++i) {
        zoo_op_t& op = storage->ops[i];
        std::visit(
            [&](auto& o) {
              using T = std::decay_t<decltype(o)>;
              if constexpr (std::is_same_v<T, op::Create>) {
                storage->acls.push_back(std::make_unique<CAcl>(o.acl));
                // Room for the longest name the server can return: path + 10-digit suffix.
                storage->path_buffers[i].resize(o.path.size() + 16 + options_.chroot.size());
                zoo_create_op_init(&op, o.path.c_str(), o.data.data(),
                                   static_cast<int>(o.data.size()), &storage->acls.back()->vector,
                                   static_cast<int>(o.mode), storage->path_buffers[i].data(),
                                   static_cast<int>(storage->path_buffers[i].size()));
              } else if constexpr (std::is_same_v<T, op::Delete>) {
                zoo_delete_op_init(&op, o.path.c_str(), o.expected_version.value_or(-1));
              } else if constexpr (std::is_same_v<T, op::Set>) {
                zoo_set_op_init(&op, o.path.c_str(), o.data.data(),
                                static_cast<int>(o.data.size()), o.expected_version.value_or(-1),
                                &storage->stats[i]);
              } else {
                zoo_check_op_init(&op, o.path.c_str(), o.expected_version.value_or(-1));
              }
            },
            r.ops[i]);
      }
      entry.multi_storage = storage;
      rc = zoo_amulti(zh_, static_cast<int>(n), storage->ops.data(), storage->results.data(),
                      &OnVoid, data);
      break;
    }
  }
  // The call may have run completions re-entrantly (a send error makes the library fail every
  // request, this one included), so `entry` may be gone: look it up again.
  if (auto it = entries_.find(id); it != entries_.end()) {
    if (rc == ZOK) {
      it->second.sent = true;
    } else if (rc == ZINVALIDSTATE && !stopping_) {
      // The handle just became unusable (expiry not yet processed): wait for the next session.
      parked_.push_back(id);
    } else {
      // Rejected synchronously: the C library will not call the completion.
      OnCompletion(id, rc, [](Reply&) {});
    }
  }
  // A send that hit a dead socket closed it without an event (see NoticeSilentDisconnect).
  NoticeSilentDisconnect();
}

void Engine::OnCompletion(uint64_t id, int rc, const std::function<void(Reply&)>& fill) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry entry = std::move(it->second);
  entries_.erase(it);
  Request& r = *entry.request;
  ZooError error = static_cast<ZooError>(rc);
  if (error == ZooError::kClosing) error = closing_rc_;
  // As a request's own result (not a multi's per-op code), RUNTIMEINCONSISTENCY means the
  // library dropped the connection over a reply it did not expect (after a silent drop, the
  // answers to the requests of the old connection never come): a connection loss.
  if (error == ZooError::kRuntimeInconsistency) error = ZooError::kConnectionLoss;
  if (r.watch != WatchKind::kNone) {
    const WatchKey key{r.path, static_cast<int>(r.watch)};
    auto w = native_watches_.find(key);
    if (w != native_watches_.end()) {
      NativeWatch& native = w->second;
      --native.pending_arms;
      const bool armed = error == ZooError::kOk ||
                         (r.kind == OpKind::kExists && error == ZooError::kNoNode);
      if (armed && r.watch_slot && !r.watch_slot->cancelled() && !entry.answered) {
        if (native.slots.empty()) watch_bytes_ += r.path.size();
        native.slots.push_back(r.watch_slot);
        ++watch_handles_;
      }
      if (native.slots.empty() && native.pending_arms == 0) native_watches_.erase(w);
    }
  }
  if (entry.answered) return;  // already completed by its deadline
  Reply reply;
  reply.rc = error;
  if (error == ZooError::kOk || r.kind == OpKind::kMulti) fill(reply);
  if (r.kind == OpKind::kMulti && entry.multi_storage) {
    auto* storage = static_cast<MultiStorage*>(entry.multi_storage.get());
    for (size_t i = 0; i < storage->results.size(); ++i) {
      OpReply op_reply;
      // On a connection loss the C library leaves the per-op results untouched.
      const bool per_op_results =
          static_cast<int>(error) <= static_cast<int>(ZooError::kApiError) ||
          error == ZooError::kOk;
      op_reply.rc = per_op_results ? static_cast<ZooError>(storage->results[i].err) : error;
      if (std::holds_alternative<op::Create>(r.ops[i]) && storage->results[i].err == ZOK &&
          error == ZooError::kOk) {
        op_reply.path = storage->path_buffers[i].c_str();
      }
      if (std::holds_alternative<op::Set>(r.ops[i]) && storage->results[i].err == ZOK &&
          error == ZooError::kOk) {
        op_reply.stat = ToStat(&storage->stats[i]);
      }
      reply.multi.push_back(std::move(op_reply));
    }
  }
  if (r.kind == OpKind::kAddAuth && error == ZooError::kOk) {
    extra_auth_.emplace_back(r.scheme, r.data);
  }
  Complete(entry, std::move(reply));
}

void Engine::Complete(Entry& entry, Reply reply) {
  Request& r = *entry.request;
  if (!r.done) return;
  if (OnLoopThread()) {  // after the loop's end (close), completions are not counted
    const auto latency = absl::ToChronoNanoseconds(absl::Now() - r.submitted);
    metrics_.RecordOperation(r.kind, reply.rc != ZooError::kOk, latency);
    if (options_.on_operation) {
      options_.on_operation(OperationSample{r.kind, r.path, reply.rc, latency});
    }
  }
  if (r.complete_on_loop || !OnLoopThread()) {
    std::move(r.done)(std::move(reply));
  } else {
    Deliver([done = std::move(r.done), reply = std::move(reply)]() mutable {
      std::move(done)(std::move(reply));
    });
  }
  r.done = nullptr;
}

Engine::TimerKey Engine::RunAt(absl::Time when, Task task) {
  TimerKey key{when, next_timer_id_++};
  timers_.emplace(key, std::move(task));
  return key;
}

void Engine::CancelTimer(const TimerKey& key) { timers_.erase(key); }

void Engine::Deliver(Task task) {
  // Off the loop thread only after the loop has ended: then run it right here.
  if (!OnLoopThread() || dispatcher_ == nullptr) {
    std::move(task)();
  } else {
    outbox_.push_back(std::move(task));
  }
}

void Engine::FlushOutbox() {
  if (!outbox_.empty() && dispatcher_ != nullptr) {
    std::vector<Task> batch;
    batch.swap(outbox_);
    dispatcher_->Post(std::move(batch));
  }
}

void Engine::FlushParked() {
  flush_parked_ = false;
  std::deque<uint64_t> parked;
  parked.swap(parked_);
  const bool cork = parked.size() > 1 && fd_ >= 0;
  int on = 1;
  if (cork) setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
  while (!parked.empty()) {
    const uint64_t id = parked.front();
    parked.pop_front();
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.answered) {
      if (it != entries_.end()) entries_.erase(it);
      continue;
    }
    if (!loop_connected_) {
      parked_.push_back(id);
      continue;
    }
    Send(id);
  }
  if (cork) {
    int off = 0;
    setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
  }
}

// ---------------------------------------------------------------------------------------------
// Deadlines

void Engine::RunTimers() {
  const absl::Time now = absl::Now();
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const uint64_t id = deadlines_.top().second;
    deadlines_.pop();
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.answered) continue;
    Entry& entry = it->second;
    Reply reply;
    reply.rc = ZooError::kOperationTimeout;
    reply.sent = entry.sent;
    reply.detail = entry.sent
                       ? StrCat("no reply within the operation timeout of ",
                                      absl::FormatDuration(operation_timeout_))
                       : StrCat("not connected within the operation timeout of ",
                                      absl::FormatDuration(operation_timeout_),
                                      "; the request was never sent");
    if (entry.sent) {
      // The C library still owns the request: keep the entry until its completion runs.
      Complete(entry, std::move(reply));
      entry.answered = true;
    } else {
      Entry taken = std::move(entry);
      entries_.erase(it);
      if (taken.request->watch != WatchKind::kNone) {
        auto w = native_watches_.find({taken.request->path, static_cast<int>(taken.request->watch)});
        if (w != native_watches_.end() && --w->second.pending_arms == 0 &&
            w->second.slots.empty()) {
          native_watches_.erase(w);
        }
      }
      Complete(taken, std::move(reply));
    }
  }
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    Task task = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    std::move(task)();
  }
  if (loss_deadline_ && *loss_deadline_ <= now) {
    loss_deadline_.reset();
    DeclareLost(absl::UnavailableError(StrCat(
        "session 0x", absl::Hex(loop_session_id_), ": no reconnect within the session timeout")));
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions

void Engine::SetConnected(bool connected) {
  loop_connected_ = connected;
  if (!connected) contact_lease_ns_.store(0);
  MutexLock lock(&state_mu_);
  connected_ = connected;
}

void Engine::RecordServerContact() { last_contact_ns_.store(absl::ToUnixNanos(absl::Now())); }

bool Engine::ServerContactFresh() const {
  const int64_t lease = contact_lease_ns_.load();
  return lease > 0 && absl::ToUnixNanos(absl::Now()) - last_contact_ns_.load() < lease;
}

// libzookeeper 3.8 gives a connection up on some paths without any session event: a send that
// fails (nonblocking_send, on every request) closes the socket and sets NOTCONNECTED, and the
// reconnect attempts that follow raise nothing either, since the handle no longer counts as
// connected. Trusting its events alone, a lock holder would be told nothing for as long as the
// ensemble stays unreachable. So after every call into the library its state is compared with
// ours, and a connection it dropped silently is handled as one it reported: suspended in this
// loop turn, the loss timer started, the requests sent on it failed.
void Engine::NoticeSilentDisconnect() {
  if (!loop_connected_ || zh_ == nullptr || stopping_) return;
  const int state = zoo_state(zh_);
  if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE) return;
  const bool unrecoverable = state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE;
  OnLog(StrCat("ZOO_INFO@zkcpp: the C library dropped the connection of session 0x",
               absl::Hex(loop_session_id_), " without an event (state ", state,
               "); handling it as a connection loss")
            .c_str());
  OnSessionEvent(unrecoverable ? state : ZOO_CONNECTING_STATE);
  FailSentRequests();
}

void Engine::FailSentRequests() {
  std::vector<uint64_t> sent;
  for (const auto& [id, entry] : entries_) {
    if (entry.sent && !entry.answered) sent.push_back(id);
  }
  std::sort(sent.begin(), sent.end());  // in the order they were submitted
  for (uint64_t id : sent) {
    auto it = entries_.find(id);  // a completion run before may have changed the table
    if (it == entries_.end() || it->second.answered) continue;
    Reply reply;
    reply.rc = ZooError::kConnectionLoss;
    reply.detail = "connection lost after the request was sent";
    // The library still owns the request: keep the entry until its completion runs.
    it->second.answered = true;
    Complete(it->second, std::move(reply));
  }
}

void Engine::OnSessionEvent(int state) {
  if (stopping_) return;
  if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE) {
    const clientid_t* id = zoo_client_id(zh_);
    const int64_t new_id = id != nullptr ? id->client_id : 0;
    SessionEvent event{SessionState::kConnected, new_id, false};
    if (state == ZOO_READONLY_STATE) {
      event.state = SessionState::kReadOnly;
    } else if (ever_connected_) {
      event.state = SessionState::kReconnected;
      event.new_session = after_loss_ || new_id != loop_session_id_;
    }
    metrics_.CountConnection();
    if (!ever_connected_ || event.new_session) metrics_.CountSession();
    ever_connected_ = true;
    after_loss_ = false;
    loss_deadline_.reset();
    loop_session_id_ = new_id;
    {
      MutexLock lock(&state_mu_);
      session_id_ = new_id;
      session_password_.assign(id != nullptr ? id->passwd : "", id != nullptr ? 16 : 0);
      negotiated_timeout_ = absl::Milliseconds(zoo_recv_timeout(zh_));
      state_ = event.state;
    }
    SetConnected(true);
    RecordServerContact();
    contact_lease_ns_.store(absl::ToInt64Nanoseconds(negotiated_session_timeout() * 2 / 3));
    flush_parked_ = true;
    Emit(event);
  } else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE) {
    if (!loop_connected_) return;
    SetConnected(false);
    absl::Duration timeout;
    {
      MutexLock lock(&state_mu_);
      state_ = SessionState::kSuspended;
      timeout = negotiated_timeout_;
    }
    loss_deadline_ = absl::Now() + timeout;
    Emit({SessionState::kSuspended, loop_session_id_, false});
  } else if (state == ZOO_EXPIRED_SESSION_STATE) {
    DeclareLost(MakeZooStatus(ZooError::kSessionExpired, "session",
                              StrCat("0x", absl::Hex(loop_session_id_))));
  } else if (state == ZOO_AUTH_FAILED_STATE) {
    DeclareLost(MakeZooStatus(ZooError::kAuthFailed, "session",
                              StrCat("0x", absl::Hex(loop_session_id_))));
  }
}

void Engine::DeclareLost(absl::Status reason) {
  if (replace_handle_ || stopping_) return;
  replace_handle_ = true;  // done by the loop, outside of any C-library callback
  after_loss_ = true;
  loss_deadline_.reset();
  SetConnected(false);
  {
    MutexLock lock(&state_mu_);
    state_ = SessionState::kLost;
  }
  EndAllWatches(reason);
  Emit({SessionState::kLost, loop_session_id_, false});
}

void Engine::ReplaceHandle() {
  replace_handle_ = false;
  if (zh_ != nullptr) {
    // Requests still owned by the old handle are answered with ZCLOSING inside close: to their
    // callers that is a connection loss (a write's outcome is unknown).
    closing_rc_ = ZooError::kConnectionLoss;
    zhandle_t* old = zh_;
    zh_ = nullptr;
    CLibraryLock library;
    zookeeper_close(old);
  }
  if (absl::Status s = OpenHandle(); !s.ok()) {
    // The connect string was accepted once; failing now means a resolver problem. Retry soon.
    OnLog(std::string(s.message()).c_str());
    next_interest_ = absl::Now() + absl::Seconds(1);
    replace_handle_ = true;
  }
}

void Engine::Emit(SessionEvent event) {
  for (auto& [id, listener] : std::vector(loop_listeners_)) listener(event);
  std::vector<std::shared_ptr<CallbackSlot>> subscribers;
  {
    MutexLock lock(&subscribers_mu_);
    std::erase_if(subscribers_, [](const auto& slot) { return slot->cancelled(); });
    subscribers = subscribers_;
  }
  for (auto& slot : subscribers) {
    Deliver([slot, event] { slot->Invoke(event); });
  }
}

Subscription Engine::SubscribeSessionEvents(SessionCallback callback) {
  auto slot = std::make_shared<CallbackSlot>(CallbackSlot::Callback(std::move(callback)), nullptr);
  MutexLock lock(&subscribers_mu_);
  subscribers_.push_back(slot);
  return Subscription(slot);
}

uint64_t Engine::AddLoopSessionListener(LoopSessionListener listener) {
  const uint64_t id = next_listener_id_++;
  loop_listeners_.emplace_back(id, std::move(listener));
  return id;
}

void Engine::RemoveLoopSessionListener(uint64_t id) {
  std::erase_if(loop_listeners_, [id](const auto& entry) { return entry.first == id; });
}

absl::Status Engine::WaitUntilConnected(absl::Duration timeout) {
  if (OnLoopThread()) {
    return absl::FailedPreconditionError(
        "wait_until_connected: called on the client's event-loop thread (an inline callback); "
        "it would deadlock");
  }
  MutexLock lock(&state_mu_);
  const auto ready = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return connected_ || closed_; };
  if (!state_mu_.AwaitWithTimeout(ready, timeout)) {
    return absl::DeadlineExceededError(StrCat(
        "wait_until_connected ", options_.connect_string, ": not connected within ",
        absl::FormatDuration(timeout)));
  }
  if (closed_) return absl::CancelledError("wait_until_connected: client is closed");
  return absl::OkStatus();
}

int64_t Engine::session_id() const {
  MutexLock lock(&state_mu_);
  return session_id_;
}

std::string Engine::session_password() const {
  MutexLock lock(&state_mu_);
  return session_password_;
}

absl::Duration Engine::negotiated_session_timeout() const {
  MutexLock lock(&state_mu_);
  return negotiated_timeout_;
}

SessionState Engine::state() const {
  MutexLock lock(&state_mu_);
  return state_;
}

bool Engine::closed() const {
  MutexLock lock(&state_mu_);
  return closed_;
}

bool Engine::OnCallbackThread() const {
  return dispatcher_ != nullptr ? dispatcher_->OnDispatcherThread() : OnLoopThread();
}

// ---------------------------------------------------------------------------------------------
// Watches

std::shared_ptr<CallbackSlot> Engine::NewWatchSlot(std::string path, WatchKind kind,
                                                   WatchCallback callback, bool on_loop) {
  auto holder = std::make_shared<CallbackSlot*>(nullptr);
  std::weak_ptr<Engine> weak = weak_from_this();
  auto slot = std::make_shared<CallbackSlot>(
      CallbackSlot::Callback(std::move(callback)), [weak, path, kind, holder] {
        if (std::shared_ptr<Engine> engine = weak.lock()) {
          const CallbackSlot* slot = *holder;
          engine->Post([engine = engine.get(), path, kind, slot] {
            engine->DetachSlot(path, kind, slot);
          });
        }
      },
      on_loop);
  *holder = slot.get();
  return slot;
}

absl::Status Engine::CheckWatchBudget(std::string_view op, std::string_view path,
                                      WatchKind kind) {
  // An approximate read from any thread is fine for a budget.
  (void)kind;
  if (watch_bytes_.load() + path.size() > options_.watch_budget_bytes) {
    return absl::ResourceExhaustedError(StrCat(
        op, " ", path, ": watch budget of ", options_.watch_budget_bytes,
        " path bytes exhausted (the reconnect SetWatches packet must stay under 1 MB)"));
  }
  return absl::OkStatus();
}

void Engine::OnWatchEvent(int type, const char* path, WatchKind kind) {
  auto it = native_watches_.find(WatchKey{path, static_cast<int>(kind)});
  if (it == native_watches_.end()) return;
  std::vector<std::shared_ptr<CallbackSlot>> slots = std::move(it->second.slots);
  it->second.slots.clear();
  watch_handles_ -= static_cast<int64_t>(slots.size());
  watch_bytes_ -= std::min(watch_bytes_.load(), it->first.first.size());
  if (it->second.pending_arms == 0) native_watches_.erase(it);
  WatchEvent event;
  event.path = path;
  if (type == ZOO_CREATED_EVENT) {
    event.type = WatchEventType::kCreated;
  } else if (type == ZOO_DELETED_EVENT) {
    event.type = WatchEventType::kDeleted;
  } else if (type == ZOO_CHANGED_EVENT) {
    event.type = WatchEventType::kDataChanged;
  } else {
    event.type = WatchEventType::kChildrenChanged;
  }
  for (auto& slot : slots) DeliverToSlot(slot, event);
}

void Engine::DeliverToSlot(const std::shared_ptr<CallbackSlot>& slot, const WatchEvent& event) {
  metrics_.CountWatchEvent();
  if (slot->on_loop()) {
    slot->Invoke(event);
  } else {
    Deliver([slot, event] { slot->Invoke(event); });
  }
}

void Engine::DetachSlot(const std::string& path, WatchKind kind, const CallbackSlot* slot) {
  auto it = native_watches_.find(WatchKey{path, static_cast<int>(kind)});
  if (it == native_watches_.end()) return;
  NativeWatch& native = it->second;
  const size_t before = native.slots.size();
  std::erase_if(native.slots, [slot](const auto& s) { return s.get() == slot; });
  watch_handles_ -= static_cast<int64_t>(before - native.slots.size());
  if (before == 0 || !native.slots.empty()) return;
  watch_bytes_ -= std::min(watch_bytes_.load(), path.size());
  if (native.pending_arms > 0) return;  // a read in flight re-arms it; keep the server watch
  native_watches_.erase(it);
  if (zh_ != nullptr && loop_connected_) {
    CLibraryLock library;
    // One context per kind means ours are the only watchers of (path, kind): removing them all
    // (removeWatches, op 18) also removes the server-side watch.
    zoo_aremove_all_watches(zh_, path.c_str(),
                            kind == WatchKind::kChild ? ZWATCHTYPE_CHILD : ZWATCHTYPE_DATA, 0,
                            // zookeeper.h 3.8 types this parameter as a pointer to a function
                            // pointer, but the library stores and calls it as the function
                            // pointer itself.
                            reinterpret_cast<void_completion_t*>(&IgnoreReply), nullptr);
  }
}

void Engine::EndAllWatches(const absl::Status& reason) {
  WatchEvent event{WatchEventType::kNotWatching, "", reason};
  for (auto& [key, native] : native_watches_) {
    event.path = key.first;
    for (auto& slot : native.slots) DeliverToSlot(slot, event);
    watch_handles_ -= static_cast<int64_t>(native.slots.size());
    native.slots.clear();
  }
  for (auto it = native_watches_.begin(); it != native_watches_.end();) {
    if (it->second.pending_arms == 0) {
      native_watches_.erase(it++);
    } else {
      ++it;
    }
  }
  watch_bytes_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Log

void Engine::OnLog(const char* message) {
  std::string_view text(message);
  LogLevel level = LogLevel::kDebug;
  if (Contains(text, "ZOO_ERROR@")) {
    level = LogLevel::kError;
  } else if (Contains(text, "ZOO_WARN@")) {
    level = LogLevel::kWarning;
  } else if (Contains(text, "ZOO_INFO@")) {
    level = LogLevel::kInfo;
  }
  if (static_cast<int>(level) > static_cast<int>(options_.log_level)) return;
  if (options_.log_sink) {
    options_.log_sink(level, text);
  } else {
    std::fprintf(stderr, "zkcpp: %s\n", message);
  }
}

// ---------------------------------------------------------------------------------------------
// The loop

void Engine::RunLocalQueue() {
  // A task may submit more (an inline callback starting the next request): swap, never iterate
  // the live vector.
  while (!local_queue_.empty()) {
    std::vector<Task> local;
    local.swap(local_queue_);
    for (Task& task : local) std::move(task)();
  }
}

void Engine::RunQueuedWork() {
  std::vector<Task> batch;
  {
    MutexLock lock(&queue_mu_);
    batch.swap(queue_);
  }
  // Cork a burst so that its requests leave in full segments; never a single request. A burst
  // includes what inline callbacks submitted during the last zookeeper_process.
  const bool cork = batch.size() + local_queue_.size() > 1 && loop_connected_ && fd_ >= 0;
  int on = 1;
  if (cork) setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
  for (Task& task : batch) std::move(task)();
  RunLocalQueue();
  if (cork) {
    int off = 0;
    setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
  }
}

void Engine::Loop() {
  while (true) {
    RunQueuedWork();
    if (stopping_) break;
    if (replace_handle_ && absl::Now() >= next_interest_) ReplaceHandle();
    if (flush_parked_) FlushParked();

    absl::Time wake = absl::InfiniteFuture();
    if (!deadlines_.empty()) wake = std::min(wake, deadlines_.top().first);
    if (loss_deadline_) wake = std::min(wake, *loss_deadline_);
    if (!timers_.empty()) wake = std::min(wake, timers_.begin()->first.first);
    int fd = -1;
    int interest = 0;
    const absl::Time now = absl::Now();
    if (zh_ != nullptr && !replace_handle_ && now >= next_interest_ && !is_unrecoverable(zh_)) {
      struct timeval tv = {0, 0};
      int rc;
      {
        CLibraryLock library;
        rc = zookeeper_interest(zh_, &fd, &interest, &tv);
      }
      NoticeSilentDisconnect();
      const absl::Duration wait = absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
      if (rc != ZOK && rc != ZINVALIDSTATE) {
        // Connection attempt failed; the library moved on. Ask again soon but not in a spin.
        next_interest_ = now + absl::Milliseconds(10);
      } else if (fd < 0) {
        // Backing off before the next connection attempt: keep our own backoff so that an
        // early wakeup (a submission) does not start the attempt too soon.
        next_interest_ = now + std::max(wait, absl::Milliseconds(1));
      }
      wake = std::min(wake, now + wait);
    } else if (replace_handle_ || (zh_ != nullptr && now < next_interest_)) {
      wake = std::min(wake, next_interest_);
    }
    fd_ = fd;
    // Gauges as of this turn, published before its callbacks are handed out.
    metrics_.SetGauges(static_cast<int64_t>(entries_.size()), static_cast<int64_t>(parked_.size()),
                       static_cast<int64_t>(native_watches_.size()), watch_handles_);
    FlushOutbox();

    pollfd fds[2];
    fds[0] = {wakeup_fd_, POLLIN, 0};
    int nfds = 1;
    if (fd >= 0) {
      fds[1] = {fd, static_cast<short>(((interest & ZOOKEEPER_READ) ? POLLIN : 0) |
                                       ((interest & ZOOKEEPER_WRITE) ? POLLOUT : 0)),
                0};
      nfds = 2;
    }
    int timeout_ms = -1;
    if (wake != absl::InfiniteFuture()) {
      const absl::Duration left = wake - absl::Now();
      timeout_ms = left <= absl::ZeroDuration()
                       ? 0
                       : static_cast<int>(absl::ToInt64Milliseconds(left + absl::Microseconds(999)));
    }
    sleeping_.store(true);
    {
      MutexLock lock(&queue_mu_);
      if (!queue_.empty()) timeout_ms = 0;
    }
    if (!local_queue_.empty() || flush_parked_) timeout_ms = 0;
    const int ready = poll(fds, static_cast<nfds_t>(nfds), timeout_ms);
    sleeping_.store(false);
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      uint64_t value;
      [[maybe_unused]] ssize_t n = read(wakeup_fd_, &value, sizeof(value));
    }
    if (zh_ != nullptr && fd >= 0) {
      int events = 0;
      if (ready > 0 && nfds == 2) {
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) events |= ZOOKEEPER_READ;
        if (fds[1].revents & (POLLOUT | POLLERR)) events |= ZOOKEEPER_WRITE;
      }
      {
        // One frame per call: drain until the library reports nothing more.
        CLibraryLock library;
        int rc = zookeeper_process(zh_, events);
        while (rc == ZOK && (events & ZOOKEEPER_READ) && !replace_handle_) {
          rc = zookeeper_process(zh_, ZOOKEEPER_READ);
        }
      }
      NoticeSilentDisconnect();
      // Bytes from the server (a reply, an event, a ping's answer) on a connection that is
      // still up: the server was alive just now.
      if ((events & ZOOKEEPER_READ) && loop_connected_) RecordServerContact();
    }
    RunTimers();
  }
  CloseOnLoop();
}

void Engine::Shutdown() {
  bool first;
  {
    MutexLock lock(&state_mu_);
    first = !closed_;
    closed_ = true;
    if (!first) {
      if (OnLoopThread()) return;
      state_mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return loop_done_; });
    }
  }
  if (first) {
    Post([this] { stopping_ = true; });  // flushes the dispatcher's deferred requests first
    if (OnLoopThread()) {
      loop_thread_.detach();  // ends by itself after this callback returns
      return;
    }
    loop_thread_.join();
  }
  // Runs what is queued (terminal events) and waits for it, unless called on the dispatcher
  // thread (Close from a callback): then a later call, e.g. the destructor's, waits.
  if (dispatcher_ != nullptr) dispatcher_->Stop();
}

void Engine::CloseOnLoop() {
  const absl::Status cancelled = absl::CancelledError("client closed");
  // Parked requests never left: Cancelled. Requests in the C library: ZCLOSING → Cancelled.
  closing_rc_ = ZooError::kClosing;
  for (uint64_t id : std::deque<uint64_t>(std::move(parked_))) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    Entry entry = std::move(it->second);
    entries_.erase(it);
    Reply reply;
    reply.rc = ZooError::kClosing;
    reply.sent = false;
    reply.detail = "client closed before the request was sent";
    if (!entry.answered) Complete(entry, std::move(reply));
  }
  if (zh_ != nullptr) {
    zhandle_t* handle = zh_;
    zh_ = nullptr;
    // Under the library lock, as every call: a close normally takes a round trip, but waits up
    // to 1.5 s for an unresponsive server, stalling the other clients' loops meanwhile.
    CLibraryLock library;
    zookeeper_close(handle);  // sends closeSession (ephemerals go now) and answers the rest
  }
  // Whatever the library did not answer (it should have answered all) ends here too.
  for (auto& [id, entry] : entries_) {
    Reply reply;
    reply.rc = ZooError::kClosing;
    reply.detail = "client closed";
    if (!entry.answered) Complete(entry, std::move(reply));
  }
  entries_.clear();
  EndAllWatches(cancelled);
  // Timers belong to recipes waiting on something; let them see the closed client now.
  while (!timers_.empty()) {
    Task task = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    std::move(task)();
  }
  {
    MutexLock lock(&state_mu_);
    state_ = SessionState::kClosed;
    connected_ = false;
  }
  Emit({SessionState::kClosed, loop_session_id_, false});
  // Later submissions run on their caller's thread and complete with Cancelled there.
  std::vector<Task> late;
  {
    MutexLock lock(&queue_mu_);
    loop_ended_ = true;
    late.swap(queue_);
  }
  for (Task& task : late) std::move(task)();
  RunLocalQueue();
  FlushOutbox();
  MutexLock lock(&state_mu_);
  loop_done_ = true;
}

}  // namespace zk::internal
