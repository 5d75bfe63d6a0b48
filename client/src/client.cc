#include "zk/client.h"
#include "string_util.h"

#include <memory>
#include <random>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "zk/internal/sync.h"
#include "engine.h"
#include "persistent_watcher.h"
#include "validation.h"
#include "zk/internal/client_access.h"
#include "zk/path.h"

namespace zk {

using internal::Engine;
using internal::OpKind;
using internal::Reply;
using internal::Request;
using internal::WatchKind;

namespace {

constexpr char kFailedOpPayload[] = "type.zkcpp/zk.FailedOpIndex";

// Where a result goes: to the user's callback on the callback executor, or (blocking calls and
// internal continuations) straight to `done` on the loop thread.
template <typename T>
struct Sink {
  Callback<T> done;
  bool on_loop = false;
};

// Delivers `result` to `sink`. Must run on the loop thread (inside a continuation).
template <typename T>
void Finish(Engine& engine, Sink<T> sink, absl::StatusOr<T> result) {
  if (sink.on_loop) {
    std::move(sink.done)(std::move(result));
  } else {
    engine.Deliver([done = std::move(sink.done), result = std::move(result)]() mutable {
      std::move(done)(std::move(result));
    });
  }
}

// Delivers a result known before any I/O (an argument error), from the loop thread: never on
// the caller's stack, so an async call never runs its callback before returning.
template <typename T>
void FinishEarly(const std::shared_ptr<Engine>& engine, Sink<T> sink, absl::StatusOr<T> result) {
  internal::Task task = [engine, sink = std::move(sink), result = std::move(result)]() mutable {
    Finish<T>(*engine, std::move(sink), std::move(result));
  };
  // After close there is no loop: deliver on the caller's thread.
  if (!engine->TryPost(std::move(task))) std::move(task)();
}
template <typename T>
void FailEarly(const std::shared_ptr<Engine>& engine, Sink<T> sink, absl::Status status) {
  FinishEarly<T>(engine, std::move(sink), absl::StatusOr<T>(std::move(status)));
}

absl::Status ErrorOf(const Reply& reply, OpKind kind, std::string_view path) {
  return MakeZooStatus(reply.rc, OperationName(kind), path,
                       internal::IsWrite(kind) && reply.sent ? WriteSent::kYes : WriteSent::kNo,
                       reply.detail);
}

// Reply → result conversions of the reads (shared by plain and watched forms).
auto GetConverter(std::string path) {
  return [path = std::move(path)](Reply r) -> absl::StatusOr<GetResult> {
    if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kGet, path);
    return GetResult{std::move(r.data), r.stat.value_or(Stat{})};
  };
}
auto ExistsConverter(std::string path) {
  return [path = std::move(path)](Reply r) -> absl::StatusOr<std::optional<Stat>> {
    if (r.rc == ZooError::kNoNode) return std::optional<Stat>();
    if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kExists, path);
    return r.stat;
  };
}
auto ChildrenConverter(std::string path) {
  return [path = std::move(path)](Reply r) -> absl::StatusOr<ChildrenResult> {
    if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kGetChildren, path);
    return ChildrenResult{std::move(r.children), r.stat.value_or(Stat{})};
  };
}


// Submits one request whose reply `convert` turns into the sink's result.
template <typename T, typename Convert>
void SubmitOne(Engine& engine, std::unique_ptr<Request> request, Sink<T> sink, Convert convert) {
  request->complete_on_loop = sink.on_loop;
  request->done = [convert = std::move(convert), done = std::move(sink.done)](Reply reply) mutable {
    std::move(done)(convert(std::move(reply)));
  };
  engine.Submit(std::move(request));
}

std::unique_ptr<Request> NewRequest(OpKind kind, std::string_view path) {
  auto request = std::make_unique<Request>();
  request->kind = kind;
  request->path = std::string(path);
  return request;
}

// Blocks on an async operation started by `start(sink)`; the result is handed over on the loop
// thread. The engine's per-request deadlines bound the wait; the extra margin here only guards
// against a bug leaving a waiter forever.
template <typename T, typename Start>
absl::StatusOr<T> Blocking(Engine& engine, std::string_view op, std::string_view path,
                           Start start) {
  if (engine.OnLoopThread()) {
    return absl::FailedPreconditionError(internal::StrCat(
        op, " ", path, ": blocking call from an inline callback (the client's event-loop "
        "thread) would deadlock; use the Async form"));
  }
  struct State {
    internal::Notification done;
    std::optional<absl::StatusOr<T>> result;
  };
  auto state = std::make_shared<State>();
  start(Sink<T>{[state](absl::StatusOr<T> result) {
                  state->result = std::move(result);
                  state->done.NotifyFromOwner();
                },
                true});
  // Called from a dispatcher callback, the request may be waiting for the end of the batch.
  engine.FlushDeferredSubmissions();
  if (!state->done.WaitForNotificationWithTimeout(engine.operation_timeout() * 4 +
                                                  absl::Seconds(5))) {
    return absl::DeadlineExceededError(
        internal::StrCat(op, " ", path, ": no completion (internal error: please report)"));
  }
  return std::move(*state->result);
}

absl::Status StatusOnly(absl::StatusOr<std::monostate> result) { return result.status(); }

std::string ProtectedPrefix() {
  // One generator per thread, seeded from the OS: no lock (absl::BitGen's shared pool uses
  // spinlocks TSan cannot see in Debian's uninstrumented Abseil).
  thread_local std::mt19937_64 gen{(static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                   std::random_device{}()};
  const uint64_t hi = gen();
  const uint64_t lo = gen();
  // RFC 4122 version 4 layout, lower-case hex: 8-4-4-4-12.
  const uint64_t h = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;
  const uint64_t l = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  return internal::StrCat("_c_", absl::Hex(h >> 32, absl::kZeroPad8), "-",
                      absl::Hex((h >> 16) & 0xFFFF, absl::kZeroPad4), "-",
                      absl::Hex(h & 0xFFFF, absl::kZeroPad4), "-",
                      absl::Hex(l >> 48, absl::kZeroPad4), "-",
                      absl::Hex(l & 0xFFFFFFFFFFFFull, absl::kZeroPad12), "-");
}

// The multi-step create (create_parents and/or protect), run as loop-thread continuations.
class CreateFlow : public std::enable_shared_from_this<CreateFlow> {
 public:
  CreateFlow(std::shared_ptr<Engine> engine, std::string path, std::string data,
             CreateOptions options, Sink<CreateResult> sink)
      : engine_(std::move(engine)),
        path_(std::move(path)),
        data_(std::move(data)),
        options_(std::move(options)),
        sink_(std::move(sink)),
        deadline_(absl::Now() + engine_->operation_timeout()) {
    if (options_.protect) {
      prefix_ = ProtectedPrefix();
      parent_ = std::string(ParentPath(path_));
      create_path_ = JoinPath(parent_, internal::StrCat(prefix_, BaseName(path_)));
    } else {
      create_path_ = path_;
    }
  }

  void Start() { Create(); }
  // Ends the flow before it started (the client is closed).
  void Abort(absl::Status status) { Fail(std::move(status)); }

 private:
  static constexpr int kMaxAttempts = 8;

  std::unique_ptr<Request> Step(OpKind kind, std::string_view path) {
    auto request = NewRequest(kind, path);
    request->complete_on_loop = true;
    request->deadline = deadline_;
    return request;
  }

  void Create() {
    if (++attempts_ > kMaxAttempts) {
      return Fail(absl::AbortedError(internal::StrCat(
          "create ", path_, ": gave up after ", kMaxAttempts, " attempts")));
    }
    auto request = Step(OpKind::kCreate, create_path_);
    request->data = data_;
    request->create_flags = internal::CreateFlags(options_.mode);
    request->ttl_ms = options_.ttl ? options_.ttl->count() : 0;
    request->acl = options_.acl;
    session_at_create_ = engine_->session_id();
    request->done = [self = shared_from_this()](Reply reply) { self->OnCreated(std::move(reply)); };
    engine_->Submit(std::move(request));
  }

  void OnCreated(Reply reply) {
    if (reply.rc == ZooError::kOk) {
      return Succeed(CreateResult{std::move(reply.data), reply.stat.value_or(Stat{})});
    }
    if (reply.rc == ZooError::kNoNode && options_.create_parents && !parents_done_) {
      parents_done_ = true;
      return CreateParent(std::string(ParentPath(create_path_)));
    }
    if (options_.protect && reply.sent &&
        (reply.rc == ZooError::kConnectionLoss || reply.rc == ZooError::kOperationTimeout)) {
      maybe_created_ = true;  // sent, and no answer: the server may have applied it
    }
    if (options_.protect && reply.sent &&
        (reply.rc == ZooError::kConnectionLoss || reply.rc == ZooError::kSessionExpired)) {
      return FindOwnNode();
    }
    Fail(ErrorOf(reply, OpKind::kCreate, path_));
  }

  // Creates the missing ancestors of the target, top-down; existing ones are fine.
  void CreateParent(std::string target_parent) {
    std::vector<std::string> chain;
    for (std::string p = target_parent; p != "/"; p = std::string(ParentPath(p))) {
      chain.push_back(p);
    }
    ancestors_.assign(chain.rbegin(), chain.rend());
    CreateNextAncestor(0);
  }

  void CreateNextAncestor(size_t index) {
    if (index == ancestors_.size()) return Create();
    auto request = Step(OpKind::kCreate, ancestors_[index]);
    request->acl = options_.acl;
    request->done = [self = shared_from_this(), index](Reply reply) {
      if (reply.rc == ZooError::kOk || reply.rc == ZooError::kNodeExists) {
        return self->CreateNextAncestor(index + 1);
      }
      self->Fail(ErrorOf(reply, OpKind::kCreate, self->ancestors_[index]));
    };
    engine_->Submit(std::move(request));
  }

  // After a lost reply: list the parent (the request waits for the reconnect) and look for the
  // node carrying our prefix.
  void FindOwnNode() {
    auto request = Step(OpKind::kGetChildren, parent_);
    request->done = [self = shared_from_this()](Reply reply) {
      if (reply.rc != ZooError::kOk) {
        if (reply.rc == ZooError::kConnectionLoss) return self->FindOwnNode();
        return self->Fail(ErrorOf(reply, OpKind::kCreate, self->path_));
      }
      for (const std::string& child : reply.children) {
        if (std::string_view(child).starts_with(self->prefix_)) return self->OnFound(JoinPath(self->parent_, child));
      }
      self->Create();  // the create never happened: try again
    };
    engine_->Submit(std::move(request));
  }

  void OnFound(std::string found) {
    auto request = Step(OpKind::kExists, found);
    request->done = [self = shared_from_this(), found](Reply reply) {
      if (reply.rc == ZooError::kNoNode) return self->Create();  // gone with its session
      if (reply.rc != ZooError::kOk) return self->Fail(ErrorOf(reply, OpKind::kCreate, self->path_));
      const Stat stat = reply.stat.value_or(Stat{});
      const int64_t session = self->engine_->session_id();
      const bool ephemeral = self->options_.mode == CreateMode::kEphemeralSequential;
      const bool ours = ephemeral ? stat.ephemeral_owner == session
                                  : session == self->session_at_create_;
      if (ours) return self->Succeed(CreateResult{found, stat});
      // Created by an earlier session of ours: an orphan. Delete it, then create anew.
      auto del = self->Step(OpKind::kDelete, found);
      del->done = [self](Reply) { self->Create(); };
      self->engine_->Submit(std::move(del));
    };
    engine_->Submit(std::move(request));
  }

  void Succeed(CreateResult result) { Finish<CreateResult>(*engine_, std::move(sink_), std::move(result)); }
  void Fail(absl::Status status) {
    Finish<CreateResult>(*engine_, std::move(sink_), std::move(status));
    if (maybe_created_) RemoveOwnNode();
  }

  // After a failure that may have left our node on the server (e.g. the deadline passed
  // before the create's reply): the caller was told it failed, so the node must go, or a
  // recipe queued behind it would wait for it for the session's life. Runs in the background,
  // with no deadline: its requests wait for a connection; a lost session or a closed client
  // ends it (an ephemeral node goes with the session).
  void RemoveOwnNode() {
    auto list = NewRequest(OpKind::kGetChildren, parent_);
    list->complete_on_loop = true;
    list->deadline = absl::InfiniteFuture();
    list->done = [self = shared_from_this()](Reply reply) {
      if (reply.rc == ZooError::kConnectionLoss) return self->RemoveOwnNode();
      if (reply.rc != ZooError::kOk) return;
      for (const std::string& child : reply.children) {
        if (!std::string_view(child).starts_with(self->prefix_)) continue;
        auto del = NewRequest(OpKind::kDelete, JoinPath(self->parent_, child));
        del->complete_on_loop = true;
        del->deadline = absl::InfiniteFuture();
        del->done = [self](Reply deleted) {
          if (deleted.rc == ZooError::kConnectionLoss) self->RemoveOwnNode();
        };
        self->engine_->Submit(std::move(del));
        return;
      }
    };
    engine_->Submit(std::move(list));
  }

  const std::shared_ptr<Engine> engine_;
  const std::string path_;
  const std::string data_;
  const CreateOptions options_;
  Sink<CreateResult> sink_;
  const absl::Time deadline_;
  std::string prefix_;
  std::string parent_;
  std::string create_path_;
  std::vector<std::string> ancestors_;
  bool parents_done_ = false;
  int attempts_ = 0;
  int64_t session_at_create_ = 0;
  bool maybe_created_ = false;  // a create was sent and not answered (protect only)
};

absl::StatusOr<MultiResult> ToMultiResult(Reply reply, const std::vector<Op>& ops) {
  if (reply.rc == ZooError::kOk) {
    MultiResult result;
    for (internal::OpReply& op : reply.multi) {
      result.results.push_back(OpResult{std::move(op.path), op.stat});
    }
    return result;
  }
  for (size_t i = 0; i < reply.multi.size() && i < ops.size(); ++i) {
    const ZooError rc = reply.multi[i].rc;
    if (rc == ZooError::kOk || rc == ZooError::kRuntimeInconsistency) continue;
    if (static_cast<int>(rc) > static_cast<int>(ZooError::kApiError)) break;  // not per-op
    const auto [kind, path] = std::visit(
        [](const auto& o) -> std::pair<std::string_view, std::string_view> {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, op::Create>) return {"create", o.path};
          if constexpr (std::is_same_v<T, op::Delete>) return {"delete", o.path};
          if constexpr (std::is_same_v<T, op::Set>) return {"set", o.path};
          return {"check", o.path};
        },
        ops[i]);
    absl::Status status = MakeZooStatus(
        rc, "multi", "", WriteSent::kNo,
        internal::StrCat("op ", i + 1, " of ", ops.size(), " (", kind, " ", path, "): ",
                     ZooErrorDescription(rc), "; no op was applied"));
    status.SetPayload(kFailedOpPayload, absl::Cord(internal::StrCat(i)));
    return status;
  }
  return ErrorOf(reply, OpKind::kMulti, "");
}

}  // namespace

std::optional<size_t> FailedOpIndex(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kFailedOpPayload);
  size_t index = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &index)) return std::nullopt;
  return index;
}

// ---------------------------------------------------------------------------------------------

Client::Client(std::shared_ptr<internal::Engine> engine) : engine_(std::move(engine)) {}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  absl::StatusOr<std::shared_ptr<Engine>> engine = Engine::Start(std::move(options));
  if (!engine.ok()) return engine.status();
  return std::unique_ptr<Client>(new Client(*std::move(engine)));
}

Client::~Client() { engine_->Shutdown(); }

void Client::Close() { engine_->Shutdown(); }

absl::Status Client::WaitUntilConnected(std::chrono::milliseconds timeout) {
  return engine_->WaitUntilConnected(absl::FromChrono(timeout));
}

int64_t Client::session_id() const { return engine_->session_id(); }
std::string Client::session_password() const { return engine_->session_password(); }
std::chrono::milliseconds Client::negotiated_session_timeout() const {
  return absl::ToChronoMilliseconds(engine_->negotiated_session_timeout());
}
SessionState Client::state() const { return engine_->state(); }
ClientMetrics Client::Metrics() const { return engine_->Metrics(); }

Subscription Client::SubscribeSessionEvents(SessionCallback callback) {
  return engine_->SubscribeSessionEvents(std::move(callback));
}

// --- create -----------------------------------------------------------------------------------

namespace {

void StartCreate(const std::shared_ptr<Engine>& engine, std::string_view path,
                 std::string_view data, CreateOptions options, Sink<CreateResult> sink) {
  if (absl::Status s = internal::ValidateCreate(path, data, options); !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  if (options.create_parents || options.protect) {
    auto flow = std::make_shared<CreateFlow>(engine, std::string(path), std::string(data),
                                             std::move(options), std::move(sink));
    // On the loop thread, start now: the create is then queued before anything the caller
    // submits next, so callers can pipeline behind it (e.g. a listing of the parent).
    if (engine->OnLoopThread()) return flow->Start();
    internal::Task start = [flow] { flow->Start(); };
    if (!engine->TryPost(std::move(start))) {
      flow->Abort(absl::CancelledError(internal::StrCat("create ", path, ": client is closed")));
    }
    return;
  }
  auto request = NewRequest(OpKind::kCreate, path);
  request->data = std::string(data);
  request->create_flags = internal::CreateFlags(options.mode);
  request->ttl_ms = options.ttl ? options.ttl->count() : 0;
  request->acl = std::move(options.acl);
  SubmitOne(*engine, std::move(request), std::move(sink),
            [path = std::string(path)](Reply r) -> absl::StatusOr<CreateResult> {
              if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kCreate, path);
              return CreateResult{std::move(r.data), r.stat.value_or(Stat{})};
            });
}

}  // namespace

void Client::AsyncCreate(std::string_view path, std::string_view data, CreateOptions options,
                         Callback<CreateResult> done) {
  StartCreate(engine_, path, data, std::move(options), {std::move(done), false});
}

absl::StatusOr<CreateResult> Client::Create(std::string_view path, std::string_view data,
                                            CreateOptions options) {
  return Blocking<CreateResult>(*engine_, "create", path, [&](Sink<CreateResult> sink) {
    StartCreate(engine_, path, data, std::move(options), std::move(sink));
  });
}

// --- simple ops ---------------------------------------------------------------------------------

namespace {

absl::StatusOr<std::monostate> ToVoid(const Reply& r, OpKind kind, std::string_view path) {
  if (r.rc != ZooError::kOk) return ErrorOf(r, kind, path);
  return std::monostate{};
}

void StartDelete(const std::shared_ptr<Engine>& engine, std::string_view path,
                 std::optional<int32_t> version, Sink<std::monostate> sink) {
  absl::Status s = ValidatePath("delete", path);
  if (s.ok()) s = internal::ValidateVersion("delete", path, version);
  if (s.ok() && path == "/") s = absl::InvalidArgumentError("delete /: cannot delete the root");
  if (!s.ok()) return FailEarly(engine, std::move(sink), std::move(s));
  auto request = NewRequest(OpKind::kDelete, path);
  request->version = version.value_or(-1);
  SubmitOne(*engine, std::move(request), std::move(sink),
            [path = std::string(path)](Reply r) { return ToVoid(r, OpKind::kDelete, path); });
}

void StartExists(const std::shared_ptr<Engine>& engine, std::string_view path,
                 Sink<std::optional<Stat>> sink) {
  if (absl::Status s = ValidatePath("exists", path); !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  SubmitOne(*engine, NewRequest(OpKind::kExists, path), std::move(sink),
            ExistsConverter(std::string(path)));
}

void StartGet(const std::shared_ptr<Engine>& engine, std::string_view path, Sink<GetResult> sink) {
  if (absl::Status s = ValidatePath("get", path); !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  SubmitOne(*engine, NewRequest(OpKind::kGet, path), std::move(sink),
            GetConverter(std::string(path)));
}

void StartSet(const std::shared_ptr<Engine>& engine, std::string_view path, std::string_view data,
              std::optional<int32_t> version, Sink<Stat> sink) {
  absl::Status s = ValidatePath("set", path);
  if (s.ok()) s = internal::ValidateVersion("set", path, version);
  if (s.ok()) s = internal::ValidateFrameSize("set", path, data.size());
  if (!s.ok()) return FailEarly(engine, std::move(sink), std::move(s));
  auto request = NewRequest(OpKind::kSet, path);
  request->data = std::string(data);
  request->version = version.value_or(-1);
  SubmitOne(*engine, std::move(request), std::move(sink),
            [path = std::string(path)](Reply r) -> absl::StatusOr<Stat> {
              if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kSet, path);
              return r.stat.value_or(Stat{});
            });
}

void StartGetChildren(const std::shared_ptr<Engine>& engine, std::string_view path,
                      Sink<ChildrenResult> sink) {
  if (absl::Status s = ValidatePath("get_children", path); !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  SubmitOne(*engine, NewRequest(OpKind::kGetChildren, path), std::move(sink),
            ChildrenConverter(std::string(path)));
}

void StartGetAcl(const std::shared_ptr<Engine>& engine, std::string_view path,
                 Sink<AclResult> sink) {
  if (absl::Status s = ValidatePath("get_acl", path); !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  SubmitOne(*engine, NewRequest(OpKind::kGetAcl, path), std::move(sink),
            [path = std::string(path)](Reply r) -> absl::StatusOr<AclResult> {
              if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kGetAcl, path);
              return AclResult{std::move(r.acl), r.stat.value_or(Stat{})};
            });
}

void StartSetAcl(const std::shared_ptr<Engine>& engine, std::string_view path, AclList acl,
                 std::optional<int32_t> version, Sink<std::monostate> sink) {
  absl::Status s = ValidatePath("set_acl", path);
  if (s.ok()) s = internal::ValidateVersion("set_acl", path, version);
  if (s.ok()) s = internal::ValidateAcl("set_acl", path, acl);
  if (!s.ok()) return FailEarly(engine, std::move(sink), std::move(s));
  auto request = NewRequest(OpKind::kSetAcl, path);
  request->acl = std::move(acl);
  request->version = version.value_or(-1);
  SubmitOne(*engine, std::move(request), std::move(sink),
            [path = std::string(path)](Reply r) { return ToVoid(r, OpKind::kSetAcl, path); });
}

void StartMulti(const std::shared_ptr<Engine>& engine, std::vector<Op> ops,
                Sink<MultiResult> sink) {
  if (absl::Status s = internal::ValidateOps(ops); !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  if (ops.empty()) return FinishEarly<MultiResult>(engine, std::move(sink), MultiResult{});
  auto request = NewRequest(OpKind::kMulti, "");
  request->ops = ops;
  SubmitOne(*engine, std::move(request), std::move(sink),
            [ops = std::move(ops)](Reply r) { return ToMultiResult(std::move(r), ops); });
}

void StartSync(const std::shared_ptr<Engine>& engine, std::string_view path,
               Sink<std::monostate> sink) {
  if (absl::Status s = ValidatePath("sync", path); !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  SubmitOne(*engine, NewRequest(OpKind::kSync, path), std::move(sink),
            [path = std::string(path)](Reply r) { return ToVoid(r, OpKind::kSync, path); });
}

void StartAddAuth(const std::shared_ptr<Engine>& engine, std::string_view scheme,
                  std::string_view credential, Sink<std::monostate> sink) {
  if (scheme.empty()) {
    return FailEarly(engine, std::move(sink),
                     absl::InvalidArgumentError("add_auth: scheme is empty"));
  }
  auto request = NewRequest(OpKind::kAddAuth, "");
  request->scheme = std::string(scheme);
  request->data = std::string(credential);
  SubmitOne(*engine, std::move(request), std::move(sink),
            [scheme = std::string(scheme)](Reply r) -> absl::StatusOr<std::monostate> {
              if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kAddAuth, scheme);
              return std::monostate{};
            });
}

// Wraps a StatusCallback as the Callback<monostate> the helpers use.
Callback<std::monostate> FromStatusCallback(StatusCallback done) {
  return [done = std::move(done)](absl::StatusOr<std::monostate> r) mutable {
    std::move(done)(r.status());
  };
}

}  // namespace

void Client::AsyncDelete(std::string_view path, std::optional<int32_t> expected_version,
                         StatusCallback done) {
  StartDelete(engine_, path, expected_version, {FromStatusCallback(std::move(done)), false});
}
absl::Status Client::Delete(std::string_view path, std::optional<int32_t> expected_version) {
  return StatusOnly(Blocking<std::monostate>(*engine_, "delete", path, [&](auto sink) {
    StartDelete(engine_, path, expected_version, std::move(sink));
  }));
}

void Client::AsyncExists(std::string_view path, Callback<std::optional<Stat>> done) {
  StartExists(engine_, path, {std::move(done), false});
}
absl::StatusOr<std::optional<Stat>> Client::Exists(std::string_view path) {
  return Blocking<std::optional<Stat>>(*engine_, "exists", path,
                                       [&](auto sink) { StartExists(engine_, path, std::move(sink)); });
}

void Client::AsyncGet(std::string_view path, Callback<GetResult> done) {
  StartGet(engine_, path, {std::move(done), false});
}
absl::StatusOr<GetResult> Client::Get(std::string_view path) {
  return Blocking<GetResult>(*engine_, "get", path,
                             [&](auto sink) { StartGet(engine_, path, std::move(sink)); });
}

void Client::AsyncSet(std::string_view path, std::string_view data,
                      std::optional<int32_t> expected_version, Callback<Stat> done) {
  StartSet(engine_, path, data, expected_version, {std::move(done), false});
}
absl::StatusOr<Stat> Client::Set(std::string_view path, std::string_view data,
                                 std::optional<int32_t> expected_version) {
  return Blocking<Stat>(*engine_, "set", path, [&](auto sink) {
    StartSet(engine_, path, data, expected_version, std::move(sink));
  });
}

void Client::AsyncGetChildren(std::string_view path, Callback<ChildrenResult> done) {
  StartGetChildren(engine_, path, {std::move(done), false});
}
absl::StatusOr<ChildrenResult> Client::GetChildren(std::string_view path) {
  return Blocking<ChildrenResult>(*engine_, "get_children", path, [&](auto sink) {
    StartGetChildren(engine_, path, std::move(sink));
  });
}

void Client::AsyncGetAcl(std::string_view path, Callback<AclResult> done) {
  StartGetAcl(engine_, path, {std::move(done), false});
}
absl::StatusOr<AclResult> Client::GetAcl(std::string_view path) {
  return Blocking<AclResult>(*engine_, "get_acl", path,
                             [&](auto sink) { StartGetAcl(engine_, path, std::move(sink)); });
}

void Client::AsyncSetAcl(std::string_view path, AclList acl,
                         std::optional<int32_t> expected_aversion, StatusCallback done) {
  StartSetAcl(engine_, path, std::move(acl), expected_aversion,
              {FromStatusCallback(std::move(done)), false});
}
absl::Status Client::SetAcl(std::string_view path, AclList acl,
                            std::optional<int32_t> expected_aversion) {
  return StatusOnly(Blocking<std::monostate>(*engine_, "set_acl", path, [&](auto sink) {
    StartSetAcl(engine_, path, std::move(acl), expected_aversion, std::move(sink));
  }));
}

void Client::AsyncMulti(std::vector<Op> ops, Callback<MultiResult> done) {
  StartMulti(engine_, std::move(ops), {std::move(done), false});
}
absl::StatusOr<MultiResult> Client::Multi(std::vector<Op> ops) {
  return Blocking<MultiResult>(*engine_, "multi", "",
                               [&](auto sink) { StartMulti(engine_, std::move(ops), std::move(sink)); });
}

void Client::AsyncSync(std::string_view path, StatusCallback done) {
  StartSync(engine_, path, {FromStatusCallback(std::move(done)), false});
}
absl::Status Client::Sync(std::string_view path) {
  return StatusOnly(Blocking<std::monostate>(*engine_, "sync", path,
                                             [&](auto sink) { StartSync(engine_, path, std::move(sink)); }));
}

void Client::AsyncAddAuth(std::string_view scheme, std::string_view credential,
                          StatusCallback done) {
  StartAddAuth(engine_, scheme, credential, {FromStatusCallback(std::move(done)), false});
}
absl::Status Client::AddAuth(std::string_view scheme, std::string_view credential) {
  return StatusOnly(Blocking<std::monostate>(*engine_, "add_auth", scheme, [&](auto sink) {
    StartAddAuth(engine_, scheme, credential, std::move(sink));
  }));
}

// --- ZooKeeper 3.6+ ops -------------------------------------------------------------------------

namespace {

// The C library 3.8 has no call for the ops ZooKeeper added in 3.6: on its engine they end
// before any I/O.
absl::Status RequireNativeEngine(const Engine& engine, OpKind kind, std::string_view path) {
  if (engine.kind() == EngineKind::kNative) return absl::OkStatus();
  return absl::UnimplementedError(internal::StrCat(
      OperationName(kind), path.empty() ? "" : " ", path,
      ": the C library engine lacks this operation (ZooKeeper 3.6+); use the native engine "
      "(ClientOptions::engine = EngineKind::kNative, or ZKCPP_ENGINE=native)"));
}

// The checks before I/O of a 3.6+ op on a path: the path rules, then the engine.
absl::Status ValidateNativePathOp(const Engine& engine, OpKind kind, std::string_view path) {
  absl::Status s = ValidatePath(OperationName(kind), path);
  if (s.ok()) s = RequireNativeEngine(engine, kind, path);
  return s;
}

void StartWhoAmI(const std::shared_ptr<Engine>& engine, Sink<std::vector<ClientIdentity>> sink) {
  if (absl::Status s = RequireNativeEngine(*engine, OpKind::kWhoAmI, ""); !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  SubmitOne(*engine, NewRequest(OpKind::kWhoAmI, ""), std::move(sink),
            [](Reply r) -> absl::StatusOr<std::vector<ClientIdentity>> {
              if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kWhoAmI, "");
              return std::move(r.identities);
            });
}

void StartGetEphemerals(const std::shared_ptr<Engine>& engine, std::string_view prefix,
                        Sink<std::vector<std::string>> sink) {
  if (absl::Status s = ValidateNativePathOp(*engine, OpKind::kGetEphemerals, prefix); !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  SubmitOne(*engine, NewRequest(OpKind::kGetEphemerals, prefix), std::move(sink),
            [prefix = std::string(prefix)](Reply r) -> absl::StatusOr<std::vector<std::string>> {
              if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kGetEphemerals, prefix);
              return std::move(r.children);
            });
}

void StartGetAllChildrenNumber(const std::shared_ptr<Engine>& engine, std::string_view path,
                               Sink<int32_t> sink) {
  if (absl::Status s = ValidateNativePathOp(*engine, OpKind::kGetAllChildrenNumber, path);
      !s.ok()) {
    return FailEarly(engine, std::move(sink), std::move(s));
  }
  SubmitOne(*engine, NewRequest(OpKind::kGetAllChildrenNumber, path), std::move(sink),
            [path = std::string(path)](Reply r) -> absl::StatusOr<int32_t> {
              if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kGetAllChildrenNumber, path);
              return r.count;
            });
}

void StartMultiRead(const std::shared_ptr<Engine>& engine, std::vector<ReadOp> ops,
                    Sink<MultiReadResult> sink) {
  absl::Status s = internal::ValidateReadOps(ops);
  if (s.ok()) s = RequireNativeEngine(*engine, OpKind::kMultiRead, "");
  if (!s.ok()) return FailEarly(engine, std::move(sink), std::move(s));
  if (ops.empty()) return FinishEarly<MultiReadResult>(engine, std::move(sink), MultiReadResult{});
  auto request = NewRequest(OpKind::kMultiRead, "");
  request->read_ops = ops;
  SubmitOne(*engine, std::move(request), std::move(sink),
            [ops = std::move(ops)](Reply r) -> absl::StatusOr<MultiReadResult> {
              if (r.rc != ZooError::kOk) return ErrorOf(r, OpKind::kMultiRead, "");
              MultiReadResult result;
              for (size_t i = 0; i < r.multi.size() && i < ops.size(); ++i) {
                internal::OpReply& answer = r.multi[i];
                ReadOpResult& out = result.results.emplace_back();
                if (answer.rc != ZooError::kOk) {
                  out.status = MakeZooStatus(answer.rc, internal::ReadOpName(ops[i]),
                                             internal::ReadOpPath(ops[i]));
                  continue;
                }
                out.data = std::move(answer.data);
                out.stat = answer.stat;
                out.children = std::move(answer.children);
              }
              return result;
            });
}

}  // namespace

void Client::AsyncMultiRead(std::vector<ReadOp> ops, Callback<MultiReadResult> done) {
  StartMultiRead(engine_, std::move(ops), {std::move(done), false});
}
absl::StatusOr<MultiReadResult> Client::MultiRead(std::vector<ReadOp> ops) {
  return Blocking<MultiReadResult>(*engine_, "multi_read", "", [&](auto sink) {
    StartMultiRead(engine_, std::move(ops), std::move(sink));
  });
}

void Client::AsyncWhoAmI(Callback<std::vector<ClientIdentity>> done) {
  StartWhoAmI(engine_, {std::move(done), false});
}
absl::StatusOr<std::vector<ClientIdentity>> Client::WhoAmI() {
  return Blocking<std::vector<ClientIdentity>>(
      *engine_, "who_am_i", "", [&](auto sink) { StartWhoAmI(engine_, std::move(sink)); });
}

void Client::AsyncGetEphemerals(std::string_view prefix,
                                Callback<std::vector<std::string>> done) {
  StartGetEphemerals(engine_, prefix, {std::move(done), false});
}
absl::StatusOr<std::vector<std::string>> Client::GetEphemerals(std::string_view prefix) {
  return Blocking<std::vector<std::string>>(*engine_, "get_ephemerals", prefix, [&](auto sink) {
    StartGetEphemerals(engine_, prefix, std::move(sink));
  });
}

void Client::AsyncGetAllChildrenNumber(std::string_view path, Callback<int32_t> done) {
  StartGetAllChildrenNumber(engine_, path, {std::move(done), false});
}
absl::StatusOr<int32_t> Client::GetAllChildrenNumber(std::string_view path) {
  return Blocking<int32_t>(*engine_, "get_all_children_number", path, [&](auto sink) {
    StartGetAllChildrenNumber(engine_, path, std::move(sink));
  });
}

// --- watches ----------------------------------------------------------------------------------

namespace {

// Submits a read of `kind` that arms a one-shot watch for `on_event`; the sink gets the read's
// result together with the Watch handle, or the read's error (and the watch is dropped).
template <typename T, typename Convert>
void StartWatchedRead(const std::shared_ptr<Engine>& engine, OpKind kind, WatchKind watch_kind,
                      std::string_view op, std::string_view path, WatchCallback on_event,
                      Sink<Watched<T>> sink, Convert convert, bool events_on_loop = false) {
  absl::Status s = ValidatePath(op, path);
  if (s.ok()) s = engine->CheckWatchBudget(op, path, watch_kind);
  if (!s.ok()) return FailEarly(engine, std::move(sink), std::move(s));
  auto request = NewRequest(kind, path);
  request->watch = watch_kind;
  request->watch_slot =
      engine->NewWatchSlot(std::string(path), watch_kind, std::move(on_event), events_on_loop);
  std::shared_ptr<internal::CallbackSlot> slot = request->watch_slot;
  SubmitOne(*engine, std::move(request), std::move(sink),
            [convert = std::move(convert), slot](Reply r) -> absl::StatusOr<Watched<T>> {
              absl::StatusOr<T> result = convert(std::move(r));
              if (!result.ok()) return result.status();
              return Watched<T>{*std::move(result), Watch(slot)};
            });
}

}  // namespace

void Client::AsyncGetAndWatch(std::string_view path, WatchCallback on_event,
                              Callback<Watched<GetResult>> done) {
  StartWatchedRead<GetResult>(engine_, OpKind::kGet, WatchKind::kData, "get_and_watch", path,
                              std::move(on_event), {std::move(done), false},
                              GetConverter(std::string(path)));
}

absl::StatusOr<Watched<GetResult>> Client::GetAndWatch(std::string_view path,
                                                       WatchCallback on_event) {
  return Blocking<Watched<GetResult>>(*engine_, "get_and_watch", path, [&](auto sink) {
    StartWatchedRead<GetResult>(engine_, OpKind::kGet, WatchKind::kData, "get_and_watch", path,
                                std::move(on_event), std::move(sink),
                                GetConverter(std::string(path)));
  });
}


void Client::AsyncExistsAndWatch(std::string_view path, WatchCallback on_event,
                                 Callback<Watched<std::optional<Stat>>> done) {
  StartWatchedRead<std::optional<Stat>>(engine_, OpKind::kExists, WatchKind::kData,
                                        "exists_and_watch", path, std::move(on_event),
                                        {std::move(done), false}, ExistsConverter(std::string(path)));
}

absl::StatusOr<Watched<std::optional<Stat>>> Client::ExistsAndWatch(std::string_view path,
                                                                     WatchCallback on_event) {
  return Blocking<Watched<std::optional<Stat>>>(*engine_, "exists_and_watch", path, [&](auto sink) {
    StartWatchedRead<std::optional<Stat>>(engine_, OpKind::kExists, WatchKind::kData,
                                          "exists_and_watch", path, std::move(on_event),
                                          std::move(sink), ExistsConverter(std::string(path)));
  });
}

void Client::AsyncGetChildrenAndWatch(std::string_view path, WatchCallback on_event,
                                      Callback<Watched<ChildrenResult>> done) {
  StartWatchedRead<ChildrenResult>(engine_, OpKind::kGetChildren, WatchKind::kChild,
                                   "get_children_and_watch", path, std::move(on_event),
                                   {std::move(done), false}, ChildrenConverter(std::string(path)));
}

absl::StatusOr<Watched<ChildrenResult>> Client::GetChildrenAndWatch(std::string_view path,
                                                                    WatchCallback on_event) {
  return Blocking<Watched<ChildrenResult>>(*engine_, "get_children_and_watch", path, [&](auto sink) {
    StartWatchedRead<ChildrenResult>(engine_, OpKind::kGetChildren, WatchKind::kChild,
                                     "get_children_and_watch", path, std::move(on_event),
                                     std::move(sink), ChildrenConverter(std::string(path)));
  });
}

absl::StatusOr<Watch> Client::AddPersistentWatch(std::string_view path,
                                                 PersistentWatchOptions options,
                                                 WatchCallback on_event) {
  if (absl::Status s = ValidatePath("add_persistent_watch", path); !s.ok()) return s;
  return Blocking<Watch>(*engine_, "add_persistent_watch", path, [&](Sink<Watch> sink) {
    internal::PersistentWatcher::Start(engine_, std::string(path), options.recursive,
                                       std::move(on_event), std::move(sink.done));
  });
}

// --- helpers ----------------------------------------------------------------------------------

absl::Status Client::EnsurePath(std::string_view path) {
  ZK_RETURN_IF_ERROR(ValidatePath("ensure_path", path));
  if (path == "/") return absl::OkStatus();
  ZK_ASSIGN_OR_RETURN(std::optional<Stat> stat, Exists(path));
  if (stat) return absl::OkStatus();
  absl::StatusOr<CreateResult> created = Create(path, "", {.create_parents = true});
  if (created.ok() || IsNodeExists(created.status())) return absl::OkStatus();
  return created.status();
}

absl::Status Client::DeleteRecursive(std::string_view path) {
  ZK_RETURN_IF_ERROR(ValidatePath("delete_recursive", path));
  if (path == "/" || path == "/zookeeper" || path.starts_with("/zookeeper/")) {
    return absl::InvalidArgumentError(
        internal::StrCat("delete_recursive ", path, ": refusing to delete a reserved subtree"));
  }
  constexpr int kMaxRounds = 10;
  for (int round = 0; round < kMaxRounds; ++round) {
    absl::StatusOr<ChildrenResult> children = GetChildren(path);
    if (IsNoNode(children.status())) return absl::OkStatus();
    if (!children.ok()) return children.status();
    for (const std::string& child : children->children) {
      ZK_RETURN_IF_ERROR(DeleteRecursive(JoinPath(path, child)));
    }
    absl::Status deleted = Delete(path);
    if (deleted.ok() || IsNoNode(deleted)) return absl::OkStatus();
    if (!IsNotEmpty(deleted)) return deleted;  // NOTEMPTY: children were added meanwhile
  }
  return absl::FailedPreconditionError(internal::StrCat(
      "delete_recursive ", path, ": children kept appearing; gave up after ", kMaxRounds,
      " rounds"));
}


// --- internal access for recipes ---------------------------------------------------------------

namespace internal {

namespace {
template <typename T>
Sink<T> OnLoop(Callback<T> done) {
  return Sink<T>{std::move(done), true};
}
Sink<std::monostate> OnLoop(StatusCallback done) {
  return Sink<std::monostate>{FromStatusCallback(std::move(done)), true};
}
}  // namespace

void ClientAccess::Create(Client& client, std::string_view path, std::string_view data,
                          CreateOptions options, Callback<CreateResult> done) {
  StartCreate(client.engine_, path, data, std::move(options), OnLoop(std::move(done)));
}
void ClientAccess::Delete(Client& client, std::string_view path,
                          std::optional<int32_t> expected_version, StatusCallback done) {
  StartDelete(client.engine_, path, expected_version, OnLoop(std::move(done)));
}
void ClientAccess::Exists(Client& client, std::string_view path,
                          Callback<std::optional<Stat>> done) {
  StartExists(client.engine_, path, OnLoop(std::move(done)));
}
void ClientAccess::Get(Client& client, std::string_view path, Callback<GetResult> done) {
  StartGet(client.engine_, path, OnLoop(std::move(done)));
}
void ClientAccess::Set(Client& client, std::string_view path, std::string_view data,
                       std::optional<int32_t> expected_version, Callback<Stat> done) {
  StartSet(client.engine_, path, data, expected_version, OnLoop(std::move(done)));
}
void ClientAccess::GetChildren(Client& client, std::string_view path,
                               Callback<ChildrenResult> done) {
  StartGetChildren(client.engine_, path, OnLoop(std::move(done)));
}
void ClientAccess::Multi(Client& client, std::vector<Op> ops, Callback<MultiResult> done) {
  StartMulti(client.engine_, std::move(ops), OnLoop(std::move(done)));
}
void ClientAccess::ExistsAndWatch(Client& client, std::string_view path, WatchCallback on_event,
                                  Callback<Watched<std::optional<Stat>>> done) {
  StartWatchedRead<std::optional<Stat>>(client.engine_, OpKind::kExists, WatchKind::kData,
                                        "exists_and_watch", path, std::move(on_event),
                                        OnLoop(std::move(done)), ExistsConverter(std::string(path)),
                                        /*events_on_loop=*/true);
}
void ClientAccess::GetAndWatch(Client& client, std::string_view path, WatchCallback on_event,
                               Callback<Watched<GetResult>> done) {
  StartWatchedRead<GetResult>(client.engine_, OpKind::kGet, WatchKind::kData, "get_and_watch",
                              path, std::move(on_event), OnLoop(std::move(done)),
                              GetConverter(std::string(path)), /*events_on_loop=*/true);
}
void ClientAccess::GetChildrenAndWatch(Client& client, std::string_view path,
                                       WatchCallback on_event,
                                       Callback<Watched<ChildrenResult>> done) {
  StartWatchedRead<ChildrenResult>(client.engine_, OpKind::kGetChildren, WatchKind::kChild,
                                   "get_children_and_watch", path, std::move(on_event),
                                   OnLoop(std::move(done)), ChildrenConverter(std::string(path)),
                                   /*events_on_loop=*/true);
}
ClientAccess::Listener ClientAccess::NewListener() {
  auto slot = std::make_shared<CallbackSlot>(CallbackSlot::Callback(WatchCallback()), nullptr);
  return Listener{Watch(slot), slot};
}
void ClientAccess::CancelListener(const std::shared_ptr<CallbackSlot>& slot) { slot->Cancel(); }
bool ClientAccess::ListenerCancelled(const std::shared_ptr<CallbackSlot>& slot) {
  return slot->cancelled();
}
bool ClientAccess::RunListener(const std::shared_ptr<CallbackSlot>& slot,
                               absl::FunctionRef<void()> fn) {
  return slot->Run(fn);
}
bool ClientAccess::RunOnLoop(Client& client, LoopTask task) {
  return client.engine_->TryPost(std::move(task));
}
void ClientAccess::RunOnLoopAndWait(Client& client, absl::FunctionRef<void()> task) {
  if (client.engine_->OnLoopThread()) return task();
  // `task` lives on this stack while we wait; a queued task always runs, even during close.
  Notification ran;
  if (client.engine_->TryPost([task, &ran] {
        task();
        ran.Notify();
      })) {
    ran.WaitForNotification();
  }
}
void ClientAccess::DeliverToUser(Client& client, LoopTask task) {
  client.engine_->Deliver(std::move(task));
}
bool ClientAccess::OnLoopThread(const Client& client) { return client.engine_->OnLoopThread(); }
bool ClientAccess::ServerContactFresh(const Client& client) {
  return client.engine_->ServerContactFresh();
}
ClientAccess::LoopTimer ClientAccess::RunAfter(Client& client, std::chrono::milliseconds delay,
                                               LoopTask task) {
  const Engine::TimerKey key =
      client.engine_->RunAt(absl::Now() + absl::FromChrono(delay), std::move(task));
  return LoopTimer{key.first, key.second};
}
void ClientAccess::CancelTimer(Client& client, LoopTimer timer) {
  if (timer.id != 0) client.engine_->CancelTimer({timer.when, timer.id});
}
uint64_t ClientAccess::AddSessionListener(Client& client,
                                          std::function<void(const SessionEvent&)> listener) {
  return client.engine_->AddLoopSessionListener(std::move(listener));
}
void ClientAccess::RemoveSessionListener(Client& client, uint64_t id) {
  client.engine_->RemoveLoopSessionListener(id);
}

}  // namespace internal

}  // namespace zk
