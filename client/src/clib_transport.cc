#include "clib_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "string_util.h"

namespace zk::internal {
namespace {

// libzookeeper_st keeps process-global state that it does not synchronise (static log
// buffers, the xid counter): with several clients in one process, their loop threads must not
// be inside the library at the same time (TSan showed the races). Every entry into the library
// holds this lock; it is re-entrant per thread because our callbacks run inside the library
// and may call back into it (zoo_client_id in the session watcher).
std::mutex c_library_mu;
thread_local int c_library_depth = 0;

// The transport whose library call this thread is in. Completions of the C library carry only
// a `const void*` (we pass the request id), and log callbacks carry nothing, so the trampolines
// find their transport here.
thread_local CLibTransport* current_transport = nullptr;

// Held around every call into the library: takes the process-wide lock and names the
// transport the library's callbacks belong to.
class LibraryCall {
 public:
  explicit LibraryCall(CLibTransport* transport) : previous_(current_transport) {
    if (c_library_depth++ == 0) c_library_mu.lock();
    current_transport = transport;
  }
  ~LibraryCall() {
    current_transport = previous_;
    if (--c_library_depth == 0) c_library_mu.unlock();
  }
  LibraryCall(const LibraryCall&) = delete;
  LibraryCall& operator=(const LibraryCall&) = delete;

 private:
  CLibTransport* previous_;
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
  if (current_transport != nullptr) current_transport->OnCompletion(IdOf(data), rc, fill);
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
  if (type == ZOO_SESSION_EVENT) static_cast<CLibTransport*>(context)->OnSessionEvent(state);
}

void PathWatcher(zhandle_t* zh, int type, int state, const char* path, void* context) {
  if (type == ZOO_SESSION_EVENT || type == ZOO_NOTWATCHING_EVENT) return;  // we track those
  if (current_transport == nullptr || path == nullptr) return;
  current_transport->OnWatchEvent(type, path, context == &child_watch_tag ? WatchKind::kChild
                                                                          : WatchKind::kData);
}

void LogTrampoline(const char* message) {
  if (current_transport != nullptr) {
    current_transport->OnLog(message);
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

ZooLogLevel ToCLevel(LogLevel level) { return static_cast<ZooLogLevel>(static_cast<int>(level)); }

// The C library's log level is process-global: raise it to the most verbose level any client
// asked for; each client filters to its own level.
void RaiseGlobalLogLevel(LogLevel level) {
  LibraryCall call(nullptr);  // also guards `current`
  static int current = 0;
  if (static_cast<int>(level) > current) {
    current = static_cast<int>(level);
    zoo_set_debug_level(ToCLevel(level));
  }
}

void SetCork(int fd, bool on) {
  int value = on ? 1 : 0;
  setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof(value));
}

}  // namespace

// Buffers of one multi: the C library writes results into them until its completion runs.
struct CLibTransport::Multi {
  std::vector<zoo_op_t> ops;
  std::vector<zoo_op_result_t> results;
  std::vector<std::unique_ptr<CAcl>> acls;
  std::vector<std::string> path_buffers;
  std::vector<::Stat> stats;
  std::vector<bool> is_create;
  std::vector<bool> is_set;
};

CLibTransport::CLibTransport(const ClientOptions& options, TransportEvents* events,
                             const CredentialList* credentials)
    : options_(options),
      events_(events),
      credentials_(credentials),
      hosts_(options.chroot.empty() ? options.connect_string
                                    : StrCat(options.connect_string, options.chroot)) {
  RaiseGlobalLogLevel(options_.log_level);
}

CLibTransport::~CLibTransport() {
  if (zh_ != nullptr) Close();
}

absl::Status CLibTransport::Open() {
  LibraryCall call(this);
  const int flags = options_.allow_read_only ? ZOO_READONLY : 0;
  const int timeout_ms = static_cast<int>(options_.session_timeout.count());
  errno = 0;
  connected_ = false;
  unusable_ = false;
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
  for (const auto& [scheme, cert] : *credentials_) {
    zoo_add_auth(zh_, scheme.c_str(), cert.data(), static_cast<int>(cert.size()), &IgnoreReply,
                 nullptr);
  }
  fd_ = -1;
  next_interest_ = absl::InfinitePast();
  return absl::OkStatus();
}

void CLibTransport::Close() {
  if (zh_ == nullptr) return;
  zhandle_t* handle = zh_;
  zh_ = nullptr;
  connected_ = false;
  // Under the library lock, as every call: a close normally takes a round trip, but waits up
  // to 1.5 s for an unresponsive server, stalling the other clients' loops meanwhile.
  LibraryCall call(this);
  zookeeper_close(handle);  // sends closeSession (ephemerals go now) and answers the rest
  // Whatever the library did not answer (it answers all) would hold buffers forever.
  multis_.clear();
}

ZooError CLibTransport::Send(uint64_t id, const Request& r) {
  if (zh_ == nullptr) return ZooError::kInvalidState;
  // The library has no addWatch (engine.cc falls back to emulated persistent watches).
  if (r.kind == OpKind::kAddWatch) return ZooError::kUnimplemented;
  LibraryCall call(this);
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
    case OpKind::kAddWatch: break;  // refused above
    // ZooKeeper 3.6+ ops the C library 3.8 has no call for. Client refuses them before they
    // reach the engine (Engine::kind()); this only keeps the switch whole.
    case OpKind::kWhoAmI:
    case OpKind::kGetEphemerals:
    case OpKind::kGetAllChildrenNumber:
    case OpKind::kMultiRead: rc = ZUNIMPLEMENTED; break;
    case OpKind::kAddAuth:
      rc = zoo_add_auth(zh_, r.scheme.c_str(), r.data.data(), static_cast<int>(r.data.size()),
                        &OnVoid, data);
      break;
    case OpKind::kMulti: {
      auto storage = std::make_unique<Multi>();
      const size_t n = r.ops.size();
      storage->ops.resize(n);
      storage->results.resize(n);
      storage->path_buffers.resize(n);
      storage->stats.resize(n);
      storage->is_create.resize(n);
      storage->is_set.resize(n);
      for (size_t i = 0; i < n; ++i) {
        zoo_op_t& op = storage->ops[i];
        std::visit(
            [&](auto& o) {
              using T = std::decay_t<decltype(o)>;
              if constexpr (std::is_same_v<T, op::Create>) {
                storage->is_create[i] = true;
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
                storage->is_set[i] = true;
                zoo_set_op_init(&op, o.path.c_str(), o.data.data(),
                                static_cast<int>(o.data.size()), o.expected_version.value_or(-1),
                                &storage->stats[i]);
              } else {
                zoo_check_op_init(&op, o.path.c_str(), o.expected_version.value_or(-1));
              }
            },
            r.ops[i]);
      }
      Multi* multi = storage.get();
      multis_[id] = std::move(storage);
      rc = zoo_amulti(zh_, static_cast<int>(n), multi->ops.data(), multi->results.data(),
                      &OnVoid, data);
      if (rc != ZOK) multis_.erase(id);  // refused: no completion will run
      break;
    }
  }
  return static_cast<ZooError>(rc);
}

void CLibTransport::OnCompletion(uint64_t id, int rc, const std::function<void(Reply&)>& fill) {
  Reply reply;
  reply.rc = static_cast<ZooError>(rc);
  // As a request's own result (not a multi's per-op code), RUNTIMEINCONSISTENCY means the
  // library dropped the connection over a reply it did not expect (after a silent drop, the
  // answers to the requests of the old connection never come): a connection loss.
  if (reply.rc == ZooError::kRuntimeInconsistency) reply.rc = ZooError::kConnectionLoss;
  auto multi = multis_.extract(id);
  if (reply.rc == ZooError::kOk || !multi.empty()) fill(reply);
  if (!multi.empty()) {
    const Multi& storage = *multi.mapped();
    // Codes of a reply the server sent carry per-op results; codes the library made up (a lost
    // connection, a close, an expiry) leave them untouched.
    const ZooError error = reply.rc;
    const bool per_op_results =
        error == ZooError::kOk ||
        (static_cast<int>(error) <= static_cast<int>(ZooError::kApiError) &&
         error != ZooError::kClosing && error != ZooError::kSessionExpired &&
         error != ZooError::kAuthFailed);
    for (size_t i = 0; i < storage.results.size(); ++i) {
      OpReply op_reply;
      op_reply.rc = per_op_results ? static_cast<ZooError>(storage.results[i].err) : error;
      if (storage.is_create[i] && storage.results[i].err == ZOK && error == ZooError::kOk) {
        op_reply.path = storage.path_buffers[i].c_str();
      }
      if (storage.is_set[i] && storage.results[i].err == ZOK && error == ZooError::kOk) {
        op_reply.stat = ToStat(&storage.stats[i]);
      }
      reply.multi.push_back(std::move(op_reply));
    }
  }
  events_->OnReply(id, std::move(reply));
}

void CLibTransport::RemoveWatches(const std::string& path, WatchKind kind) {
  if (zh_ == nullptr || !connected_) return;
  LibraryCall call(this);
  // One context per kind means ours are the only watchers of (path, kind): removing them all
  // (removeWatches, op 18) also removes the server-side watch.
  zoo_aremove_all_watches(zh_, path.c_str(),
                          kind == WatchKind::kChild ? ZWATCHTYPE_CHILD : ZWATCHTYPE_DATA, 0,
                          // zookeeper.h 3.8 types this parameter as a pointer to a function
                          // pointer, but the library stores and calls it as the function
                          // pointer itself.
                          reinterpret_cast<void_completion_t*>(&IgnoreReply), nullptr);
}

Transport::Interest CLibTransport::PollInterest(absl::Time now) {
  Interest interest;
  if (zh_ == nullptr || is_unrecoverable(zh_)) {
    fd_ = -1;
    return interest;
  }
  if (now < next_interest_) {
    fd_ = -1;
    interest.wake = next_interest_;
    return interest;
  }
  int fd = -1;
  int events = 0;
  struct timeval tv = {0, 0};
  int rc;
  {
    LibraryCall call(this);
    rc = zookeeper_interest(zh_, &fd, &events, &tv);
  }
  const absl::Duration wait = absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
  if (rc != ZOK && rc != ZINVALIDSTATE) {
    // Connection attempt failed; the library moved on. Ask again soon but not in a spin.
    next_interest_ = now + absl::Milliseconds(10);
  } else if (fd < 0) {
    // Backing off before the next connection attempt: keep our own backoff so that an
    // early wakeup (a submission) does not start the attempt too soon.
    next_interest_ = now + std::max(wait, absl::Milliseconds(1));
  }
  fd_ = fd;
  interest.fd = fd;
  interest.read = (events & ZOOKEEPER_READ) != 0;
  interest.write = (events & ZOOKEEPER_WRITE) != 0;
  interest.wake = now + wait;
  return interest;
}

void CLibTransport::Process(bool readable, bool writable) {
  if (zh_ == nullptr || fd_ < 0) return;
  const int events = (readable ? ZOOKEEPER_READ : 0) | (writable ? ZOOKEEPER_WRITE : 0);
  {
    // One frame per call: drain until the library reports nothing more.
    LibraryCall call(this);
    zhandle_t* handle = zh_;
    int rc = zookeeper_process(handle, events);
    while (rc == ZOK && readable && zh_ == handle && !unusable_) {
      rc = zookeeper_process(handle, ZOOKEEPER_READ);
    }
  }
  // Bytes from the server (a reply, an event, a ping's answer) on a connection that is
  // still up: the server was alive just now.
  if (readable && connected_) events_->OnServerContact();
}

void CLibTransport::BeginBurst() {
  if (++burst_depth_ == 1 && fd_ >= 0) {
    SetCork(fd_, true);
    corked_ = true;
  }
}

void CLibTransport::EndBurst() {
  if (--burst_depth_ == 0 && corked_) {
    SetCork(fd_, false);
    corked_ = false;
  }
}

// libzookeeper 3.8 gives a connection up on some paths without any session event: a send that
// fails (nonblocking_send, on every request) closes the socket and sets NOTCONNECTED, and the
// reconnect attempts that follow raise nothing either, since the handle no longer counts as
// connected. Trusting its events alone, a lock holder would be told nothing for as long as the
// ensemble stays unreachable. So after every call into the library its state is compared with
// ours, and a connection it dropped silently is reported as one it announced.
std::optional<TransportState> CLibTransport::SilentlyDropped() {
  if (!connected_ || zh_ == nullptr) return std::nullopt;
  const int state = zoo_state(zh_);
  if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE) return std::nullopt;
  OnLog(StrCat("ZOO_INFO@zkcpp: the C library dropped the connection of session 0x",
               absl::Hex(session_.id), " without an event (state ", state,
               "); handling it as a connection loss")
            .c_str());
  connected_ = false;
  if (state == ZOO_EXPIRED_SESSION_STATE) return TransportState::kExpired;
  if (state == ZOO_AUTH_FAILED_STATE) return TransportState::kAuthFailed;
  return TransportState::kConnecting;
}

SessionInfo CLibTransport::session() const { return session_; }

void CLibTransport::OnSessionEvent(int state) {
  if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE) {
    const clientid_t* id = zoo_client_id(zh_);
    session_.id = id != nullptr ? id->client_id : 0;
    session_.password.assign(id != nullptr ? id->passwd : "", id != nullptr ? 16 : 0);
    session_.timeout = absl::Milliseconds(zoo_recv_timeout(zh_));
    connected_ = true;
    events_->OnTransportState(state == ZOO_READONLY_STATE ? TransportState::kReadOnly
                                                          : TransportState::kConnected);
  } else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE) {
    connected_ = false;
    events_->OnTransportState(TransportState::kConnecting);
  } else if (state == ZOO_EXPIRED_SESSION_STATE) {
    connected_ = false;
    unusable_ = true;
    events_->OnTransportState(TransportState::kExpired);
  } else if (state == ZOO_AUTH_FAILED_STATE) {
    connected_ = false;
    unusable_ = true;
    events_->OnTransportState(TransportState::kAuthFailed);
  }
}

void CLibTransport::OnWatchEvent(int type, const char* path, WatchKind kind) {
  WatchEventType event = WatchEventType::kChildrenChanged;
  if (type == ZOO_CREATED_EVENT) {
    event = WatchEventType::kCreated;
  } else if (type == ZOO_DELETED_EVENT) {
    event = WatchEventType::kDeleted;
  } else if (type == ZOO_CHANGED_EVENT) {
    event = WatchEventType::kDataChanged;
  }
  events_->OnWatchEvent(event, path, kind);
}

void CLibTransport::OnLog(const char* message) {
  std::string_view text(message);
  LogLevel level = LogLevel::kDebug;
  if (Contains(text, "ZOO_ERROR@")) {
    level = LogLevel::kError;
  } else if (Contains(text, "ZOO_WARN@")) {
    level = LogLevel::kWarning;
  } else if (Contains(text, "ZOO_INFO@")) {
    level = LogLevel::kInfo;
  }
  events_->Log(level, text);
}

}  // namespace zk::internal
