#include "harness/raw_session.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "zk/proto/connect.h"
#include "zk/proto/constants.h"
#include "zk/proto/headers.h"
#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"
#include "zk/proto/node_ops.h"

namespace zk::testing {
namespace {

namespace proto = ::zk::proto;

std::string SessionIdText(int64_t session_id) {
  return absl::StrFormat("0x%x", static_cast<uint64_t>(session_id));
}

// Reads one length-prefixed frame.
absl::StatusOr<std::string> ReadFrame(int fd, absl::Time deadline) {
  absl::StatusOr<std::string> length_bytes = RecvExact(fd, 4, deadline);
  if (!length_bytes.ok()) return length_bytes.status();
  proto::JuteReader reader(*length_bytes);
  const int32_t length = reader.ReadInt();
  if (length < 0 || length > proto::kMaxFrameLength) {
    return absl::InternalError(absl::StrCat("bad frame length ", length));
  }
  return RecvExact(fd, static_cast<size_t>(length), deadline);
}

absl::Status ErrorCodeToStatus(int32_t err, std::string_view what) {
  switch (err) {
    case proto::err::kNoNode:
      return absl::NotFoundError(absl::StrCat(AsAbsl(what), ": no node (ZNONODE)"));
    case proto::err::kNodeExists:
      return absl::AlreadyExistsError(absl::StrCat(AsAbsl(what), ": node exists (ZNODEEXISTS)"));
    case proto::err::kSessionExpired:
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

  // ConnectRequest (protocol.md §2), with the readOnly byte.
  proto::JuteWriter request;
  proto::ConnectRequest{
      .last_zxid_seen = options.last_zxid_seen,
      .timeout_ms = static_cast<int32_t>(absl::ToInt64Milliseconds(options.session_timeout)),
      .session_id = options.session_id,
      .passwd = options.password,
      .has_read_only = true,
      .read_only = options.read_only}
      .Encode(request);
  if (absl::Status s = SendAll(fd->get(), request.TakeFrame(), deadline); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
  }
  absl::StatusOr<std::string> reply = ReadFrame(fd->get(), deadline);
  if (!reply.ok()) {
    return absl::Status(reply.status().code(),
                        absl::StrCat(what, ": no handshake answer: ", reply.status().message()));
  }
  proto::JuteReader reader(*reply);
  proto::ConnectResponse response;
  response.Decode(reader);
  if (!reader.ok()) {
    return absl::InternalError(
        absl::StrCat(what, ": malformed ConnectResponse of ", reply->size(), " bytes"));
  }
  const int32_t timeout_ms = response.timeout_ms;
  if (timeout_ms <= 0) {
    return absl::AbortedError(absl::StrCat(
        what, ": the server says the session is invalid (expired, closed or wrong password): "
              "ConnectResponse timeout ",
        timeout_ms));
  }
  auto session = std::unique_ptr<RawSession>(
      new RawSession(std::string(host_port), std::move(*fd), std::move(options)));
  session->session_id_ = response.session_id;
  session->password_ = std::move(response.passwd);
  session->negotiated_timeout_ = absl::Milliseconds(timeout_ms);
  session->read_only_ = response.read_only;
  return session;
}

absl::StatusOr<std::string> RawSession::Call(int32_t type, std::string_view body,
                                             std::string_view what) {
  if (!fd_.valid()) return absl::FailedPreconditionError(absl::StrCat(AsAbsl(what), ": not connected"));
  const absl::Time deadline = absl::Now() + options_.io_timeout;
  const int32_t xid = type == proto::op::kPing ? proto::xid::kPing : next_xid_++;
  proto::JuteWriter request;
  proto::RequestHeader{.xid = xid, .type = type}.Encode(request);
  request.WriteRaw(body);
  if (absl::Status s = SendAll(fd_.get(), request.TakeFrame(), deadline); !s.ok()) {
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
    proto::JuteReader reader(*frame);
    proto::ReplyHeader header;
    header.Decode(reader);
    if (!reader.ok()) {
      return absl::InternalError(absl::StrCat(AsAbsl(what), ": malformed ReplyHeader"));
    }
    if (header.xid == proto::xid::kNotification) continue;  // Not ours: we set no watches.
    if (header.xid != xid) {
      return absl::InternalError(
          absl::StrCat(AsAbsl(what), ": reply xid ", header.xid, " for request xid ", xid));
    }
    if (xid > 0 && header.zxid > last_zxid_) last_zxid_ = header.zxid;
    if (header.err != proto::err::kOk) return ErrorCodeToStatus(header.err, what);
    return std::string(reader.rest());
  }
}

absl::StatusOr<std::string> RawSession::Create(std::string_view path, std::string_view data,
                                               RawCreateMode mode) {
  proto::JuteWriter body;
  proto::CreateRequest{.path = std::string(path),
                       .data = std::string(data),
                       .acls = {{proto::perm::kAll, {"world", "anyone"}}},
                       .flags = static_cast<int32_t>(mode)}
      .Encode(body);
  const std::string what = absl::StrCat("raw create ", AsAbsl(path));
  absl::StatusOr<std::string> reply = Call(proto::op::kCreate, body.body(), what);
  if (!reply.ok()) return reply.status();
  proto::JuteReader reader(*reply);
  proto::CreateResponse created;
  created.Decode(reader);
  if (!reader.ok()) {
    return absl::InternalError(absl::StrCat(what, ": malformed CreateResponse"));
  }
  return std::move(created.path);
}

absl::StatusOr<bool> RawSession::Exists(std::string_view path) {
  proto::JuteWriter body;
  proto::ExistsRequest{.path = std::string(path), .watch = false}.Encode(body);
  absl::StatusOr<std::string> reply =
      Call(proto::op::kExists, body.body(), absl::StrCat("raw exists ", AsAbsl(path)));
  if (reply.ok()) return true;
  if (absl::IsNotFound(reply.status())) return false;
  return reply.status();
}

absl::Status RawSession::Ping() {
  return Call(proto::op::kPing, "", absl::StrCat("raw ping on ", host_port_)).status();
}

absl::Status RawSession::CloseSession() {
  absl::Status closed =
      Call(proto::op::kCloseSession, "",
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
