#include "engine.h"
#include "string_util.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clib_transport.h"
#include "native_transport.h"
#include "sasl_session.h"
#include "zk/path.h"

namespace zk::internal {
namespace {

// ClientOptions::engine, or else ZKCPP_ENGINE, or else the C library, or the native engine with
// TLS or SASL (see zk/types.h).
absl::StatusOr<EngineKind> ChooseEngine(const ClientOptions& options) {
  if (options.engine) return *options.engine;
  const char* env = std::getenv("ZKCPP_ENGINE");
  if (env == nullptr || *env == '\0') {
    return options.tls || options.sasl ? EngineKind::kNative : EngineKind::kCLibrary;
  }
  if (std::string_view(env) == "clib") return EngineKind::kCLibrary;
  if (std::string_view(env) == "native") return EngineKind::kNative;
  return absl::InvalidArgumentError(
      StrCat("connect: ZKCPP_ENGINE is \"", env, "\"; expected \"native\" or \"clib\""));
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
          options_.session_timeout))) {
  for (const DigestCredential& credential : options_.digest_auth) {
    credentials_.emplace_back("digest", StrCat(credential.user, ":", credential.password));
  }
}

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
  absl::StatusOr<EngineKind> kind = ChooseEngine(options);
  if (!kind.ok()) return kind.status();
  if (*kind == EngineKind::kCLibrary && (options.tls || options.sasl)) {
    return absl::InvalidArgumentError(
        StrCat("connect: ", options.tls ? "tls" : "sasl", " is set but the engine is the C library (",
               options.engine ? "ClientOptions::engine" : "ZKCPP_ENGINE=clib",
               "), which has no TLS and no SASL; use EngineKind::kNative"));
  }
  if (options.sasl) {
    if (absl::Status valid = ValidateSaslOptions(*options.sasl); !valid.ok()) return valid;
  }
  std::shared_ptr<const TlsContext> tls;
  if (options.tls) {
    absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(*options.tls);
    if (!context.ok()) return context.status();
    tls = *std::move(context);
  }
  std::shared_ptr<Engine> engine(new Engine(std::move(options)));
  engine->wakeup_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (engine->wakeup_fd_ < 0) {
    return absl::InternalError(StrCat("connect: eventfd: ", std::strerror(errno)));
  }
  engine->kind_ = *kind;
  if (*kind == EngineKind::kNative) {
    engine->transport_ = std::make_unique<NativeTransport>(
        engine->options_, static_cast<TransportEvents*>(engine.get()), &engine->credentials_,
        std::move(tls));
  } else {
    engine->transport_ = std::make_unique<CLibTransport>(
        engine->options_, static_cast<TransportEvents*>(engine.get()), &engine->credentials_);
  }
  // The transport opens here, before the loop thread exists, so that a bad connect string
  // fails Connect() itself; the thread start orders it before every later use.
  if (absl::Status opened = engine->transport_->Open(); !opened.ok()) return opened;
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
    self->Loop();
    self->loop_thread_id_.store(std::thread::id());
  });
  return engine;
}

Engine::~Engine() {
  if (loop_thread_.joinable()) loop_thread_.detach();  // only when the last owner is the loop
  if (wakeup_fd_ >= 0) close(wakeup_fd_);
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
  if (stopping_ || closed() || !auth_failure_detail_.empty()) {
    Entry entry{std::move(request)};
    Reply reply;
    reply.sent = false;
    if (stopping_ || closed()) {
      reply.rc = ZooError::kClosing;
      reply.detail = "client is closed";
    } else {
      reply.rc = ZooError::kAuthFailed;
      reply.detail = auth_failure_detail_;
    }
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
  const ZooError rc = transport_->Send(id, *entries_.at(id).request);
  // The call may have answered requests re-entrantly (a send error makes the C library fail
  // every request, this one included), so the entry may be gone: look it up again.
  if (auto it = entries_.find(id); it != entries_.end()) {
    if (rc == ZooError::kOk) {
      it->second.sent = true;
    } else if (rc == ZooError::kInvalidState && !stopping_) {
      // No connection can take it now (expiry not yet processed): wait for the next session.
      parked_.push_back(id);
    } else {
      // Refused at once: the transport will not answer it.
      Reply reply;
      reply.rc = rc;
      OnReply(id, std::move(reply));
    }
  }
  // A send that hit a dead socket may have closed it without an event.
  NoticeSilentDisconnect();
}

void Engine::OnReply(uint64_t id, Reply reply) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry entry = std::move(it->second);
  entries_.erase(it);
  Request& r = *entry.request;
  if (reply.rc == ZooError::kClosing) reply.rc = closing_rc_;
  for (OpReply& op : reply.multi) {
    if (op.rc == ZooError::kClosing) op.rc = closing_rc_;
  }
  const ZooError error = reply.rc;
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
  if (r.kind == OpKind::kAddAuth && error == ZooError::kOk) {
    credentials_.emplace_back(r.scheme, r.data);
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

void Engine::FailParked(ZooError rc, std::string_view detail) {
  std::deque<uint64_t> parked;
  parked.swap(parked_);
  for (uint64_t id : parked) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    Entry entry = std::move(it->second);
    entries_.erase(it);
    Reply reply;
    reply.rc = rc;
    reply.sent = false;
    reply.detail = std::string(detail);
    if (!entry.answered) Complete(entry, std::move(reply));
  }
}

void Engine::FlushParked() {
  flush_parked_ = false;
  std::deque<uint64_t> parked;
  parked.swap(parked_);
  const bool burst = parked.size() > 1;
  if (burst) transport_->BeginBurst();
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
  if (burst) transport_->EndBurst();
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
      // The transport still owns the request: keep the entry until it answers.
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

// A transport may give a connection up without reporting it (the C library does: see
// clib_transport.cc). After every call into it, a connection it dropped silently is handled as
// one it reported: suspended in this loop turn, the loss timer started, the requests sent on
// it failed.
void Engine::NoticeSilentDisconnect() {
  if (!loop_connected_ || stopping_) return;
  const std::optional<TransportState> state = transport_->SilentlyDropped();
  if (!state) return;
  OnTransportState(*state);
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

void Engine::OnTransportState(TransportState state) {
  if (stopping_) return;
  if (state == TransportState::kConnected || state == TransportState::kReadOnly) {
    const SessionInfo session = transport_->session();
    const int64_t new_id = session.id;
    SessionEvent event{SessionState::kConnected, new_id, false};
    if (state == TransportState::kReadOnly) {
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
      session_password_ = session.password;
      negotiated_timeout_ = session.timeout;
      state_ = event.state;
    }
    SetConnected(true);
    RecordServerContact();
    contact_lease_ns_.store(absl::ToInt64Nanoseconds(negotiated_session_timeout() * 2 / 3));
    flush_parked_ = true;
    Emit(event);
  } else if (state == TransportState::kConnecting) {
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
  } else if (state == TransportState::kExpired) {
    DeclareLost(MakeZooStatus(ZooError::kSessionExpired, "session",
                              StrCat("0x", absl::Hex(loop_session_id_))));
  } else if (state == TransportState::kAuthFailed) {
    DeclareLost(MakeZooStatus(ZooError::kAuthFailed, "session",
                              StrCat("0x", absl::Hex(loop_session_id_))));
  }
}

void Engine::DeclareLost(absl::Status reason) {
  if (new_session_pending_ || stopping_ || !auth_failure_detail_.empty()) return;
  new_session_pending_ = true;  // done by the loop, outside of any transport call
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

void Engine::StartNewSession() {
  new_session_pending_ = false;
  // Requests the old session still holds are answered with kClosing: to their callers that
  // is a connection loss (a write's outcome is unknown).
  closing_rc_ = ZooError::kConnectionLoss;
  transport_->Close();
  if (absl::Status s = transport_->Open(); !s.ok()) {
    // The connect string was accepted once; failing now means a resolver problem. Retry soon.
    Log(LogLevel::kError, std::string(s.message()));
    RunAt(absl::Now() + absl::Seconds(1), [this] { new_session_pending_ = true; });
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
  const auto ready = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return connected_ || closed_ || !auth_failure_.ok();
  };
  if (!state_mu_.AwaitWithTimeout(ready, timeout)) {
    return absl::DeadlineExceededError(StrCat(
        "wait_until_connected ", options_.connect_string, ": not connected within ",
        absl::FormatDuration(timeout),
        last_connection_error_.empty() ? "" : "; last connection error: ", last_connection_error_));
  }
  if (closed_) return absl::CancelledError("wait_until_connected: client is closed");
  if (!connected_ && !auth_failure_.ok()) return auth_failure_;
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
  if (transport_->RestoresWatchesInAnyNumber()) return absl::OkStatus();
  if (watch_bytes_.load() + path.size() > options_.watch_budget_bytes) {
    return absl::ResourceExhaustedError(StrCat(
        op, " ", path, ": watch budget of ", options_.watch_budget_bytes,
        " path bytes exhausted (the reconnect SetWatches packet must stay under 1 MB)"));
  }
  return absl::OkStatus();
}

void Engine::OnWatchEvent(WatchEventType type, std::string_view path, WatchKind kind) {
  auto it = native_watches_.find(WatchKey{std::string(path), static_cast<int>(kind)});
  if (it == native_watches_.end()) return;
  std::vector<std::shared_ptr<CallbackSlot>> slots = std::move(it->second.slots);
  it->second.slots.clear();
  watch_handles_ -= static_cast<int64_t>(slots.size());
  watch_bytes_ -= std::min(watch_bytes_.load(), it->first.first.size());
  if (it->second.pending_arms == 0) native_watches_.erase(it);
  const WatchEvent event{type, std::string(path), absl::OkStatus()};
  for (auto& slot : slots) DeliverToSlot(slot, event);
}

void Engine::OnPersistentWatchEvent(WatchEventType type, std::string_view path,
                                    std::string_view watched_path, WatchKind kind) {
  auto it = native_watches_.find(WatchKey{std::string(watched_path), static_cast<int>(kind)});
  if (it == native_watches_.end()) return;
  const WatchEvent event{type, std::string(path), absl::OkStatus()};
  // A copy: a slot's callback may attach or detach slots of this watch.
  std::vector<std::shared_ptr<CallbackSlot>> slots = it->second.slots;
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
  transport_->RemoveWatches(path, kind);
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

void Engine::Log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(options_.log_level)) return;
  if (options_.log_sink) {
    options_.log_sink(level, message);
  } else {
    std::fprintf(stderr, "zkcpp: %.*s\n", static_cast<int>(message.size()), message.data());
  }
}

void Engine::OnServerContact() { RecordServerContact(); }

void Engine::OnConnectionError(std::string_view reason) {
  MutexLock lock(&state_mu_);
  last_connection_error_.assign(reason.data(), reason.size());
}

// Terminal (see SaslOptions): the transport has stopped; the session is lost and never
// replaced, and every request from now on fails with Unauthenticated.
void Engine::OnAuthenticationFailed(std::string_view reason) {
  if (stopping_) return;
  const std::string& user = options_.sasl ? options_.sasl->user : std::string();
  auth_failure_detail_ = StrCat("SASL authentication", user.empty() ? "" : " as ", user,
                                " failed: ", reason);
  loss_deadline_.reset();
  new_session_pending_ = false;
  SetConnected(false);
  {
    MutexLock lock(&state_mu_);
    state_ = SessionState::kLost;
    auth_failure_ = MakeZooStatus(ZooError::kAuthFailed, "wait_until_connected",
                                  options_.connect_string, WriteSent::kNo, auth_failure_detail_);
  }
  FailParked(ZooError::kAuthFailed, auth_failure_detail_);
  EndAllWatches(MakeZooStatus(ZooError::kAuthFailed, "session",
                              StrCat("0x", absl::Hex(loop_session_id_)), WriteSent::kNo,
                              auth_failure_detail_));
  Emit({SessionState::kLost, loop_session_id_, false});
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
  // Batch a burst so that its requests leave in full segments; never a single request. A
  // burst includes what inline callbacks submitted while the transport last processed input.
  const bool burst = batch.size() + local_queue_.size() > 1 && loop_connected_;
  if (burst) transport_->BeginBurst();
  for (Task& task : batch) std::move(task)();
  RunLocalQueue();
  if (burst) transport_->EndBurst();
}

void Engine::Loop() {
  while (true) {
    RunQueuedWork();
    if (stopping_) break;
    if (new_session_pending_) StartNewSession();
    if (flush_parked_) FlushParked();

    absl::Time wake = absl::InfiniteFuture();
    if (!deadlines_.empty()) wake = std::min(wake, deadlines_.top().first);
    if (loss_deadline_) wake = std::min(wake, *loss_deadline_);
    if (!timers_.empty()) wake = std::min(wake, timers_.begin()->first.first);
    const Transport::Interest interest = transport_->PollInterest(absl::Now());
    NoticeSilentDisconnect();
    wake = std::min(wake, interest.wake);
    // Gauges as of this turn, published before its callbacks are handed out.
    metrics_.SetGauges(static_cast<int64_t>(entries_.size()), static_cast<int64_t>(parked_.size()),
                       static_cast<int64_t>(native_watches_.size()), watch_handles_);
    FlushOutbox();

    pollfd fds[3];
    fds[0] = {wakeup_fd_, POLLIN, 0};
    int nfds = 1;
    const auto poll_for = [&](const Transport::FdInterest& wanted) {
      if (wanted.fd < 0) return -1;
      fds[nfds] = {wanted.fd,
                   static_cast<short>((wanted.read ? POLLIN : 0) | (wanted.write ? POLLOUT : 0)),
                   0};
      return nfds++;
    };
    const int connection_index = poll_for({interest.fd, interest.read, interest.write});
    const int probe_index = poll_for(interest.probe);
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
    const auto readable = [&](int index) {
      return ready > 0 && (fds[index].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    };
    const auto writable = [&](int index) {
      return ready > 0 && (fds[index].revents & (POLLOUT | POLLERR)) != 0;
    };
    if (connection_index >= 0) {
      transport_->Process(readable(connection_index), writable(connection_index));
      NoticeSilentDisconnect();
    }
    if (probe_index >= 0) {
      transport_->ProcessProbe(readable(probe_index), writable(probe_index));
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
  // Parked requests never left: Cancelled. Requests in the transport: kClosing → Cancelled.
  closing_rc_ = ZooError::kClosing;
  FailParked(ZooError::kClosing, "client closed before the request was sent");
  transport_->Close();  // sends closeSession (ephemerals go now) and answers the rest
  // Whatever the transport did not answer (it should have answered all) ends here too.
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
