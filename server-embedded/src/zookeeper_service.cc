#include "zookeeper_service.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_format.h"
#include "acl_policy.h"
#include "proto_aliases.h"

namespace zk::testing::internal {
namespace {

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ZooKeeperService::ZooKeeperService(ServiceOptions options, ConnectionSink* sink)
    : options_(std::move(options)), sink_(sink), sessions_(options_.tick_ms, WallClockMs()) {}

absl::Status ZooKeeperService::RestoreTree(std::unordered_map<std::string, Node> nodes,
                                           int64_t last_zxid) {
  if (absl::Status s = tree_.Replace(std::move(nodes)); !s.ok()) return s;
  zxid_ = last_zxid;
  return absl::OkStatus();
}

void ZooKeeperService::OnConnect(uint64_t connection, std::string ip, int port, int member,
                                 int64_t now_ms) {
  ConnectionState& state = connections_[connection];
  state.ip = std::move(ip);
  state.port = port;
  state.member = member;
  state.established_ms = WallClockMs();
  state.ids.push_back(Id{"ip", state.ip});
}

void ZooKeeperService::OnDisconnect(uint64_t connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  if (it->second.session_id != 0) {
    Session* session = sessions_.Find(it->second.session_id);
    if (session != nullptr && session->connection == connection) session->connection = 0;
  }
  watches_.RemoveConnection(connection);
  connections_.erase(it);
}

void ZooKeeperService::CloseConnection(uint64_t connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end() || it->second.closing) return;
  it->second.closing = true;
  watches_.RemoveConnection(connection);
  if (it->second.session_id != 0) {
    Session* session = sessions_.Find(it->second.session_id);
    if (session != nullptr && session->connection == connection) session->connection = 0;
  }
  sink_->Close(connection);
}

void ZooKeeperService::SendFrame(uint64_t connection, std::string frame) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  it->second.packets_sent++;
  packets_sent_++;
  sink_->Send(connection, std::move(frame));
}

void ZooKeeperService::Reply(uint64_t connection, int32_t xid, int64_t zxid, int32_t err,
                             JuteWriter* body) {
  JuteWriter writer;
  writer.WriteInt(xid);
  writer.WriteLong(zxid);
  writer.WriteInt(err);
  std::string frame = writer.TakeFrame();
  if (err == err::kOk && body != nullptr && body->body_size() > 0) {
    std::string rest = body->TakeFrame();
    frame.append(rest, 4, std::string::npos);
    uint32_t length = static_cast<uint32_t>(frame.size() - 4);
    for (int i = 3; i >= 0; --i) {
      frame[i] = static_cast<char>(length & 0xff);
      length >>= 8;
    }
  }
  SendFrame(connection, std::move(frame));
}

void ZooKeeperService::OnFrame(uint64_t connection, std::string_view body, int64_t now_ms) {
  auto it = connections_.find(connection);
  if (it == connections_.end() || it->second.closing) return;
  ConnectionState& state = it->second;
  state.packets_received++;
  packets_received_++;
  if (!state.handshaken) {
    HandleConnect(connection, state, body, now_ms);
    return;
  }
  absl::StatusOr<Request> request = DecodeRequest(body);
  if (!request.ok()) {
    CloseConnection(connection);
    return;
  }
  Session* session = sessions_.Find(state.session_id);
  if (session == nullptr || session->connection != connection) {
    CloseConnection(connection);
    return;
  }
  sessions_.Touch(*session, now_ms);
  HandleRequest(connection, state, *request, now_ms);
}

void ZooKeeperService::HandleConnect(uint64_t connection, ConnectionState& state,
                                     std::string_view body, int64_t now_ms) {
  absl::StatusOr<ConnectRequest> request = DecodeConnectRequest(body);
  if (!request.ok()) {
    CloseConnection(connection);
    return;
  }
  state.old_client = !request->has_read_only;
  counters_.requests_by_op["connect"]++;
  if (request_hook_) request_hook_(RequestInfo{request->session_id, "connect", ""});
  if (read_only_ && !request->read_only) {
    CloseConnection(connection);
    return;
  }
  if (request->last_zxid_seen > zxid_) {
    CloseConnection(connection);
    return;
  }
  int32_t timeout = std::clamp(request->timeout_ms, options_.min_session_timeout_ms,
                               options_.max_session_timeout_ms);
  auto send_response = [&](int32_t negotiated, int64_t session_id, const std::string& passwd) {
    JuteWriter writer;
    writer.WriteInt(0);
    writer.WriteInt(negotiated);
    writer.WriteLong(session_id);
    writer.WriteBuffer(passwd);
    if (!state.old_client) writer.WriteBool(read_only_);
    SendFrame(connection, writer.TakeFrame());
  };
  if (request->session_id == 0) {
    // A read-only server creates local sessions: no createSession txn.
    if (!read_only_) NextZxid();  // createSession txn
    Session& session = sessions_.Create(timeout, now_ms);
    session.local = read_only_;
    session.connection = connection;
    state.session_id = session.id;
    state.handshaken = true;
    send_response(timeout, session.id, session.passwd);
    return;
  }
  Session* session = sessions_.Find(request->session_id);
  if (read_only_ && session != nullptr && !session->local) {
    // ZooKeeper's read-only server refuses to renew a global session (one the quorum knows):
    // the connection closes without a reply, and the session's other connection stays.
    CloseConnection(connection);
    return;
  }
  if (session != nullptr && session->connection != 0 && session->connection != connection) {
    CloseConnection(session->connection);  // rule 6: kick the other connection
  }
  if (session == nullptr || session->closing || session->passwd != request->passwd) {
    send_response(0, 0, std::string(16, '\0'));
    CloseConnection(connection);
    return;
  }
  session->timeout_ms = timeout;
  session->connection = connection;
  sessions_.Touch(*session, now_ms);
  state.session_id = session->id;
  state.handshaken = true;
  send_response(timeout, session->id, session->passwd);
}

bool ZooKeeperService::Allowed(const Node& node, int32_t perm,
                               const ConnectionState& state) const {
  return CheckAcl(node.acls, perm, state.ids);
}

void ZooKeeperService::Notify(uint64_t connection, int32_t type, const std::string& path) {
  JuteWriter writer;
  writer.WriteInt(xid::kNotification);
  writer.WriteLong(-1);
  writer.WriteInt(err::kOk);
  writer.WriteInt(type);
  writer.WriteInt(event::kSyncConnectedState);
  writer.WriteString(path);
  counters_.watches_fired++;
  if (event_hook_) {
    auto it = connections_.find(connection);
    int64_t session_id = it == connections_.end() ? 0 : it->second.session_id;
    event_hook_(EventInfo{session_id, type, path});
  }
  SendFrame(connection, writer.TakeFrame());
}

void ZooKeeperService::CommitAndNotify() {
  for (const WatchTrigger& trigger : tree_.Commit()) {
    for (uint64_t connection : watches_.Trigger(trigger)) {
      // As ZooKeeper since CVE-2024-23944: an event goes only to a session with READ on the
      // node (the parent for NodeChildrenChanged), else its path would leak a name the
      // session may not read. The standard watch is consumed either way, as in ZooKeeper.
      auto it = connections_.find(connection);
      if (it == connections_.end() || !CheckAcl(trigger.acls, perm::kRead, it->second.ids)) {
        continue;
      }
      Notify(connection, trigger.type, trigger.path);
    }
  }
}

void ZooKeeperService::CloseSessionTxn(int64_t session_id) {
  const Session* session = sessions_.Find(session_id);
  if (session != nullptr && session->local) {
    // Closing a local session is no txn (it owns no ephemerals: it only ever ran read-only).
    tree_.ForgetSession(session_id);
    sessions_.Remove(session_id);
    return;
  }
  NextZxid();
  // In ZooKeeper's order: it fixes the order of the events other sessions receive.
  for (const std::string& path : tree_.EphemeralsInCloseOrder(session_id)) {
    const Node* node = tree_.Find(path);
    if (node != nullptr && node->children.empty()) tree_.Delete(path, zxid_);
  }
  CommitAndNotify();
  tree_.ForgetSession(session_id);
  sessions_.Remove(session_id);
}

void ZooKeeperService::HandleRequest(uint64_t connection, ConnectionState& state,
                                     const Request& request, int64_t now_ms) {
  std::string op_name(OpName(request.opcode));
  counters_.requests_by_op[op_name]++;
  if (request_hook_) request_hook_(RequestInfo{state.session_id, op_name, request.path});
  state.last_xid = request.xid;
  state.last_op = op_name;
  const OpInfo* info = FindOp(request.opcode);
  if (info == nullptr) {
    Reply(connection, request.xid, zxid_, err::kUnimplemented);
    CloseConnection(connection);
    return;
  }
  const OpHandler* handler = FindHandler(request.opcode);
  if (!request.body_ok && (handler == nullptr || !handler->answers_bad_body)) {
    Reply(connection, request.xid, zxid_, err::kMarshallingError);
    return;
  }
  if (read_only_ && info->write) {
    Reply(connection, request.xid, zxid_, err::kNotReadOnly);
    return;
  }
  JuteWriter body;
  // An op of the protocol that this server does not implement is refused, not fatal.
  ReplyCode code = err::kUnimplemented;
  if (handler != nullptr) {
    code = (this->*handler->handle)(Call{connection, state, request, WallClockMs()}, body);
  }
  if (!code) return;
  state.last_zxid = zxid_;
  Reply(connection, request.xid, zxid_, *code, &body);
}

void ZooKeeperService::ExpireSessions(int64_t now_ms) {
  for (int64_t session_id : sessions_.Expired(now_ms)) {
    // Without a quorum no leader expires global sessions: only local ones expire here.
    const Session* session = sessions_.Find(session_id);
    if (read_only_ && session != nullptr && !session->local) continue;
    ExpireSession(session_id).IgnoreError();
  }
}

void ZooKeeperService::SetReadOnly(bool read_only, int64_t now_ms) {
  if (read_only == read_only_) return;
  read_only_ = read_only;
  std::vector<uint64_t> open;
  for (const auto& [id, unused] : connections_) open.push_back(id);
  for (uint64_t id : open) CloseConnection(id);
  if (read_only) return;
  // Back in the quorum: local sessions are unknown to it (a resume gets the expired answer);
  // global sessions start a fresh full timeout, as a new leader's session tracker gives them.
  std::vector<int64_t> local;
  for (const auto& [id, session] : sessions_.sessions()) {
    if (session.local) local.push_back(id);
  }
  for (int64_t id : local) {
    tree_.ForgetSession(id);
    sessions_.Remove(id);
  }
  TouchAllSessions(now_ms);
}

absl::Status ZooKeeperService::ExpireSession(int64_t session_id) {
  Session* session = sessions_.Find(session_id);
  if (session == nullptr) {
    return absl::NotFoundError(absl::StrFormat("session 0x%x not found", session_id));
  }
  uint64_t connection = session->connection;
  session->closing = true;
  CloseSessionTxn(session_id);
  if (connection != 0) CloseConnection(connection);
  return absl::OkStatus();
}

uint64_t ZooKeeperService::ConnectionOf(int64_t session_id) const {
  auto it = sessions_.sessions().find(session_id);
  return it == sessions_.sessions().end() ? 0 : it->second.connection;
}

void ZooKeeperService::TouchAllSessions(int64_t now_ms) {
  for (const auto& [id, unused] : sessions_.sessions()) {
    sessions_.Touch(*sessions_.Find(id), now_ms);
  }
}

void ZooKeeperService::ReapContainers(int64_t wall_ms) {
  if (read_only_) return;  // the leader's container manager reaps; a read-only server writes nothing
  for (const std::string& path : tree_.ContainerAndTtlPaths()) {
    const Node* node = tree_.Find(path);
    if (node == nullptr || !node->children.empty()) continue;
    bool reap = node->is_container() ? node->cversion > 0 : wall_ms - node->mtime > node->ttl();
    if (!reap) continue;
    tree_.Delete(path, NextZxid());
    CommitAndNotify();
  }
}

}  // namespace zk::testing::internal
