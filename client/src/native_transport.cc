#include "native_transport.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <variant>

#include "reply_decoder.h"
#include "string_util.h"
#include "validation.h"
#include "zk/proto/connect.h"
#include "zk/proto/constants.h"
#include "zk/proto/headers.h"
#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"
#include "zk/proto/node_ops.h"
#include "zk/proto/records.h"
#include "zk/proto/session_ops.h"
#include "zk/path.h"

namespace zk::internal {
namespace {

namespace pop = ::zk::proto::op;

// A SetWatches frame carries at most this many path bytes: far under any frame limit, as the
// Java client does, so that a reconnect restores any number of watches.
constexpr size_t kSetWatchesFrameBytes = 128 * 1024;
// Reconnect backoff after failed attempts: doubles from the first to the last, with jitter.
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(10);
constexpr absl::Duration kMaxBackoff = absl::Seconds(1);
// While read-only: the first probe for a read-write server after this long, each next one
// after twice as long as the last, up to the maximum; a probe gives up after kProbeTimeout
// (the Java client's figures).
constexpr absl::Duration kFirstProbeInterval = absl::Milliseconds(100);
constexpr absl::Duration kMaxProbeInterval = absl::Seconds(60);
constexpr absl::Duration kProbeTimeout = absl::Seconds(1);
// How long Close waits for the answer to closeSession (the C library waits as long).
constexpr absl::Duration kCloseWait = absl::Milliseconds(1500);
// ZooKeeper's WatcherType of removeWatches.
constexpr int32_t kWatcherChildren = 1;
constexpr int32_t kWatcherData = 2;
constexpr int32_t kWatcherAny = 3;
// addWatch modes.
constexpr int32_t kAddWatchPersistent = 0;
constexpr int32_t kAddWatchPersistentRecursive = 1;

std::vector<proto::Acl> ToProtoAcls(const AclList& acl) {
  std::vector<proto::Acl> out;
  out.reserve(acl.size());
  for (const Acl& entry : acl) out.push_back({entry.perms, {entry.id.scheme, entry.id.id}});
  return out;
}

// The opcode the C library uses for a create of `flags` (a CreateMode number).
int32_t CreateOpcode(int flags) {
  if (flags == 4) return pop::kCreateContainer;
  if (flags == 5 || flags == 6) return pop::kCreateTtl;
  return pop::kCreate2;
}

int32_t OpcodeOf(const Request& r) {
  switch (r.kind) {
    case OpKind::kCreate: return CreateOpcode(r.create_flags);
    case OpKind::kDelete: return pop::kDelete;
    case OpKind::kExists: return pop::kExists;
    case OpKind::kGet: return pop::kGetData;
    case OpKind::kSet: return pop::kSetData;
    case OpKind::kGetChildren: return pop::kGetChildren2;
    case OpKind::kGetAcl: return pop::kGetAcl;
    case OpKind::kSetAcl: return pop::kSetAcl;
    case OpKind::kSync: return pop::kSync;
    case OpKind::kAddAuth: return pop::kAuth;
    case OpKind::kMulti: return pop::kMulti;
    case OpKind::kWhoAmI: return pop::kWhoAmI;
    case OpKind::kGetEphemerals: return pop::kGetEphemerals;
    case OpKind::kGetAllChildrenNumber: return pop::kGetAllChildrenNumber;
    case OpKind::kMultiRead: return pop::kMultiRead;
    case OpKind::kAddWatch: return pop::kAddWatch;
  }
  return pop::kError;
}

std::string ErrnoText(int error) { return std::strerror(error); }

}  // namespace

NativeTransport::NativeTransport(const ClientOptions& options, TransportEvents* events,
                                 const CredentialList* credentials,
                                 std::shared_ptr<const TlsContext> tls)
    : options_(options),
      events_(events),
      credentials_(credentials),
      tls_context_(std::move(tls)),
      random_(std::random_device{}()),
      decoder_(static_cast<int32_t>(std::min<size_t>(options.max_frame_bytes, INT32_MAX))) {}

NativeTransport::~NativeTransport() { CloseSocket(); }

absl::Status NativeTransport::Open() {
  if (!hosts_) {
    absl::StatusOr<std::vector<HostPort>> hosts = ParseHosts(options_.connect_string);
    if (!hosts.ok()) return hosts.status();
    std::optional<absl::Duration> interval;
    if (options_.host_resolution_interval) {
      interval = absl::FromChrono(*options_.host_resolution_interval);
    }
    hosts_.emplace(std::move(*hosts), interval);
    if (absl::Status resolved = hosts_->Resolve(); !resolved.ok()) {
      hosts_.reset();
      return absl::InvalidArgumentError(
          StrCat("connect ", options_.connect_string, ": ", resolved.message()));
    }
  }
  session_ = SessionInfo{};
  session_.password.assign(16, '\0');
  seen_read_write_server_ = false;
  last_zxid_ = 0;
  data_watches_.clear();
  exist_watches_.clear();
  child_watches_.clear();
  persistent_watches_.clear();
  recursive_watches_.clear();
  failed_attempts_ = 0;
  phase_ = Phase::kBackoff;
  backoff_until_ = absl::InfinitePast();
  return absl::OkStatus();
}

void NativeTransport::Close() {
  // Requests in flight are answered now; only the session's end is waited for.
  AnswerHeld(ZooError::kClosing, "");
  if ((phase_ == Phase::kConnected || phase_ == Phase::kAuthenticating) && fd_ >= 0) {
    // closeSession ends the session now (its ephemerals go) instead of at its timeout.
    const int32_t xid = NextXid();
    proto::JuteWriter writer;
    proto::RequestHeader{xid, pop::kCloseSession}.Encode(writer);
    Queue(writer.TakeFrame());
    const absl::Time deadline = absl::Now() + kCloseWait;
    bool answered = false;
    while (!answered && fd_ >= 0 && absl::Now() < deadline) {
      const bool want_write = out_offset_ < out_.size();
      pollfd pfd{fd_, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
      if (tls_ != nullptr && tls_->HasBufferedData()) {
        pfd.revents = POLLIN;  // decrypted bytes wait in OpenSSL, where poll cannot see them
      } else {
        const int left_ms = static_cast<int>(
            absl::ToInt64Milliseconds(deadline - absl::Now() + absl::Microseconds(999)));
        if (poll(&pfd, 1, std::max(left_ms, 0)) <= 0) break;
      }
      if (pfd.revents & POLLOUT) WriteOut();
      if (fd_ < 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[4096];
      const ssize_t n = ReadSome(buffer, sizeof(buffer));
      if (n < 0 && errno == EAGAIN) continue;
      if (n <= 0) break;
      decoder_.Append(std::string_view(buffer, static_cast<size_t>(n)));
      std::string_view frame;
      proto::FrameDecoder::Result result = proto::FrameDecoder::Result::kNeedMore;
      while (!answered &&
             (result = decoder_.NextView(&frame)) == proto::FrameDecoder::Result::kFrame) {
        proto::JuteReader reader(frame);
        proto::ReplyHeader header;
        header.Decode(reader);
        answered = reader.ok() && header.xid == xid;
      }
      if (!answered && result == proto::FrameDecoder::Result::kError) break;
    }
  }
  CloseSocket();
  phase_ = Phase::kIdle;
  reported_connected_ = false;
}

ZooError NativeTransport::Send(uint64_t id, const Request& r) {
  if (phase_ != Phase::kConnected) return ZooError::kInvalidState;
  proto::JuteWriter writer;
  if (r.kind == OpKind::kAddAuth) {
    proto::RequestHeader{proto::xid::kAuth, pop::kAuth}.Encode(writer);
    proto::AuthPacket{0, r.scheme, r.data}.Encode(writer);
    Queue(writer.TakeFrame());
    auth_waiting_.push_back(id);
    return ZooError::kOk;
  }
  const int32_t opcode = OpcodeOf(r);
  const int32_t xid = NextXid();
  proto::RequestHeader{xid, opcode}.Encode(writer);
  const std::string path = ServerPath(r.path);
  const bool watch = r.watch != WatchKind::kNone;
  switch (r.kind) {
    case OpKind::kCreate: {
      proto::CreateRequest create{path, r.data, false, ToProtoAcls(r.acl), r.create_flags};
      if (opcode == pop::kCreateTtl) {
        proto::CreateTtlRequest{std::move(create), r.ttl_ms}.Encode(writer);
      } else {
        create.Encode(writer);
      }
      break;
    }
    case OpKind::kDelete: proto::DeleteRequest{path, r.version}.Encode(writer); break;
    case OpKind::kExists:
    case OpKind::kGet:
    case OpKind::kGetChildren: proto::PathWatchRequest{path, watch}.Encode(writer); break;
    case OpKind::kSet: proto::SetDataRequest{path, r.data, false, r.version}.Encode(writer); break;
    case OpKind::kGetAcl:
    case OpKind::kSync:
    case OpKind::kGetAllChildrenNumber:
    // The server matches the prefix against full paths, so the chroot goes in front of it
    // (the Java client 3.8 sends it bare, and returns server paths); paths outside the chroot
    // that the prefix still matches ("/app" matches "/apple") are dropped by the reply decoder.
    case OpKind::kGetEphemerals: proto::PathRequest{path}.Encode(writer); break;
    case OpKind::kWhoAmI: break;  // no body
    case OpKind::kSetAcl:
      proto::SetAclRequest{path, ToProtoAcls(r.acl), r.version}.Encode(writer);
      break;
    case OpKind::kAddAuth: break;  // above
    case OpKind::kAddWatch:
      proto::AddWatchRequest{path, r.watch == WatchKind::kPersistentRecursive
                                       ? kAddWatchPersistentRecursive
                                       : kAddWatchPersistent}
          .Encode(writer);
      break;
    case OpKind::kMulti:
      for (const Op& op : r.ops) {
        std::visit(
            [&](const auto& o) {
              using T = std::decay_t<decltype(o)>;
              if constexpr (std::is_same_v<T, op::Create>) {
                proto::MultiHeader{pop::kCreate, false, -1}.Encode(writer);
                proto::CreateRequest{ServerPath(o.path), o.data, false, ToProtoAcls(o.acl),
                                     static_cast<int32_t>(o.mode)}
                    .Encode(writer);
              } else if constexpr (std::is_same_v<T, op::Delete>) {
                proto::MultiHeader{pop::kDelete, false, -1}.Encode(writer);
                proto::DeleteRequest{ServerPath(o.path), o.expected_version.value_or(-1)}
                    .Encode(writer);
              } else if constexpr (std::is_same_v<T, op::Set>) {
                proto::MultiHeader{pop::kSetData, false, -1}.Encode(writer);
                proto::SetDataRequest{ServerPath(o.path), o.data, false,
                                      o.expected_version.value_or(-1)}
                    .Encode(writer);
              } else {
                proto::MultiHeader{pop::kCheck, false, -1}.Encode(writer);
                proto::CheckVersionRequest{ServerPath(o.path), o.expected_version.value_or(-1)}
                    .Encode(writer);
              }
            },
            op);
      }
      proto::MultiHeader{-1, true, -1}.Encode(writer);
      break;
    case OpKind::kMultiRead:
      for (const ReadOp& read : r.read_ops) {
        const int32_t type =
            std::holds_alternative<op::Get>(read) ? pop::kGetData : pop::kGetChildren;
        proto::MultiHeader{type, false, -1}.Encode(writer);
        proto::PathWatchRequest{ServerPath(ReadOpPath(read)), false}.Encode(writer);
      }
      proto::MultiHeader{-1, true, -1}.Encode(writer);
      break;
  }
  Queue(writer.TakeFrame());
  pending_.push_back(Pending{xid, id, &r});
  return ZooError::kOk;
}

void NativeTransport::RemoveWatches(const std::string& path, WatchKind kind) {
  int32_t type = kWatcherData;
  bool had = false;
  switch (kind) {
    case WatchKind::kNone: return;
    case WatchKind::kChild:
    case WatchKind::kData:
      if (kind == WatchKind::kChild) {
        type = kWatcherChildren;
        had = child_watches_.erase(path) > 0;
      } else {
        had = (data_watches_.erase(path) + exist_watches_.erase(path)) > 0;
      }
      // A persistent watch on the same path shares the server's entry: keep it.
      if (persistent_watches_.contains(path) || recursive_watches_.contains(path)) return;
      break;
    case WatchKind::kPersistent:
    case WatchKind::kPersistentRecursive: {
      auto& table = kind == WatchKind::kPersistent ? persistent_watches_ : recursive_watches_;
      had = table.erase(path) > 0;
      // The server keeps one entry per (path, table) for the session: removing a persistent
      // watch removes any one-shot watch on the same path too. Leave it then; its events find
      // no watcher here, and the next reconnect does not restore it.
      const auto& other = kind == WatchKind::kPersistent ? recursive_watches_ : persistent_watches_;
      if (data_watches_.contains(path) || exist_watches_.contains(path) ||
          child_watches_.contains(path) || other.contains(path)) {
        return;
      }
      type = kWatcherAny;
      break;
    }
  }
  if (!had || phase_ != Phase::kConnected) return;
  const int32_t xid = NextXid();
  proto::JuteWriter writer;
  proto::RequestHeader{xid, pop::kRemoveWatches}.Encode(writer);
  proto::RemoveWatchesRequest{ServerPath(path), type}.Encode(writer);
  Queue(writer.TakeFrame());
  pending_.push_back(Pending{xid, 0, nullptr});
}

Transport::Interest NativeTransport::PollInterest(absl::Time now) {
  Interest interest;
  switch (phase_) {
    case Phase::kIdle: return interest;
    case Phase::kBackoff:
      if (now < backoff_until_) {
        interest.wake = backoff_until_;
        return interest;
      }
      Connect(now);
      if (phase_ != Phase::kHandshake) {
        interest.wake = phase_ == Phase::kBackoff ? backoff_until_ : absl::InfiniteFuture();
        return interest;
      }
      break;
    case Phase::kHandshake:
      if (now >= attempt_deadline_) {
        Drop(tcp_connected_ && tls_ != nullptr && !tls_->established()
                 ? "TLS handshake: not finished in time"
                 : "no answer to the handshake in time");
        return PollInterest(now);
      }
      break;
    case Phase::kAuthenticating:
    case Phase::kConnected: {
      const absl::Duration read_timeout = session_.timeout * 2 / 3;
      if (now - last_receive_ >= read_timeout) {
        Drop(StrCat("nothing heard from the server for ", absl::FormatDuration(now - last_receive_),
                    " (the read timeout is two thirds of the session timeout)"));
        return PollInterest(now);
      }
      const absl::Duration ping_interval = session_.timeout / 3;
      if (now - last_send_ >= ping_interval && out_offset_ == out_.size()) {
        proto::JuteWriter writer;
        proto::RequestHeader{proto::xid::kPing, pop::kPing}.Encode(writer);
        Queue(writer.TakeFrame());
      }
      interest.wake = std::min(last_receive_ + read_timeout, last_send_ + ping_interval);
      if (phase_ == Phase::kConnected) SearchForReadWriteServer(now, interest);
      break;
    }
  }
  if (StreamReady()) WriteOut();
  if (fd_ < 0) return PollInterest(now);  // the write failed: the next attempt is scheduled
  interest.fd = fd_;
  interest.read = tcp_connected_;
  interest.write = !tcp_connected_ || (StreamReady() && out_offset_ < out_.size()) ||
                   (tls_ != nullptr && tls_->wants_write());
  if (phase_ == Phase::kHandshake) interest.wake = attempt_deadline_;
  return interest;
}

void NativeTransport::SearchForReadWriteServer(absl::Time now, Interest& interest) {
  if (!read_only_ || tls_context_ != nullptr || !hosts_) return;
  if (probe_ != nullptr && now >= probe_->deadline()) probe_.reset();
  if (probe_ == nullptr && now >= next_probe_) {
    const Address* address = hosts_->Next();
    if (address != nullptr) {
      probe_ = std::make_unique<RwServerProbe>(*address, now + kProbeTimeout);
      events_->Log(LogLevel::kDebug, StrCat("read-only: asking ", address->name,
                                            " whether it is read-write"));
    }
    next_probe_ = now + probe_interval_;
    probe_interval_ = std::min(probe_interval_ * 2, kMaxProbeInterval);
  }
  if (probe_ != nullptr && probe_->fd() >= 0) {
    interest.probe = {probe_->fd(), probe_->wants_read(), probe_->wants_write()};
    interest.wake = std::min(interest.wake, probe_->deadline());
  }
  interest.wake = std::min(interest.wake, next_probe_);
}

void NativeTransport::ProcessProbe(bool readable, bool writable) {
  if (probe_ == nullptr) return;
  const RwServerProbe::Outcome outcome = probe_->Process(readable, writable, absl::Now());
  if (outcome == RwServerProbe::Outcome::kPending) return;
  std::unique_ptr<RwServerProbe> probe = std::move(probe_);
  if (outcome != RwServerProbe::Outcome::kReadWrite || phase_ != Phase::kConnected) return;
  read_write_server_ = probe->address();
  Drop(StrCat("read-only: ", probe->address().name, " is read-write; moving there"));
}

void NativeTransport::Connect(absl::Time now) {
  // A copy: the host list may resolve again (and reallocate) while this connection lives,
  // when the search for a read-write server asks it for the next address.
  if (read_write_server_) {
    connection_address_ = std::move(*read_write_server_);
    read_write_server_.reset();
  } else if (const Address* next = hosts_ ? hosts_->Next() : nullptr; next != nullptr) {
    connection_address_ = *next;
  } else {
    ++failed_attempts_;
    backoff_until_ = now + kMaxBackoff;
    events_->Log(LogLevel::kWarning,
                 StrCat("connect ", options_.connect_string, ": no host resolves"));
    return;
  }
  const Address* address = &connection_address_;
  address_ = address;
  fd_ = socket(address->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    Drop(StrCat("socket: ", ErrnoText(errno)));
    return;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  tcp_connected_ = false;
  phase_ = Phase::kHandshake;
  // A third of the session timeout per round of hosts: a round over dead (or stalled) hosts
  // ends with time left to try again before the session expires.
  const size_t hosts = std::max<size_t>(hosts_->size(), 1);
  attempt_deadline_ =
      now + absl::FromChrono(options_.session_timeout) / 3 / static_cast<int>(hosts);
  out_.clear();
  out_offset_ = 0;
  decoder_ = proto::FrameDecoder(decoder_.max_frame_length());
  proto::JuteWriter writer;
  proto::ConnectRequest request;
  request.last_zxid_seen = last_zxid_;
  request.timeout_ms = static_cast<int32_t>(options_.session_timeout.count());
  // A session only a read-only server knows is a local one: ask for a new session instead.
  request.session_id = seen_read_write_server_ ? session_.id : 0;
  request.passwd = seen_read_write_server_ ? session_.password : std::string(16, '\0');
  request.read_only = options_.allow_read_only;
  request.Encode(writer);
  Queue(writer.TakeFrame());
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&address->storage), address->length) == 0) {
    OnTcpConnected();
  } else if (errno != EINPROGRESS) {
    Drop(StrCat("connect: ", ErrnoText(errno)));
  }
}

void NativeTransport::Process(bool readable, bool writable) {
  if (fd_ < 0) return;
  if (!tcp_connected_ && (readable || writable)) {
    int error = 0;
    socklen_t length = sizeof(error);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      Drop(StrCat("connect: ", ErrnoText(error)));
      return;
    }
    OnTcpConnected();
    if (fd_ < 0) return;
  } else if (tls_ != nullptr && !tls_->established()) {
    ContinueTlsHandshake();
  }
  if (!StreamReady()) return;
  if (writable) WriteOut();
  // A TLS read may have stopped to wait for writability (a TLS 1.3 key update to answer).
  if (!(readable || (writable && tls_ != nullptr)) || fd_ < 0) return;
  // Read what is there now, in chunks, without waiting for more.
  char buffer[64 * 1024];
  const int fd = fd_;
  while (fd_ == fd) {
    const ssize_t n = ReadSome(buffer, sizeof(buffer));
    if (n == 0) {
      Drop("the server closed the connection");
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) Drop(StrError("read", errno));
      break;
    }
    last_receive_ = absl::Now();
    if (phase_ == Phase::kConnected) events_->OnServerContact();
    decoder_.Append(std::string_view(buffer, static_cast<size_t>(n)));
    std::string_view frame;
    while (fd_ == fd) {
      const proto::FrameDecoder::Result result = decoder_.NextView(&frame);
      if (result == proto::FrameDecoder::Result::kNeedMore) break;
      if (result == proto::FrameDecoder::Result::kError) {
        Drop(StrCat("the server sent a frame length that is negative or over max_frame_bytes (",
                    decoder_.max_frame_length(), ")"));
        return;
      }
      HandleFrame(frame);
    }
    // A short read empties the socket; TLS hands out one record at a time, so
    // read on until it says it would block.
    if (tls_ == nullptr && static_cast<size_t>(n) < sizeof(buffer)) break;
  }
}

void NativeTransport::OnTcpConnected() {
  tcp_connected_ = true;
  if (tls_context_ == nullptr) return;
  tls_ = std::make_unique<TlsSession>(*tls_context_, fd_, address_->host);
  ContinueTlsHandshake();
}

void NativeTransport::ContinueTlsHandshake() {
  if (tls_->Handshake() == TlsSession::Step::kFailed) {
    Drop(std::string(tls_->error()));
    return;
  }
  // The ConnectRequest waits in out_ until the handshake is done.
  if (tls_->established()) WriteOut();
}

ssize_t NativeTransport::ReadSome(char* buffer, size_t size) {
  if (tls_ != nullptr) return tls_->Read(buffer, size);
  return read(fd_, buffer, size);
}

std::string NativeTransport::StrError(std::string_view what, int error) const {
  // The TLS session's reason already names what failed ("TLS read: ...").
  if (tls_ != nullptr && error == EIO) return tls_->error();
  return StrCat(what, ": ", ErrnoText(error));
}

void NativeTransport::HandleFrame(std::string_view frame) {
  if (phase_ == Phase::kHandshake) {
    HandleConnectResponse(frame);
    return;
  }
  proto::JuteReader reader(frame);
  proto::ReplyHeader header;
  header.Decode(reader);
  if (!reader.ok()) {
    Drop("the server sent a reply shorter than its header");
    return;
  }
  const std::string_view body = reader.rest();
  if (header.xid == proto::xid::kNotification) {
    HandleNotification(body);
    return;
  }
  if (phase_ == Phase::kAuthenticating && header.xid == sasl_xid_) {
    HandleSaslReply(header.err, body);
    return;
  }
  if (header.zxid > last_zxid_) last_zxid_ = header.zxid;
  if (header.xid == proto::xid::kPing || header.xid == proto::xid::kSetWatches) {
    if (header.err != 0) {
      events_->Log(LogLevel::kWarning,
                   StrCat("session 0x", absl::Hex(session_.id), ": the server refused ",
                          header.xid == proto::xid::kPing ? "a ping" : "setWatches", ": ",
                          ZooErrorName(static_cast<ZooError>(header.err))));
    }
    return;
  }
  if (header.xid == proto::xid::kAuth) {
    const uint64_t id = auth_waiting_.empty() ? 0 : auth_waiting_.front();
    if (!auth_waiting_.empty()) auth_waiting_.pop_front();
    if (header.err == 0) {
      if (id != 0) events_->OnReply(id, Reply{});
      return;
    }
    if (id != 0) {
      Reply reply;
      reply.rc = static_cast<ZooError>(header.err);
      events_->OnReply(id, std::move(reply));
    }
    Fail(TransportState::kAuthFailed, "the server refused the credentials");
    return;
  }
  HandleReply(header.xid, header.err, body);
}

void NativeTransport::HandleConnectResponse(std::string_view frame) {
  proto::ConnectResponse response;
  proto::JuteReader reader(frame);
  response.Decode(reader);
  if (!reader.ok()) {
    Drop("the server's handshake answer does not decode (a server that refuses sessions, such "
         "as a read-only one for a read-write client)");
    return;
  }
  if (response.timeout_ms <= 0) {
    Fail(TransportState::kExpired,
         StrCat("the server says session 0x", absl::Hex(session_.id), " has expired"));
    return;
  }
  session_.id = response.session_id;
  session_.password = response.passwd;
  session_.timeout = absl::Milliseconds(response.timeout_ms);
  read_only_ = response.read_only;
  seen_read_write_server_ |= !read_only_;
  probe_interval_ = kFirstProbeInterval;
  next_probe_ = absl::Now() + probe_interval_;
  failed_attempts_ = 0;
  last_receive_ = absl::Now();
  if (options_.sasl) {
    StartSasl();
  } else {
    FinishConnecting();
  }
}

void NativeTransport::FinishConnecting() {
  phase_ = Phase::kConnected;
  SendSessionSetup();
  reported_connected_ = true;
  events_->OnTransportState(read_only_ ? TransportState::kReadOnly : TransportState::kConnected);
}

void NativeTransport::StartSasl() {
  phase_ = Phase::kAuthenticating;
  SaslSession::Step first;
  absl::StatusOr<std::unique_ptr<SaslSession>> session =
      SaslSession::Start(*options_.sasl, address_->host, &first);
  if (!session.ok()) {
    FailAuthentication(std::string(session.status().message()));
    return;
  }
  sasl_ = *std::move(session);
  SendSaslToken(first.token);
}

void NativeTransport::SendSaslToken(const std::string& token) {
  // An ordinary xid, as the Java client uses; nothing else is in flight while it waits.
  sasl_xid_ = NextXid();
  proto::JuteWriter writer;
  proto::RequestHeader{sasl_xid_, pop::kSasl}.Encode(writer);
  proto::SaslPacket{token}.Encode(writer);
  Queue(writer.TakeFrame());
}

void NativeTransport::HandleSaslReply(int32_t err, std::string_view body) {
  if (err != 0) {
    // AUTHFAILED (or SESSIONCLOSEDREQUIRESASLAUTH); the server closes the connection next.
    const auto error = static_cast<ZooError>(err);
    FailAuthentication(error == ZooError::kAuthFailed
                           ? std::string("the server refused the credentials")
                           : StrCat("the server refused the credentials (", ZooErrorName(error),
                                    ")"));
    return;
  }
  proto::SaslPacket packet;
  proto::JuteReader reader(body);
  packet.Decode(reader);
  if (!reader.ok()) {
    Drop("the server's SASL answer does not decode");
    return;
  }
  absl::StatusOr<SaslSession::Step> step = sasl_->Answer(packet.token);
  if (!step.ok()) {
    FailAuthentication(std::string(step.status().message()));
    return;
  }
  if (step->send) {
    SendSaslToken(step->token);
    return;
  }
  events_->Log(LogLevel::kInfo,
               StrCat(address_->name, ": session 0x", absl::Hex(session_.id),
                      ": SASL authenticated as ", sasl_->user()));
  sasl_.reset();
  FinishConnecting();
}

void NativeTransport::FailAuthentication(std::string_view reason) {
  const std::string message =
      StrCat(address_ != nullptr ? address_->name : options_.connect_string, ": ", reason);
  events_->OnConnectionError(message);
  events_->Log(LogLevel::kError,
               StrCat(message, "; SASL authentication as ", options_.sasl->user,
                      " failed for session 0x", absl::Hex(session_.id),
                      "; no retry (see zk::SaslOptions)"));
  if (fd_ >= 0 && StreamReady() && out_offset_ == out_.size()) {
    // Best effort, one non-blocking write whose failure is ignored (not WriteOut, which would
    // drop and reconnect): end the session now rather than at its timeout. After AUTHFAILED
    // the server reads no more from this connection and leaves the session to its timeout.
    proto::JuteWriter writer;
    proto::RequestHeader{NextXid(), pop::kCloseSession}.Encode(writer);
    const std::string frame = writer.TakeFrame();
    if (tls_ != nullptr) {
      (void)tls_->Write(frame.data(), frame.size());
    } else {
      (void)send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  CloseSocket();
  phase_ = Phase::kIdle;
  reported_connected_ = false;
  AnswerHeld(ZooError::kAuthFailed, reason);
  events_->OnAuthenticationFailed(message);
}

// Before any request of the core: the credentials, then the watches (the C library's order).
void NativeTransport::SendSessionSetup() {
  for (const auto& [scheme, credential] : *credentials_) {
    proto::JuteWriter writer;
    proto::RequestHeader{proto::xid::kAuth, pop::kAuth}.Encode(writer);
    proto::AuthPacket{0, scheme, credential}.Encode(writer);
    Queue(writer.TakeFrame());
    auth_waiting_.push_back(0);
  }
  proto::SetWatches2Request request{last_zxid_, {}, {}, {}, {}, {}};
  size_t bytes = 0;
  auto flush = [&] {
    if (bytes == 0) return;
    proto::JuteWriter writer;
    if (request.persistent_watches.empty() && request.recursive_watches.empty()) {
      // setWatches, which servers before 3.6 know too.
      proto::RequestHeader{proto::xid::kSetWatches, pop::kSetWatches}.Encode(writer);
      proto::SetWatchesRequest{request.relative_zxid, std::move(request.data_watches),
                               std::move(request.exist_watches),
                               std::move(request.child_watches)}
          .Encode(writer);
    } else {
      proto::RequestHeader{proto::xid::kSetWatches, pop::kSetWatches2}.Encode(writer);
      request.Encode(writer);
    }
    Queue(writer.TakeFrame());
    request = proto::SetWatches2Request{last_zxid_, {}, {}, {}, {}, {}};
    bytes = 0;
  };
  auto add = [&](const absl::flat_hash_set<std::string>& table,
                 std::vector<std::string> proto::SetWatches2Request::*list) {
    for (const std::string& path : table) {
      std::string server_path = ServerPath(path);
      if (bytes > 0 && bytes + server_path.size() + 4 > kSetWatchesFrameBytes) flush();
      bytes += server_path.size() + 4;
      (request.*list).push_back(std::move(server_path));
    }
  };
  // The server restores the lists in this order; a persistent watch after a one-shot one on the
  // same path keeps the entry they share persistent (ZOOKEEPER-4466).
  add(data_watches_, &proto::SetWatches2Request::data_watches);
  add(exist_watches_, &proto::SetWatches2Request::exist_watches);
  add(child_watches_, &proto::SetWatches2Request::child_watches);
  add(persistent_watches_, &proto::SetWatches2Request::persistent_watches);
  add(recursive_watches_, &proto::SetWatches2Request::recursive_watches);
  flush();
}

void NativeTransport::HandleNotification(std::string_view body) {
  proto::WatcherEvent event;
  proto::JuteReader reader(body);
  event.Decode(reader);
  if (!reader.ok()) {
    Drop("the server sent a watch notification that does not decode");
    return;
  }
  const std::string path = ClientPath(event.path);
  WatchEventType type;
  switch (event.type) {
    case proto::event::kNodeCreated:
    case proto::event::kNodeDataChanged:
      type = event.type == proto::event::kNodeCreated ? WatchEventType::kCreated
                                                      : WatchEventType::kDataChanged;
      data_watches_.erase(path);
      exist_watches_.erase(path);
      events_->OnWatchEvent(type, path, WatchKind::kData);
      break;
    case proto::event::kNodeDeleted:
      type = WatchEventType::kDeleted;
      data_watches_.erase(path);
      exist_watches_.erase(path);
      child_watches_.erase(path);
      events_->OnWatchEvent(type, path, WatchKind::kData);
      events_->OnWatchEvent(type, path, WatchKind::kChild);
      break;
    case proto::event::kNodeChildrenChanged:
      type = WatchEventType::kChildrenChanged;
      child_watches_.erase(path);
      events_->OnWatchEvent(type, path, WatchKind::kChild);
      break;
    default:
      return;  // session types: not requested by this transport
  }
  // One notification per change reaches a session, whichever of its watches matched.
  NotifyPersistentWatches(type, path);
}

void NativeTransport::NotifyPersistentWatches(WatchEventType type, const std::string& path) {
  if (persistent_watches_.contains(path)) {
    events_->OnPersistentWatchEvent(type, path, path, WatchKind::kPersistent);
  }
  // A recursive watch sees every node event below it, but no children-changed ones.
  if (recursive_watches_.empty() || type == WatchEventType::kChildrenChanged) return;
  for (std::string_view watched = path;; watched = ParentPath(watched)) {
    // (Debian's Abseil has its own string_view.)
    if (recursive_watches_.contains(absl::string_view(watched.data(), watched.size()))) {
      events_->OnPersistentWatchEvent(type, path, watched, WatchKind::kPersistentRecursive);
    }
    if (watched == "/") break;
  }
}

void NativeTransport::SendAddWatch(const std::string& path, WatchKind kind, uint64_t id,
                                   const Request* r) {
  const int32_t xid = NextXid();
  proto::JuteWriter writer;
  proto::RequestHeader{xid, pop::kAddWatch}.Encode(writer);
  proto::AddWatchRequest{ServerPath(path), kind == WatchKind::kPersistentRecursive
                                               ? kAddWatchPersistentRecursive
                                               : kAddWatchPersistent}
      .Encode(writer);
  Queue(writer.TakeFrame());
  pending_.push_back(Pending{xid, id, r});
}

void NativeTransport::ReassertPersistentWatch(const std::string& path) {
  if (persistent_watches_.contains(path)) SendAddWatch(path, WatchKind::kPersistent, 0, nullptr);
  if (recursive_watches_.contains(path)) {
    SendAddWatch(path, WatchKind::kPersistentRecursive, 0, nullptr);
  }
}

void NativeTransport::HandleReply(int32_t xid, int32_t err, std::string_view body) {
  if (pending_.empty() || pending_.front().xid != xid) {
    Drop(StrCat("the server answered xid ", xid, " but the next request waiting is ",
                pending_.empty() ? std::string("none") : StrCat("xid ", pending_.front().xid)));
    return;
  }
  const Pending p = pending_.front();
  pending_.pop_front();
  if (p.request == nullptr) return;  // removeWatches: nothing waits
  const Request& r = *p.request;
  Reply reply;
  reply.rc = static_cast<ZooError>(err);
  if (err == 0) {
    if (absl::Status decoded = DecodeReplyBody(r, body, options_.chroot, reply); !decoded.ok()) {
      // Answer this request with the loss of the connection it came on.
      pending_.push_front(p);
      Drop(std::string(decoded.message()));
      return;
    }
  } else if (r.kind == OpKind::kMulti) {
    reply.multi.assign(r.ops.size(), OpReply{reply.rc, "", {}});
  }
  if (r.watch != WatchKind::kNone) {
    // The server armed a watch on success, and for exists on a missing node too. A watch on an
    // existing node is a data watch, whichever read armed it, and one on a missing node an
    // exist watch: on a reconnect the server checks each kind against the node as it is then
    // (a data watch fires if the node changed or went, an exist watch if it appeared).
    if (r.watch == WatchKind::kChild && err == 0) {
      child_watches_.insert(r.path);
    } else if (r.watch == WatchKind::kData && err == 0) {
      data_watches_.insert(r.path);
      exist_watches_.erase(r.path);
    } else if (r.watch == WatchKind::kData && r.kind == OpKind::kExists &&
               err == proto::err::kNoNode) {
      exist_watches_.insert(r.path);
      data_watches_.erase(r.path);
    } else if (IsPersistent(r.watch) && err == 0) {
      (r.watch == WatchKind::kPersistent ? persistent_watches_ : recursive_watches_)
          .insert(r.path);
    }
    if (!IsPersistent(r.watch) && (err == 0 || err == proto::err::kNoNode)) {
      ReassertPersistentWatch(r.path);
    }
  }
  events_->OnReply(p.id, std::move(reply));
}

void NativeTransport::Answer(const Pending& pending, Reply reply) {
  if (pending.id == 0) return;
  if (pending.request != nullptr && pending.request->kind == OpKind::kMulti) {
    reply.multi.assign(pending.request->ops.size(), OpReply{reply.rc, "", {}});
  }
  events_->OnReply(pending.id, std::move(reply));
}

void NativeTransport::Drop(std::string_view reason) {
  const bool was_connected = phase_ == Phase::kConnected;
  const std::string where = address_ != nullptr ? address_->name : options_.connect_string;
  events_->OnConnectionError(StrCat(where, ": ", reason));
  events_->Log(was_connected ? LogLevel::kWarning : LogLevel::kInfo,
               StrCat(where, ": session 0x", absl::Hex(session_.id), ": ", reason,
                      was_connected ? "; reconnecting" : "; trying the next server"));
  CloseSocket();
  if (was_connected) {
    failed_attempts_ = 0;
    backoff_until_ = absl::InfinitePast();  // a lost connection is retried at once
  } else {
    ++failed_attempts_;
    // Every address of the round failed: back off before the next round.
    if (hosts_ && hosts_->RoundDone()) {
      const int doublings = std::min(failed_attempts_ / static_cast<int>(std::max<size_t>(hosts_->size(), 1)), 7);
      absl::Duration backoff = std::min(kFirstBackoff * (1 << doublings), kMaxBackoff);
      backoff = std::min(backoff, absl::FromChrono(options_.session_timeout) / 3);
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      backoff_until_ = absl::Now() + backoff * jitter(random_);
    } else {
      backoff_until_ = absl::InfinitePast();
    }
  }
  phase_ = Phase::kBackoff;
  Held held = TakeHeld();
  if (reported_connected_) {
    reported_connected_ = false;
    events_->OnTransportState(TransportState::kConnecting);
  }
  AnswerHeld(std::move(held), ZooError::kConnectionLoss,
             "connection lost after the request was sent");
}

void NativeTransport::Fail(TransportState state, std::string_view reason) {
  events_->Log(LogLevel::kWarning,
               StrCat(address_ != nullptr ? address_->name : options_.connect_string, ": ",
                      reason));
  CloseSocket();
  phase_ = Phase::kIdle;
  reported_connected_ = false;
  Held held = TakeHeld();
  events_->OnTransportState(state);
  AnswerHeld(std::move(held),
             state == TransportState::kExpired ? ZooError::kSessionExpired
                                               : ZooError::kAuthFailed,
             "");
}

NativeTransport::Held NativeTransport::TakeHeld() {
  Held held;
  held.pending.swap(pending_);
  held.auth.swap(auth_waiting_);
  return held;
}

void NativeTransport::AnswerHeld(Held held, ZooError rc, std::string_view detail) {
  for (const Pending& p : held.pending) {
    Reply reply;
    reply.rc = rc;
    reply.detail = std::string(detail);
    Answer(p, std::move(reply));
  }
  for (uint64_t id : held.auth) {
    if (id == 0) continue;
    Reply reply;
    reply.rc = rc;
    reply.detail = std::string(detail);
    events_->OnReply(id, std::move(reply));
  }
}

void NativeTransport::AnswerHeld(ZooError rc, std::string_view detail) {
  AnswerHeld(TakeHeld(), rc, detail);
}

void NativeTransport::CloseSocket() {
  sasl_.reset();
  probe_.reset();
  next_probe_ = absl::InfiniteFuture();
  if (tls_ != nullptr) {
    tls_->Shutdown();
    tls_.reset();
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  tcp_connected_ = false;
  out_.clear();
  out_offset_ = 0;
}

void NativeTransport::Queue(std::string frame) {
  if (out_offset_ == out_.size()) {
    out_ = std::move(frame);
    out_offset_ = 0;
  } else {
    out_.append(frame);
  }
}

void NativeTransport::WriteOut() {
  while (fd_ >= 0 && out_offset_ < out_.size()) {
    const char* data = out_.data() + out_offset_;
    const size_t size = out_.size() - out_offset_;
    const ssize_t n =
        tls_ != nullptr ? tls_->Write(data, size) : send(fd_, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Drop(StrError("send", errno));
      return;
    }
    out_offset_ += static_cast<size_t>(n);
    last_send_ = absl::Now();
  }
  if (out_offset_ == out_.size() && out_offset_ > 0) {
    out_.clear();
    out_offset_ = 0;
  }
}

int32_t NativeTransport::NextXid() {
  xid_ = xid_ == INT32_MAX ? 1 : xid_ + 1;
  return xid_;
}

std::string NativeTransport::ServerPath(std::string_view path) const {
  if (options_.chroot.empty()) return std::string(path);
  if (path == "/") return options_.chroot;
  return StrCat(options_.chroot, path);
}

std::string NativeTransport::ClientPath(std::string_view path) const {
  return StripChroot(options_.chroot, path);
}

}  // namespace zk::internal
