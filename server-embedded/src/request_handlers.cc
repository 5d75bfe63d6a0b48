// The per-opcode handlers of ZooKeeperService and the table that HandleRequest dispatches
// through: everything that answers one kind of request. The connection, session and
// notification machinery they share is in zookeeper_service.cc.

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "acl_policy.h"
#include "path_validator.h"
#include "proto_aliases.h"
#include "zookeeper_service.h"

namespace zk::testing::internal {
namespace {

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

// The GetDataResponse body: the data (a null buffer if it was created null) and the Stat.
void WriteNodeData(const Node& node, JuteWriter& body) {
  if (node.data_null) {
    body.WriteNullBuffer();
  } else {
    body.WriteBuffer(node.data);
  }
  WriteStat(DataTree::StatOf(node), body);
}

void WriteChildren(const Node& node, JuteWriter& body) {
  body.WriteStringVector(std::vector<std::string>(node.children.begin(), node.children.end()));
}

// The MultiHeader and ErrorResult of a failed sub-operation.
void WriteMultiError(int32_t code, JuteWriter& body) {
  body.WriteInt(op::kError);
  body.WriteBool(false);
  body.WriteInt(code);
  body.WriteInt(code);
}

// The MultiHeader that ends a multi or multiRead response.
void WriteMultiDone(JuteWriter& body) {
  body.WriteInt(-1);
  body.WriteBool(true);
  body.WriteInt(-1);
}

}  // namespace

const ZooKeeperService::OpHandler* ZooKeeperService::FindHandler(int32_t opcode) {
  static constexpr OpHandler kHandlers[] = {
      {op::kPing, &ZooKeeperService::HandlePing},
      {op::kAuth, &ZooKeeperService::HandleAuth},
      {op::kSasl, &ZooKeeperService::HandleSasl, /*answers_bad_body=*/true},
      {op::kSetWatches, &ZooKeeperService::HandleSetWatches},
      {op::kSetWatches2, &ZooKeeperService::HandleSetWatches},
      {op::kCloseSession, &ZooKeeperService::HandleCloseSession},
      {op::kCreate, &ZooKeeperService::HandleCreate},
      {op::kCreate2, &ZooKeeperService::HandleCreate},
      {op::kCreateContainer, &ZooKeeperService::HandleCreate},
      {op::kCreateTtl, &ZooKeeperService::HandleCreate},
      {op::kDelete, &ZooKeeperService::HandleDelete},
      {op::kSetData, &ZooKeeperService::HandleSetData},
      {op::kSetAcl, &ZooKeeperService::HandleSetAcl},
      {op::kCheck, &ZooKeeperService::HandleCheck},
      {op::kMulti, &ZooKeeperService::HandleMulti},
      {op::kMultiRead, &ZooKeeperService::HandleMultiRead},
      {op::kExists, &ZooKeeperService::HandleExists},
      {op::kGetData, &ZooKeeperService::HandleGetData},
      {op::kGetChildren, &ZooKeeperService::HandleGetChildren},
      {op::kGetChildren2, &ZooKeeperService::HandleGetChildren},
      {op::kGetAllChildrenNumber, &ZooKeeperService::HandleGetAllChildrenNumber},
      {op::kGetAcl, &ZooKeeperService::HandleGetAcl},
      {op::kSync, &ZooKeeperService::HandleSync},
      {op::kGetEphemerals, &ZooKeeperService::HandleGetEphemerals},
      {op::kWhoAmI, &ZooKeeperService::HandleWhoAmI},
      {op::kAddWatch, &ZooKeeperService::HandleAddWatch},
      {op::kCheckWatches, &ZooKeeperService::HandleCheckOrRemoveWatches},
      {op::kRemoveWatches, &ZooKeeperService::HandleCheckOrRemoveWatches},
      {op::kReconfig, &ZooKeeperService::HandleReconfig},
  };
  for (const OpHandler& handler : kHandlers) {
    if (handler.opcode == opcode) return &handler;
  }
  return nullptr;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandlePing(const Call& call, JuteWriter&) {
  Reply(call.connection, xid::kPing, zxid_, err::kOk);
  return std::nullopt;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleAuth(const Call& call, JuteWriter&) {
  const Request& request = call.request;
  // A null digest credential makes ZooKeeper's provider throw: AUTHFAILED (an empty one
  // is an id like any other). The sasl provider refuses addauth.
  if (request.scheme == "digest" && !request.auth_null) {
    std::string id = DigestId(request.auth);
    if (options_.super_digest && *options_.super_digest == id) {
      AddAuthId(call.state, Id{"super", ""});
    }
    AddAuthId(call.state, Id{"digest", id});
  } else if (request.scheme == "ip") {
    AddAuthId(call.state, Id{"ip", call.state.ip});
  } else {
    Reply(call.connection, xid::kAuth, 0, err::kAuthFailed);
    CloseConnection(call.connection);
    return std::nullopt;
  }
  Reply(call.connection, xid::kAuth, 0, err::kOk);
  return std::nullopt;
}

void ZooKeeperService::AddAuthId(ConnectionState& state, Id id) {
  if (std::find(state.ids.begin(), state.ids.end(), id) == state.ids.end()) {
    state.ids.push_back(std::move(id));
  }
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleSasl(const Call& call, JuteWriter&) {
  const uint64_t connection = call.connection;
  const Request& request = call.request;
  ConnectionState& state = call.state;
  // ZooKeeper reads the GetSASLRequest before handing it to the SASL server: a packet that
  // does not decode throws an IOException, and the connection closes without an answer.
  if (!request.body_ok) {
    CloseConnection(connection);
    return std::nullopt;
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
    return std::nullopt;
  }
  if (!state.sasl) state.sasl.emplace(&options_.sasl_users, DigestMd5Server::NewNonce());
  SaslStep step = state.sasl->Evaluate(request.auth);
  switch (step.outcome) {
    case SaslStep::Outcome::kComplete:
      AddAuthId(state, Id{"sasl", step.authorization_id});
      [[fallthrough]];
    case SaslStep::Outcome::kChallenge:
      answer(err::kOk, &step.token);
      break;
    case SaslStep::Outcome::kFailed:
      answer(err::kAuthFailed, nullptr);
      CloseConnection(connection);
      break;
    case SaslStep::Outcome::kDropped:
      CloseConnection(connection);
      break;
  }
  return std::nullopt;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleSetWatches(const Call& call, JuteWriter&) {
  const uint64_t connection = call.connection;
  const Request& request = call.request;
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
  Reply(connection, xid::kSetWatches, zxid_, err::kOk);
  return std::nullopt;
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

ZooKeeperService::ReplyCode ZooKeeperService::HandleCloseSession(const Call& call, JuteWriter&) {
  Session* session = sessions_.Find(call.state.session_id);
  if (session != nullptr) session->closing = true;
  CloseSessionTxn(call.state.session_id);
  Reply(call.connection, call.request.xid, zxid_, err::kOk);
  CloseConnection(call.connection);
  return std::nullopt;
}

int32_t ZooKeeperService::CommitOrRollback(int32_t code) {
  if (code == err::kOk) {
    CommitAndNotify();
  } else {
    tree_.Rollback();
  }
  return code;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleCreate(const Call& call, JuteWriter& body) {
  int64_t zxid = NextZxid();
  std::string created;
  int32_t code =
      CommitOrRollback(ApplyCreate(call.request, call.state, zxid, call.time_ms, &created));
  if (code != err::kOk) return code;
  body.WriteString(created);
  if (call.request.opcode != op::kCreate) {
    WriteStat(DataTree::StatOf(*tree_.Find(created)), body);
  }
  return code;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleDelete(const Call& call, JuteWriter&) {
  return CommitOrRollback(ApplyDelete(call.request, call.state, NextZxid()));
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleSetData(const Call& call, JuteWriter& body) {
  int32_t code = CommitOrRollback(ApplySetData(call.request, call.state, NextZxid(), call.time_ms));
  if (code == err::kOk) WriteStat(DataTree::StatOf(*tree_.Find(call.request.path)), body);
  return code;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleSetAcl(const Call& call, JuteWriter& body) {
  NextZxid();
  int32_t code = CommitOrRollback(ApplySetAcl(call.request, call.state));
  if (code == err::kOk) WriteStat(DataTree::StatOf(*tree_.Find(call.request.path)), body);
  return code;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleCheck(const Call& call, JuteWriter&) {
  NextZxid();
  return ApplyCheck(call.request, call.state);
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

ZooKeeperService::ReplyCode ZooKeeperService::HandleMulti(const Call& call, JuteWriter& body) {
  const Request& request = call.request;
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
        result.err = ApplyCreate(sub, call.state, zxid, call.time_ms, &result.path);
        if (result.err == err::kOk) result.stat = DataTree::StatOf(*tree_.Find(result.path));
        break;
      }
      case op::kDelete:
        result.err = ApplyDelete(sub, call.state, zxid);
        break;
      case op::kSetData:
        result.err = ApplySetData(sub, call.state, zxid, call.time_ms);
        if (result.err == err::kOk) result.stat = DataTree::StatOf(*tree_.Find(sub.path));
        break;
      case op::kCheck:
        result.err = ApplyCheck(sub, call.state);
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
      WriteMultiError(code, body);
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
  WriteMultiDone(body);
  return err::kOk;
}

int32_t ZooKeeperService::CheckReadable(const Node* node, const ConnectionState& state) const {
  if (node == nullptr) return err::kNoNode;
  if (!Allowed(*node, perm::kRead, state)) return err::kNoAuth;
  return err::kOk;
}

void ZooKeeperService::AddReadWatch(uint64_t connection, WatchTable table,
                                    const std::string& path) {
  watches_.Add(table, path, connection, WatchMode::kStandard);
  counters_.watches_set++;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleMultiRead(const Call& call,
                                                              JuteWriter& body) {
  for (const Request& sub : call.request.ops) {
    const Node* node = tree_.Find(sub.path);
    if (int32_t code = CheckReadable(node, call.state); code != err::kOk) {
      WriteMultiError(code, body);
      continue;
    }
    const bool get_data = sub.opcode == op::kGetData;
    // As ZooKeeper's getData / getChildren: an op that asks for a watch and is answered
    // leaves one (a failed op leaves none).
    if (sub.watch) {
      AddReadWatch(call.connection, get_data ? WatchTable::kData : WatchTable::kChild,
                   sub.path);
    }
    body.WriteInt(sub.opcode);
    body.WriteBool(false);
    body.WriteInt(err::kOk);
    if (get_data) {
      WriteNodeData(*node, body);
    } else {
      WriteChildren(*node, body);
    }
  }
  WriteMultiDone(body);
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleExists(const Call& call, JuteWriter& body) {
  const Request& request = call.request;
  if (request.path.find('\0') != std::string::npos) return err::kBadArguments;
  if (request.watch) AddReadWatch(call.connection, WatchTable::kData, request.path);
  const Node* node = tree_.Find(request.path);
  if (node == nullptr) return err::kNoNode;
  WriteStat(DataTree::StatOf(*node), body);
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleGetData(const Call& call, JuteWriter& body) {
  const Node* node = tree_.Find(call.request.path);
  if (int32_t code = CheckReadable(node, call.state); code != err::kOk) return code;
  if (call.request.watch) AddReadWatch(call.connection, WatchTable::kData, call.request.path);
  WriteNodeData(*node, body);
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleGetChildren(const Call& call,
                                                                JuteWriter& body) {
  const Node* node = tree_.Find(call.request.path);
  if (int32_t code = CheckReadable(node, call.state); code != err::kOk) return code;
  if (call.request.watch) AddReadWatch(call.connection, WatchTable::kChild, call.request.path);
  WriteChildren(*node, body);
  if (call.request.opcode == op::kGetChildren2) WriteStat(DataTree::StatOf(*node), body);
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleGetAllChildrenNumber(const Call& call,
                                                                         JuteWriter& body) {
  const Node* node = tree_.Find(call.request.path);
  if (int32_t code = CheckReadable(node, call.state); code != err::kOk) return code;
  body.WriteInt(tree_.CountDescendants(call.request.path));
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleGetAcl(const Call& call, JuteWriter& body) {
  const Node* node = tree_.Find(call.request.path);
  if (node == nullptr) return err::kNoNode;
  bool admin = Allowed(*node, perm::kAdmin, call.state);
  if (!admin && !Allowed(*node, perm::kRead, call.state)) return err::kNoAuth;
  WriteAcls(admin ? node->acls : MaskDigests(node->acls), body);
  WriteStat(DataTree::StatOf(*node), body);
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleSync(const Call& call, JuteWriter& body) {
  body.WriteString(call.request.path);
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleGetEphemerals(const Call& call,
                                                                  JuteWriter& body) {
  const std::string& prefix = call.request.path;
  // As ZooKeeper: a prefix that is blank or "/" once trimmed (Java's trim() drops every
  // char up to ' ' at both ends) lists them all; any other is matched untrimmed, as a
  // string prefix of the full path ("/eph" matches "/ephx"). In the order of the
  // session's HashSet clone, as the real server lists them.
  std::string_view trimmed = prefix;
  while (!trimmed.empty() && static_cast<unsigned char>(trimmed.front()) <= ' ') {
    trimmed.remove_prefix(1);
  }
  while (!trimmed.empty() && static_cast<unsigned char>(trimmed.back()) <= ' ') {
    trimmed.remove_suffix(1);
  }
  std::vector<std::string> paths;
  for (std::string& path : tree_.EphemeralsInCloseOrder(call.state.session_id)) {
    if (trimmed.empty() || trimmed == "/" || path.compare(0, prefix.size(), prefix) == 0) {
      paths.push_back(std::move(path));
    }
  }
  body.WriteStringVector(paths);
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleWhoAmI(const Call& call, JuteWriter& body) {
  // Every id, "super" included (its user is ""), in ZooKeeper's order.
  std::vector<Id> shown = InJavaSetOrder(call.state.ids);
  body.WriteInt(static_cast<int32_t>(shown.size()));
  for (const Id& id : shown) {
    body.WriteString(id.scheme);
    body.WriteString(id.scheme == "digest" ? id.id.substr(0, id.id.find(':')) : id.id);
  }
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleAddWatch(const Call& call, JuteWriter& body) {
  const Request& request = call.request;
  if (request.type != 0 && request.type != 1) return err::kMarshallingError;
  WatchMode mode = request.type == 0 ? WatchMode::kPersistent : WatchMode::kPersistentRecursive;
  watches_.Add(WatchTable::kData, request.path, call.connection, mode);
  watches_.Add(WatchTable::kChild, request.path, call.connection, mode);
  counters_.watches_set++;
  body.WriteInt(0);
  return err::kOk;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleCheckOrRemoveWatches(const Call& call,
                                                                         JuteWriter&) {
  const Request& request = call.request;
  const uint64_t connection = call.connection;
  // The WatcherType: 1 children, 2 data, 3 any.
  bool child = request.type == 1 || request.type == 3;
  bool data = request.type == 2 || request.type == 3;
  if (!child && !data) return err::kBadArguments;
  bool found = false;
  if (request.opcode == op::kCheckWatches) {
    found = (child && watches_.Contains(WatchTable::kChild, request.path, connection)) ||
            (data && watches_.Contains(WatchTable::kData, request.path, connection));
  } else {
    if (child) found |= watches_.Remove(WatchTable::kChild, request.path, connection);
    if (data) found |= watches_.Remove(WatchTable::kData, request.path, connection);
  }
  return found ? err::kOk : err::kNoWatcher;
}

ZooKeeperService::ReplyCode ZooKeeperService::HandleReconfig(const Call&, JuteWriter&) {
  return err::kReconfigDisabled;
}

}  // namespace zk::testing::internal
