#include "zookeeper_service.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_format.h"
#include "acl_policy.h"
#include "path_validator.h"
#include "proto_aliases.h"

namespace zk::testing::internal {
namespace {

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsSpecialPath(std::string_view path) {
  return path == "/" || path == "/zookeeper" || path == "/zookeeper/quota" ||
         path == "/zookeeper/config";
}

struct CreateMode {
  bool valid = true;
  bool ephemeral = false;
  bool sequential = false;
  bool container = false;
  bool ttl = false;
};

CreateMode ParseCreateMode(int32_t flags) {
  CreateMode mode;
  switch (flags) {
    case 0: break;
    case 1: mode.ephemeral = true; break;
    case 2: mode.sequential = true; break;
    case 3: mode.ephemeral = mode.sequential = true; break;
    case 4: mode.container = true; break;
    case 5: mode.ttl = true; break;
    case 6: mode.ttl = mode.sequential = true; break;
    default: mode.valid = false; break;
  }
  return mode;
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

int32_t ZooKeeperService::ApplyCreate(const Request& request, ConnectionState& state,
                                      int64_t zxid, int64_t time_ms, std::string* created_path) {
  CreateMode mode = ParseCreateMode(request.flags);
  if (!mode.valid) return err::kBadArguments;
  if (request.opcode == op::kCreateContainer && !mode.container) return err::kBadArguments;
  if (mode.ttl && !options_.extended_types) return err::kUnimplemented;
  if (request.opcode == op::kCreateTtl && !options_.extended_types) return err::kUnimplemented;
  int64_t ttl = request.opcode == op::kCreateTtl ? request.ttl : -1;
  if (mode.ttl) {
    if (ttl <= 0 || ttl > kMaxTtl) return err::kBadArguments;
  } else if (ttl >= 0) {
    return err::kBadArguments;
  }
  const std::string& path = request.path;
  size_t last_slash = path.rfind('/');
  if (last_slash == std::string::npos || path.find('\0') != std::string::npos) {
    return err::kBadArguments;
  }
  std::vector<Acl> acls;
  if (!FixupAcl(request.acls, state.ids, sasl_enabled(), &acls)) return err::kInvalidAcl;
  std::string parent_path = last_slash == 0 ? "/" : path.substr(0, last_slash);
  const Node* parent = tree_.Find(parent_path);
  if (parent == nullptr) return err::kNoNode;
  if (!Allowed(*parent, perm::kCreate, state)) return err::kNoAuth;
  std::string full_path = path;
  if (mode.sequential) full_path += absl::StrFormat("%010d", parent->cversion);
  if (!IsValidPath(full_path)) return err::kBadArguments;
  if (tree_.Find(full_path) != nullptr) return err::kNodeExists;
  if (parent->session_owner() != 0) return err::kNoChildrenForEphemerals;
  int64_t owner = 0;
  if (mode.ephemeral) owner = state.session_id;
  if (mode.container) owner = kContainerOwner;
  if (mode.ttl) owner = kTtlOwnerMask | ttl;
  tree_.Create(full_path, request.data, std::move(acls), owner, zxid, time_ms,
               request.data_null);
  *created_path = full_path;
  return err::kOk;
}

int32_t ZooKeeperService::ApplyDelete(const Request& request, ConnectionState& state,
                                      int64_t zxid) {
  const std::string& path = request.path;
  size_t last_slash = path.rfind('/');
  if (last_slash == std::string::npos || path.find('\0') != std::string::npos ||
      IsSpecialPath(path)) {
    return err::kBadArguments;
  }
  std::string parent_path = last_slash == 0 ? "/" : path.substr(0, last_slash);
  const Node* parent = tree_.Find(parent_path);
  if (parent == nullptr) return err::kNoNode;
  if (!Allowed(*parent, perm::kDelete, state)) return err::kNoAuth;
  const Node* node = tree_.Find(path);
  if (node == nullptr) return err::kNoNode;
  if (request.version != -1 && request.version != node->version) return err::kBadVersion;
  if (!node->children.empty()) return err::kNotEmpty;
  tree_.Delete(path, zxid);
  return err::kOk;
}

int32_t ZooKeeperService::ApplySetData(const Request& request, ConnectionState& state,
                                       int64_t zxid, int64_t time_ms) {
  if (!IsValidPath(request.path)) return err::kBadArguments;
  const Node* node = tree_.Find(request.path);
  if (node == nullptr) return err::kNoNode;
  if (!Allowed(*node, perm::kWrite, state)) return err::kNoAuth;
  if (request.version != -1 && request.version != node->version) return err::kBadVersion;
  tree_.SetData(request.path, request.data, zxid, time_ms, request.data_null);
  return err::kOk;
}

int32_t ZooKeeperService::ApplySetAcl(const Request& request, ConnectionState& state) {
  if (!IsValidPath(request.path)) return err::kBadArguments;
  std::vector<Acl> acls;
  if (!FixupAcl(request.acls, state.ids, sasl_enabled(), &acls)) return err::kInvalidAcl;
  const Node* node = tree_.Find(request.path);
  if (node == nullptr) return err::kNoNode;
  if (!Allowed(*node, perm::kAdmin, state)) return err::kNoAuth;
  if (request.version != -1 && request.version != node->aversion) return err::kBadVersion;
  tree_.SetAcl(request.path, std::move(acls));
  return err::kOk;
}

int32_t ZooKeeperService::ApplyCheck(const Request& request, ConnectionState& state) {
  if (!IsValidPath(request.path)) return err::kBadArguments;
  const Node* node = tree_.Find(request.path);
  if (node == nullptr) return err::kNoNode;
  if (!Allowed(*node, perm::kRead, state)) return err::kNoAuth;
  if (request.version != -1 && request.version != node->version) return err::kBadVersion;
  return err::kOk;
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

void ZooKeeperService::WriteMulti(const Request& request, ConnectionState& state,
                                  int64_t time_ms, JuteWriter& body) {
  int64_t zxid = NextZxid();
  struct Result {
    int32_t type;
    int32_t err;
    std::string path;
    Stat stat;
  };
  std::vector<Result> results;
  int32_t failed = err::kOk;
  for (const Request& sub : request.ops) {
    Result result{sub.opcode, err::kOk, "", {}};
    switch (sub.opcode) {
      case op::kCreate:
      case op::kCreate2:
      case op::kCreateContainer:
      case op::kCreateTtl: {
        CreateMode mode = ParseCreateMode(sub.flags);
        result.type = (mode.container || mode.ttl) ? op::kCreate2 : op::kCreate;
        result.err = ApplyCreate(sub, state, zxid, time_ms, &result.path);
        if (result.err == err::kOk) result.stat = DataTree::StatOf(*tree_.Find(result.path));
        break;
      }
      case op::kDelete:
        result.err = ApplyDelete(sub, state, zxid);
        break;
      case op::kSetData:
        result.err = ApplySetData(sub, state, zxid, time_ms);
        if (result.err == err::kOk) result.stat = DataTree::StatOf(*tree_.Find(sub.path));
        break;
      case op::kCheck:
        result.err = ApplyCheck(sub, state);
        break;
    }
    results.push_back(result);
    if (result.err != err::kOk) {
      failed = result.err;
      break;
    }
  }
  if (failed != err::kOk) {
    tree_.Rollback();
    for (size_t i = 0; i < request.ops.size(); ++i) {
      int32_t code = i < results.size() - 1    ? err::kOk
                     : i == results.size() - 1 ? failed
                                               : err::kRuntimeInconsistency;
      body.WriteInt(op::kError);
      body.WriteBool(false);
      body.WriteInt(code);
      body.WriteInt(code);
    }
  } else {
    CommitAndNotify();
    for (const Result& result : results) {
      body.WriteInt(result.type);
      body.WriteBool(false);
      body.WriteInt(err::kOk);
      switch (result.type) {
        case op::kCreate:
          body.WriteString(result.path);
          break;
        case op::kCreate2:
          body.WriteString(result.path);
          WriteStat(result.stat, body);
          break;
        case op::kSetData:
          WriteStat(result.stat, body);
          break;
        default:
          break;
      }
    }
  }
  body.WriteInt(-1);
  body.WriteBool(true);
  body.WriteInt(-1);
}

void ZooKeeperService::WriteMultiRead(const Request& request, uint64_t connection,
                                      ConnectionState& state, JuteWriter& body) {
  for (const Request& sub : request.ops) {
    const Node* node = tree_.Find(sub.path);
    int32_t code = err::kOk;
    if (node == nullptr) {
      code = err::kNoNode;
    } else if (!Allowed(*node, perm::kRead, state)) {
      code = err::kNoAuth;
    }
    if (code != err::kOk) {
      body.WriteInt(op::kError);
      body.WriteBool(false);
      body.WriteInt(code);
      body.WriteInt(code);
      continue;
    }
    // As ZooKeeper's getData / getChildren: an op that asks for a watch and is answered
    // leaves one (a failed op leaves none).
    if (sub.watch) {
      watches_.Add(sub.opcode == op::kGetData ? WatchTable::kData : WatchTable::kChild, sub.path,
                   connection, WatchMode::kStandard);
      counters_.watches_set++;
    }
    body.WriteInt(sub.opcode);
    body.WriteBool(false);
    body.WriteInt(err::kOk);
    if (sub.opcode == op::kGetData) {
      if (node->data_null) {
        body.WriteNullBuffer();
      } else {
        body.WriteBuffer(node->data);
      }
      WriteStat(DataTree::StatOf(*node), body);
    } else {
      body.WriteStringVector(std::vector<std::string>(node->children.begin(),
                                                      node->children.end()));
    }
  }
  body.WriteInt(-1);
  body.WriteBool(true);
  body.WriteInt(-1);
}

void ZooKeeperService::RestoreStandardWatch(uint64_t connection, WatchTable table,
                                            const std::string& path, int64_t relative_zxid) {
  const bool data = table == WatchTable::kData;
  const Node* node = tree_.Find(path);
  if (node == nullptr) {
    Notify(connection, event::kNodeDeleted, path);
  } else if ((data ? node->mzxid : node->pzxid) > relative_zxid) {
    Notify(connection, data ? event::kNodeDataChanged : event::kNodeChildrenChanged, path);
  } else {
    watches_.Add(table, path, connection, WatchMode::kStandard);
  }
}

void ZooKeeperService::HandleSetWatches(uint64_t connection, const Request& request) {
  for (const std::string& path : request.data_watches) {
    RestoreStandardWatch(connection, WatchTable::kData, path, request.relative_zxid);
  }
  for (const std::string& path : request.exist_watches) {
    if (tree_.Find(path) != nullptr) {
      Notify(connection, event::kNodeCreated, path);
    } else {
      watches_.Add(WatchTable::kData, path, connection, WatchMode::kStandard);
    }
  }
  for (const std::string& path : request.child_watches) {
    RestoreStandardWatch(connection, WatchTable::kChild, path, request.relative_zxid);
  }
  for (const std::string& path : request.persistent_watches) {
    watches_.Add(WatchTable::kData, path, connection, WatchMode::kPersistent);
    watches_.Add(WatchTable::kChild, path, connection, WatchMode::kPersistent);
  }
  for (const std::string& path : request.recursive_watches) {
    watches_.Add(WatchTable::kData, path, connection, WatchMode::kPersistentRecursive);
    watches_.Add(WatchTable::kChild, path, connection, WatchMode::kPersistentRecursive);
  }
}

void ZooKeeperService::AddAuthId(ConnectionState& state, Id id) {
  if (std::find(state.ids.begin(), state.ids.end(), id) == state.ids.end()) {
    state.ids.push_back(std::move(id));
  }
}

void ZooKeeperService::HandleSasl(uint64_t connection, ConnectionState& state,
                                  const Request& request) {
  // ZooKeeper reads the GetSASLRequest before handing it to the SASL server: a packet that
  // does not decode throws an IOException, and the connection closes without an answer.
  if (!request.body_ok) {
    CloseConnection(connection);
    return;
  }
  // Replies carry the request's xid and zxid 0, and always a SetSASLResponse (a null token
  // when there is nothing to send, even with an error code).
  auto answer = [&](int32_t code, const std::string* token) {
    JuteWriter writer;
    writer.WriteInt(request.xid);
    writer.WriteLong(0);
    writer.WriteInt(code);
    if (token != nullptr) {
      writer.WriteBuffer(*token);
    } else {
      writer.WriteNullBuffer();
    }
    SendFrame(connection, writer.TakeFrame());
  };
  if (!sasl_enabled()) {
    // Without a JAAS Server section a connection has no SASL server: ZooKeeper catches the
    // NullPointerException and answers OK with no token.
    answer(err::kOk, nullptr);
    return;
  }
  if (!state.sasl) state.sasl.emplace(&options_.sasl_users, DigestMd5Server::NewNonce());
  SaslStep step = state.sasl->Evaluate(request.auth);
  switch (step.outcome) {
    case SaslStep::Outcome::kComplete:
      AddAuthId(state, Id{"sasl", step.authorization_id});
      [[fallthrough]];
    case SaslStep::Outcome::kChallenge:
      answer(err::kOk, &step.token);
      return;
    case SaslStep::Outcome::kFailed:
      answer(err::kAuthFailed, nullptr);
      CloseConnection(connection);
      return;
    case SaslStep::Outcome::kDropped:
      CloseConnection(connection);
      return;
  }
}

void ZooKeeperService::HandleRequest(uint64_t connection, ConnectionState& state,
                                     const Request& request, int64_t now_ms) {
  std::string op_name(OpName(request.opcode));
  counters_.requests_by_op[op_name]++;
  if (request_hook_) request_hook_(RequestInfo{state.session_id, op_name, request.path});
  state.last_xid = request.xid;
  state.last_op = op_name;
  const int32_t xid = request.xid;
  if (!IsKnownOp(request.opcode)) {
    Reply(connection, xid, zxid_, err::kUnimplemented);
    CloseConnection(connection);
    return;
  }
  if (request.opcode == op::kSasl) {
    HandleSasl(connection, state, request);
    return;
  }
  if (!request.body_ok) {
    Reply(connection, xid, zxid_, err::kMarshallingError);
    return;
  }
  if (read_only_ && FindOp(request.opcode)->write) {
    Reply(connection, xid, zxid_, err::kNotReadOnly);
    return;
  }
  const int64_t time_ms = WallClockMs();
  JuteWriter body;
  int32_t code = err::kOk;
  switch (request.opcode) {
    case op::kPing:
      Reply(connection, xid::kPing, zxid_, err::kOk);
      return;
    case op::kAuth: {
      // A null digest credential makes ZooKeeper's provider throw: AUTHFAILED (an empty one
      // is an id like any other). The sasl provider refuses addauth.
      if (request.scheme == "digest" && !request.auth_null) {
        std::string id = DigestId(request.auth);
        if (options_.super_digest && *options_.super_digest == id) {
          AddAuthId(state, Id{"super", ""});
        }
        AddAuthId(state, Id{"digest", id});
      } else if (request.scheme == "ip") {
        AddAuthId(state, Id{"ip", state.ip});
      } else {
        Reply(connection, xid::kAuth, 0, err::kAuthFailed);
        CloseConnection(connection);
        return;
      }
      Reply(connection, xid::kAuth, 0, err::kOk);
      return;
    }
    case op::kSetWatches:
    case op::kSetWatches2:
      HandleSetWatches(connection, request);
      Reply(connection, xid::kSetWatches, zxid_, err::kOk);
      return;
    case op::kCloseSession: {
      Session* session = sessions_.Find(state.session_id);
      if (session != nullptr) session->closing = true;
      CloseSessionTxn(state.session_id);
      Reply(connection, xid, zxid_, err::kOk);
      CloseConnection(connection);
      return;
    }
    case op::kCreate:
    case op::kCreate2:
    case op::kCreateContainer:
    case op::kCreateTtl: {
      int64_t zxid = NextZxid();
      std::string created;
      code = ApplyCreate(request, state, zxid, time_ms, &created);
      if (code != err::kOk) {
        tree_.Rollback();
        break;
      }
      CommitAndNotify();
      body.WriteString(created);
      if (request.opcode != op::kCreate) WriteStat(DataTree::StatOf(*tree_.Find(created)), body);
      break;
    }
    case op::kDelete:
      code = ApplyDelete(request, state, NextZxid());
      if (code != err::kOk) {
        tree_.Rollback();
      } else {
        CommitAndNotify();
      }
      break;
    case op::kSetData:
      code = ApplySetData(request, state, NextZxid(), time_ms);
      if (code != err::kOk) {
        tree_.Rollback();
        break;
      }
      CommitAndNotify();
      WriteStat(DataTree::StatOf(*tree_.Find(request.path)), body);
      break;
    case op::kSetAcl:
      NextZxid();
      code = ApplySetAcl(request, state);
      if (code != err::kOk) {
        tree_.Rollback();
        break;
      }
      CommitAndNotify();
      WriteStat(DataTree::StatOf(*tree_.Find(request.path)), body);
      break;
    case op::kCheck:
      NextZxid();
      code = ApplyCheck(request, state);
      break;
    case op::kMulti:
      WriteMulti(request, state, time_ms, body);
      break;
    case op::kMultiRead:
      WriteMultiRead(request, connection, state, body);
      break;
    case op::kExists: {
      if (request.path.find('\0') != std::string::npos) {
        code = err::kBadArguments;
        break;
      }
      if (request.watch) {
        watches_.Add(WatchTable::kData, request.path, connection, WatchMode::kStandard);
        counters_.watches_set++;
      }
      const Node* node = tree_.Find(request.path);
      if (node == nullptr) {
        code = err::kNoNode;
        break;
      }
      WriteStat(DataTree::StatOf(*node), body);
      break;
    }
    case op::kGetData:
    case op::kGetChildren:
    case op::kGetChildren2:
    case op::kGetAllChildrenNumber: {
      const Node* node = tree_.Find(request.path);
      if (node == nullptr) {
        code = err::kNoNode;
        break;
      }
      if (!Allowed(*node, perm::kRead, state)) {
        code = err::kNoAuth;
        break;
      }
      if (request.opcode == op::kGetAllChildrenNumber) {
        body.WriteInt(tree_.CountDescendants(request.path));
        break;
      }
      if (request.watch) {
        watches_.Add(request.opcode == op::kGetData ? WatchTable::kData : WatchTable::kChild,
                     request.path, connection, WatchMode::kStandard);
        counters_.watches_set++;
      }
      if (request.opcode == op::kGetData) {
        if (node->data_null) {
          body.WriteNullBuffer();
        } else {
          body.WriteBuffer(node->data);
        }
        WriteStat(DataTree::StatOf(*node), body);
      } else {
        body.WriteStringVector(
            std::vector<std::string>(node->children.begin(), node->children.end()));
        if (request.opcode == op::kGetChildren2) WriteStat(DataTree::StatOf(*node), body);
      }
      break;
    }
    case op::kGetAcl: {
      const Node* node = tree_.Find(request.path);
      if (node == nullptr) {
        code = err::kNoNode;
        break;
      }
      bool admin = Allowed(*node, perm::kAdmin, state);
      if (!admin && !Allowed(*node, perm::kRead, state)) {
        code = err::kNoAuth;
        break;
      }
      WriteAcls(admin ? node->acls : MaskDigests(node->acls), body);
      WriteStat(DataTree::StatOf(*node), body);
      break;
    }
    case op::kSync:
      body.WriteString(request.path);
      break;
    case op::kGetEphemerals: {
      // As ZooKeeper: a prefix that is blank or "/" once trimmed (Java's trim() drops every
      // char up to ' ' at both ends) lists them all; any other is matched untrimmed, as a
      // string prefix of the full path ("/eph" matches "/ephx"). In the order of the
      // session's HashSet clone, as the real server lists them.
      std::string_view trimmed = request.path;
      while (!trimmed.empty() && static_cast<unsigned char>(trimmed.front()) <= ' ') {
        trimmed.remove_prefix(1);
      }
      while (!trimmed.empty() && static_cast<unsigned char>(trimmed.back()) <= ' ') {
        trimmed.remove_suffix(1);
      }
      std::vector<std::string> paths;
      for (std::string& path : tree_.EphemeralsInCloseOrder(state.session_id)) {
        if (trimmed.empty() || trimmed == "/" ||
            path.compare(0, request.path.size(), request.path) == 0) {
          paths.push_back(std::move(path));
        }
      }
      body.WriteStringVector(paths);
      break;
    }
    case op::kWhoAmI: {
      // Every id, "super" included (its user is ""), in ZooKeeper's order.
      std::vector<Id> shown = InJavaSetOrder(state.ids);
      body.WriteInt(static_cast<int32_t>(shown.size()));
      for (const Id& id : shown) {
        body.WriteString(id.scheme);
        body.WriteString(id.scheme == "digest" ? id.id.substr(0, id.id.find(':')) : id.id);
      }
      break;
    }
    case op::kAddWatch: {
      if (request.type != 0 && request.type != 1) {
        code = err::kMarshallingError;
        break;
      }
      WatchMode mode =
          request.type == 0 ? WatchMode::kPersistent : WatchMode::kPersistentRecursive;
      watches_.Add(WatchTable::kData, request.path, connection, mode);
      watches_.Add(WatchTable::kChild, request.path, connection, mode);
      counters_.watches_set++;
      body.WriteInt(0);
      break;
    }
    case op::kCheckWatches:
    case op::kRemoveWatches: {
      bool child = request.type == 1 || request.type == 3;
      bool data = request.type == 2 || request.type == 3;
      if (!child && !data) {
        code = err::kBadArguments;
        break;
      }
      bool found = false;
      if (request.opcode == op::kCheckWatches) {
        found = (child && watches_.Contains(WatchTable::kChild, request.path, connection)) ||
                (data && watches_.Contains(WatchTable::kData, request.path, connection));
      } else {
        if (child) found |= watches_.Remove(WatchTable::kChild, request.path, connection);
        if (data) found |= watches_.Remove(WatchTable::kData, request.path, connection);
      }
      if (!found) code = err::kNoWatcher;
      break;
    }
    case op::kReconfig:
      code = err::kReconfigDisabled;
      break;
    default:  // every known op is handled above
      code = err::kUnimplemented;
      break;
  }
  state.last_zxid = zxid_;
  Reply(connection, xid, zxid_, code, &body);
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
