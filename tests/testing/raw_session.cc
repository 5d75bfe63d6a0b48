#include "testing/raw_session.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace zk::testing {
namespace {

// Op codes and xids of protocol.md §3-4 used here.
constexpr int32_t kOpCreate = 1;
constexpr int32_t kOpExists = 3;
constexpr int32_t kOpPing = 11;
constexpr int32_t kOpCloseSession = -11;
constexpr int32_t kPingXid = -2;
constexpr int32_t kNotificationXid = -1;
// Error codes of protocol.md §5 that RawSession maps to specific status codes.
constexpr int32_t kErrNoNode = -101;
constexpr int32_t kErrNodeExists = -110;
constexpr int32_t kErrSessionExpired = -112;
// Largest frame the server sends by default (jute.maxbuffer).
constexpr int32_t kMaxFrame = 0xfffff;

// Appends jute-encoded (big-endian) values to a string.
class JuteWriter {
 public:
  void Int(int32_t v) {
    const uint32_t u = static_cast<uint32_t>(v);
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(u >> shift));
  }
  void Long(int64_t v) {
    const uint64_t u = static_cast<uint64_t>(v);
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(u >> shift));
  }
  void Bool(bool v) { out_.push_back(v ? 1 : 0); }
  void Buffer(std::string_view bytes) {
    Int(static_cast<int32_t>(bytes.size()));
    out_.append(bytes);
  }
  void String(std::string_view s) { Buffer(s); }
  void Raw(std::string_view bytes) { out_.append(bytes); }
  const std::string& data() const { return out_; }
  // The whole packet: length prefix + what was written.
  std::string Framed() const {
    JuteWriter frame;
    frame.Int(static_cast<int32_t>(out_.size()));
    return frame.out_ + out_;
  }

 private:
  std::string out_;
};

// Reads jute-encoded values; every read fails once the input is exhausted.
class JuteReader {
 public:
  explicit JuteReader(std::string_view in) : in_(in) {}
  bool Int(int32_t* v) {
    uint64_t u = 0;
    if (!Bytes(4, &u)) return false;
    *v = static_cast<int32_t>(static_cast<uint32_t>(u));
    return true;
  }
  bool Long(int64_t* v) {
    uint64_t u = 0;
    if (!Bytes(8, &u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Buffer(std::string* v) {
    int32_t len = 0;
    if (!Int(&len)) return false;
    if (len < 0) {  // null
      v->clear();
      return true;
    }
    if (in_.size() < static_cast<size_t>(len)) return false;
    v->assign(in_.substr(0, len));
    in_.remove_prefix(len);
    return true;
  }
  size_t remaining() const { return in_.size(); }
  bool Byte(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }

 private:
  bool Bytes(int n, uint64_t* out) {
    if (in_.size() < static_cast<size_t>(n)) return false;
    for (int i = 0; i < n; ++i) *out = (*out << 8) | static_cast<uint8_t>(in_[i]);
    in_.remove_prefix(n);
    return true;
  }

  std::string_view in_;
};

std::string SessionIdText(int64_t session_id) {
  return absl::StrFormat("0x%x", static_cast<uint64_t>(session_id));
}

// Reads one length-prefixed frame.
absl::StatusOr<std::string> ReadFrame(int fd, absl::Time deadline) {
  absl::StatusOr<std::string> length_bytes = RecvExact(fd, 4, deadline);
  if (!length_bytes.ok()) return length_bytes.status();
  JuteReader reader(*length_bytes);
  int32_t length = 0;
  reader.Int(&length);
  if (length < 0 || length > kMaxFrame) {
    return absl::InternalError(absl::StrCat("bad frame length ", length));
  }
  return RecvExact(fd, static_cast<size_t>(length), deadline);
}

absl::Status ErrorCodeToStatus(int32_t err, std::string_view what) {
  switch (err) {
    case kErrNoNode:
      return absl::NotFoundError(absl::StrCat(AsAbsl(what), ": no node (ZNONODE)"));
    case kErrNodeExists:
      return absl::AlreadyExistsError(absl::StrCat(AsAbsl(what), ": node exists (ZNODEEXISTS)"));
    case kErrSessionExpired:
      return absl::AbortedError(absl::StrCat(AsAbsl(what), ": session expired (ZSESSIONEXPIRED)"));
    default:
      return absl::UnknownError(absl::StrCat(AsAbsl(what), ": ZooKeeper error code ", err));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RawSession>> RawSession::Connect(std::string_view host_port,
                                                                RawConnectOptions options) {
  const std::string what =
      options.session_id == 0
          ? absl::StrCat("raw connect to ", AsAbsl(host_port))
          : absl::StrCat("raw resume of session ", SessionIdText(options.session_id), " at ",
                         AsAbsl(host_port));
  const absl::Time deadline = absl::Now() + options.io_timeout;
  absl::StatusOr<ScopedFd> fd = ConnectTcp(host_port, deadline);
  if (!fd.ok()) return fd.status();

  // ConnectRequest (protocol.md §2), with the hand-appended readOnly byte.
  JuteWriter request;
  request.Int(0);  // protocolVersion
  request.Long(options.last_zxid_seen);
  request.Int(static_cast<int32_t>(absl::ToInt64Milliseconds(options.session_timeout)));
  request.Long(options.session_id);
  request.Buffer(options.password);
  request.Bool(options.read_only);
  if (absl::Status s = SendAll(fd->get(), request.Framed(), deadline); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
  }
  absl::StatusOr<std::string> reply = ReadFrame(fd->get(), deadline);
  if (!reply.ok()) {
    return absl::Status(reply.status().code(),
                        absl::StrCat(what, ": no handshake answer: ", reply.status().message()));
  }
  JuteReader reader(*reply);
  int32_t protocol_version = 0;
  int32_t timeout_ms = 0;
  int64_t session_id = 0;
  std::string password;
  if (!reader.Int(&protocol_version) || !reader.Int(&timeout_ms) || !reader.Long(&session_id) ||
      !reader.Buffer(&password)) {
    return absl::InternalError(
        absl::StrCat(what, ": malformed ConnectResponse of ", reply->size(), " bytes"));
  }
  uint8_t read_only = 0;
  if (reader.remaining() > 0) reader.Byte(&read_only);
  if (timeout_ms <= 0) {
    return absl::AbortedError(absl::StrCat(
        what, ": the server says the session is invalid (expired, closed or wrong password): "
              "ConnectResponse timeout ",
        timeout_ms));
  }
  auto session = std::unique_ptr<RawSession>(
      new RawSession(std::string(host_port), std::move(*fd), std::move(options)));
  session->session_id_ = session_id;
  session->password_ = std::move(password);
  session->negotiated_timeout_ = absl::Milliseconds(timeout_ms);
  session->read_only_ = read_only != 0;
  return session;
}

absl::StatusOr<std::string> RawSession::Call(int32_t type, std::string_view body,
                                             std::string_view what) {
  if (!fd_.valid()) return absl::FailedPreconditionError(absl::StrCat(AsAbsl(what), ": not connected"));
  const absl::Time deadline = absl::Now() + options_.io_timeout;
  const int32_t xid = type == kOpPing ? kPingXid : next_xid_++;
  JuteWriter request;
  request.Int(xid);  // RequestHeader
  request.Int(type);
  request.Raw(body);
  if (absl::Status s = SendAll(fd_.get(), request.Framed(), deadline); !s.ok()) {
    fd_.reset();
    return absl::Status(s.code(), absl::StrCat(AsAbsl(what), ": ", s.message()));
  }
  for (;;) {
    absl::StatusOr<std::string> frame = ReadFrame(fd_.get(), deadline);
    if (!frame.ok()) {
      fd_.reset();
      return absl::Status(frame.status().code(),
                          absl::StrCat(AsAbsl(what), ": ", frame.status().message()));
    }
    JuteReader reader(*frame);
    int32_t reply_xid = 0;
    int64_t zxid = 0;
    int32_t err = 0;
    if (!reader.Int(&reply_xid) || !reader.Long(&zxid) || !reader.Int(&err)) {
      return absl::InternalError(absl::StrCat(AsAbsl(what), ": malformed ReplyHeader"));
    }
    if (reply_xid == kNotificationXid) continue;  // Not ours: we set no watches.
    if (reply_xid != xid) {
      return absl::InternalError(
          absl::StrCat(AsAbsl(what), ": reply xid ", reply_xid, " for request xid ", xid));
    }
    if (xid > 0 && zxid > last_zxid_) last_zxid_ = zxid;
    if (err != 0) return ErrorCodeToStatus(err, what);
    return frame->substr(16);
  }
}

absl::StatusOr<std::string> RawSession::Create(std::string_view path, std::string_view data,
                                               RawCreateMode mode) {
  JuteWriter body;
  body.String(path);
  body.Buffer(data);
  body.Int(1);   // ACL vector: one entry
  body.Int(31);  // Perms.ALL
  body.String("world");
  body.String("anyone");
  body.Int(static_cast<int32_t>(mode));
  const std::string what = absl::StrCat("raw create ", AsAbsl(path));
  absl::StatusOr<std::string> reply = Call(kOpCreate, body.data(), what);
  if (!reply.ok()) return reply.status();
  JuteReader reader(*reply);
  std::string created;
  if (!reader.Buffer(&created)) {
    return absl::InternalError(absl::StrCat(what, ": malformed CreateResponse"));
  }
  return created;
}

absl::StatusOr<bool> RawSession::Exists(std::string_view path) {
  JuteWriter body;
  body.String(path);
  body.Bool(false);  // no watch
  absl::StatusOr<std::string> reply =
      Call(kOpExists, body.data(), absl::StrCat("raw exists ", AsAbsl(path)));
  if (reply.ok()) return true;
  if (absl::IsNotFound(reply.status())) return false;
  return reply.status();
}

absl::Status RawSession::Ping() {
  return Call(kOpPing, "", absl::StrCat("raw ping on ", host_port_)).status();
}

absl::Status RawSession::CloseSession() {
  absl::Status closed =
      Call(kOpCloseSession, "",
           absl::StrCat("raw closeSession of ", SessionIdText(session_id_), " at ", host_port_))
          .status();
  fd_.reset();
  return closed;
}

absl::Status ForceExpireSession(std::string_view host_port, int64_t session_id,
                                std::string_view password) {
  if (session_id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("force expire session at ", AsAbsl(host_port), ": session id 0"));
  }
  RawConnectOptions options;
  options.session_id = session_id;
  options.password = std::string(password);
  // Resuming needs no zxid: lastZxidSeen 0 is never ahead of the server.
  // The session's own client reconnects as soon as our resume kicks it off, and its resume in
  // turn kicks ours off (protocol.md §2, rule 6): retry until our closeSession gets through.
  // A timeout is retried like a kicked connection: a server just restarted (or slowed down by
  // a sanitizer) may answer late; the next attempt tells whether the close went through.
  const auto retry = [](const absl::Status& s) {
    return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
  };
  constexpr int kAttempts = 50;
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    absl::StatusOr<std::unique_ptr<RawSession>> hijack = RawSession::Connect(host_port, options);
    if (!hijack.ok()) {
      // Gone already: an earlier attempt's closeSession went through before its reply was lost.
      if (attempt > 0 && absl::IsAborted(hijack.status())) return absl::OkStatus();
      last = hijack.status();
      if (retry(last)) continue;
      break;
    }
    absl::Status closed = (*hijack)->CloseSession();
    if (closed.ok()) return absl::OkStatus();
    last = closed;
    if (!retry(last)) break;
  }
  return absl::Status(last.code(), absl::StrCat("force expire: ", last.message()));
}

}  // namespace zk::testing
