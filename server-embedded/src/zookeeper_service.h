// ZooKeeperService: the protocol state machine of the embedded server. It
// turns decoded client packets into replies, notifications and connection
// closes, independent of sockets (the network layer feeds it frames). Its
// per-opcode handlers and their dispatch table are in request_handlers.cc.

#ifndef ZK_SERVER_EMBEDDED_SRC_ZOOKEEPER_SERVICE_H_
#define ZK_SERVER_EMBEDDED_SRC_ZOOKEEPER_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "data_tree.h"
#include "proto_aliases.h"
#include "sasl_digest_md5.h"
#include "session_tracker.h"
#include "watch_manager.h"
#include "zk/testing/embedded_server.h"

namespace zk::testing::internal {

// Receives what the service wants done with connections.
class ConnectionSink {
 public:
  virtual ~ConnectionSink() = default;
  // Queues a framed packet for a connection.
  virtual void Send(uint64_t connection, std::string frame) = 0;
  // Closes a connection once its queued packets are written. The sink must
  // call ZooKeeperService::OnDisconnect later, never from inside Close().
  virtual void Close(uint64_t connection) = 0;
};

// Configures a ZooKeeperService.
struct ServiceOptions {
  int64_t tick_ms = 500;
  int32_t min_session_timeout_ms = 1000;
  int32_t max_session_timeout_ms = 10000;
  bool extended_types = true;
  // The digest id ("super:<base64 sha1>") that grants the super user.
  std::optional<std::string> super_digest;
  // SASL DIGEST-MD5 users (name -> password); empty: no SASL configured.
  std::map<std::string, std::string> sasl_users;
};

// Holds what the service knows about one connection.
struct ConnectionState {
  std::string ip;
  int port = 0;
  int member = 0;
  bool handshaken = false;
  bool old_client = false;
  bool closing = false;
  int64_t session_id = 0;
  std::vector<Id> ids;
  // The connection's SASL exchange, from its first sasl packet on.
  std::optional<DigestMd5Server> sasl;
  int64_t packets_received = 0;
  int64_t packets_sent = 0;
  int64_t established_ms = 0;
  int64_t last_zxid = 0;
  int32_t last_xid = 0;
  std::string last_op = "NA";
};

// Implements ZooKeeper 3.8 server semantics over a DataTree, a WatchManager
// and a SessionTracker.
//
// Thread-compatible: every call must come from one thread (the server loop)
// or be otherwise serialized.
class ZooKeeperService {
 public:
  ZooKeeperService(ServiceOptions options, ConnectionSink* sink);

  // Registers a new TCP connection.
  void OnConnect(uint64_t connection, std::string ip, int port, int member, int64_t now_ms);
  // Handles one frame body from a connection.
  void OnFrame(uint64_t connection, std::string_view body, int64_t now_ms);
  // Forgets a closed connection: its watches go, its session stays.
  void OnDisconnect(uint64_t connection);

  // Expires the sessions whose deadline has passed.
  void ExpireSessions(int64_t now_ms);
  // Deletes empty used containers and expired TTL nodes.
  void ReapContainers(int64_t wall_ms);
  // Expires a session now. Errors: NotFound if there is no such session.
  absl::Status ExpireSession(int64_t session_id);
  // Returns the connection bound to a session, or 0.
  uint64_t ConnectionOf(int64_t session_id) const;
  // Gives every session a fresh full timeout (after a restart).
  void TouchAllSessions(int64_t now_ms);
  // Switches read-only mode as a member that drops out of (or rejoins) the quorum: every
  // connection closes; on rejoining, the sessions created while read-only (local) are forgotten
  // and the others get a fresh full timeout. No-op if the mode does not change.
  void SetReadOnly(bool read_only, int64_t now_ms);
  bool read_only() const { return read_only_; }
  // Returns true if SASL users are configured (ZooKeeper's JAAS Server section and sasl
  // provider).
  bool sasl_enabled() const { return !options_.sasl_users.empty(); }

  void SetRequestHook(std::function<void(const RequestInfo&)> hook) {
    request_hook_ = std::move(hook);
  }
  void SetEventHook(std::function<void(const EventInfo&)> hook) { event_hook_ = std::move(hook); }

  const EmbeddedServer::Counters& counters() const { return counters_; }
  const DataTree& tree() const { return tree_; }
  const WatchManager& watches() const { return watches_; }
  const SessionTracker& sessions() const { return sessions_; }
  const std::unordered_map<uint64_t, ConnectionState>& connections() const {
    return connections_;
  }
  const ServiceOptions& options() const { return options_; }
  int64_t zxid() const { return zxid_; }
  // Replaces the tree with a loaded snapshot's nodes and continues from its zxid; before any
  // connection. Errors: those of DataTree::Replace.
  absl::Status RestoreTree(std::unordered_map<std::string, Node> nodes, int64_t last_zxid);
  int64_t packets_received() const { return packets_received_; }
  int64_t packets_sent() const { return packets_sent_; }

 private:
  void HandleConnect(uint64_t connection, ConnectionState& state, std::string_view body,
                     int64_t now_ms);
  // Counts a request, refuses what the op table says to refuse (unknown op, bad body,
  // write on a read-only server) and hands the rest to the op's handler.
  void HandleRequest(uint64_t connection, ConnectionState& state, const Request& request,
                     int64_t now_ms);

  // One request as its handler sees it.
  struct Call {
    uint64_t connection;
    ConnectionState& state;
    const Request& request;
    // Wall-clock time for the ctime/mtime of what the request writes.
    int64_t time_ms;
  };
  // The error code of the standard reply (request xid, current zxid, the body if the code is
  // ZOK), or std::nullopt when the handler answered (or closed the connection) itself.
  using ReplyCode = std::optional<int32_t>;
  // Answers one opcode; writes the reply body into `body`.
  using Handler = ReplyCode (ZooKeeperService::*)(const Call& call, JuteWriter& body);
  // A row of the dispatch table (request_handlers.cc).
  struct OpHandler {
    int32_t opcode;
    Handler handle;
    // True if the handler answers a body that did not decode itself (sasl closes the
    // connection); otherwise HandleRequest replies ZMARSHALLINGERROR.
    bool answers_bad_body = false;
  };
  // Returns the handler row of an opcode, or nullptr if the server does not implement it.
  static const OpHandler* FindHandler(int32_t opcode);

  // The handlers, one per opcode or per family of opcodes that share a record.
  ReplyCode HandlePing(const Call& call, JuteWriter& body);
  ReplyCode HandleAuth(const Call& call, JuteWriter& body);
  ReplyCode HandleSetWatches(const Call& call, JuteWriter& body);
  ReplyCode HandleCloseSession(const Call& call, JuteWriter& body);
  ReplyCode HandleCreate(const Call& call, JuteWriter& body);
  ReplyCode HandleDelete(const Call& call, JuteWriter& body);
  ReplyCode HandleSetData(const Call& call, JuteWriter& body);
  ReplyCode HandleSetAcl(const Call& call, JuteWriter& body);
  ReplyCode HandleCheck(const Call& call, JuteWriter& body);
  ReplyCode HandleMulti(const Call& call, JuteWriter& body);
  ReplyCode HandleMultiRead(const Call& call, JuteWriter& body);
  ReplyCode HandleExists(const Call& call, JuteWriter& body);
  ReplyCode HandleGetData(const Call& call, JuteWriter& body);
  ReplyCode HandleGetChildren(const Call& call, JuteWriter& body);
  ReplyCode HandleGetAllChildrenNumber(const Call& call, JuteWriter& body);
  ReplyCode HandleGetAcl(const Call& call, JuteWriter& body);
  ReplyCode HandleSync(const Call& call, JuteWriter& body);
  ReplyCode HandleGetEphemerals(const Call& call, JuteWriter& body);
  ReplyCode HandleWhoAmI(const Call& call, JuteWriter& body);
  ReplyCode HandleAddWatch(const Call& call, JuteWriter& body);
  ReplyCode HandleCheckOrRemoveWatches(const Call& call, JuteWriter& body);
  ReplyCode HandleReconfig(const Call& call, JuteWriter& body);
  // Answers a sasl packet (opcode 102) as ZooKeeper's processSasl does.
  ReplyCode HandleSasl(const Call& call, JuteWriter& body);

  // Applies one write inside the open tree transaction; returns an error code.
  int32_t ApplyCreate(const Request& request, ConnectionState& state, int64_t zxid,
                      int64_t time_ms, std::string* created_path);
  int32_t ApplyDelete(const Request& request, ConnectionState& state, int64_t zxid);
  int32_t ApplySetData(const Request& request, ConnectionState& state, int64_t zxid,
                       int64_t time_ms);
  int32_t ApplySetAcl(const Request& request, ConnectionState& state);
  int32_t ApplyCheck(const Request& request, ConnectionState& state);
  // Ends the tree transaction of a single write by its Apply* code: commits it and sends the
  // notifications on ZOK, else rolls it back. Returns `code`.
  int32_t CommitOrRollback(int32_t code);
  // ZooKeeper's check before a read of a node: ZNONODE if it is missing, ZNOAUTH without
  // READ, else ZOK.
  int32_t CheckReadable(const Node* node, const ConnectionState& state) const;
  // Leaves a standard watch on `path` for the connection, as a read that asked for one.
  void AddReadWatch(uint64_t connection, WatchTable table, const std::string& path);
  // Adds an authenticated id to a connection; ZooKeeper keeps them in a set.
  static void AddAuthId(ConnectionState& state, Id id);
  // A data or child watch of setWatches: fired at once if the node is gone or changed after
  // the client's last zxid (mzxid for data, pzxid for children), else armed again.
  void RestoreStandardWatch(uint64_t connection, WatchTable table, const std::string& path,
                            int64_t relative_zxid);

  // Commits the tree transaction and sends the notifications it causes.
  void CommitAndNotify();
  void Notify(uint64_t connection, int32_t type, const std::string& path);
  // Deletes a session's ephemerals in one txn and removes the session; a local session goes
  // without a txn.
  void CloseSessionTxn(int64_t session_id);

  void SendFrame(uint64_t connection, std::string frame);
  // Sends ReplyHeader + body (the body only when err == 0).
  void Reply(uint64_t connection, int32_t xid, int64_t zxid, int32_t err,
             JuteWriter* body = nullptr);
  void CloseConnection(uint64_t connection);
  bool Allowed(const Node& node, int32_t perm, const ConnectionState& state) const;
  int64_t NextZxid() { return ++zxid_; }

  ServiceOptions options_;
  ConnectionSink* sink_;
  DataTree tree_;
  WatchManager watches_;
  SessionTracker sessions_;
  std::unordered_map<uint64_t, ConnectionState> connections_;
  int64_t zxid_ = 0;
  bool read_only_ = false;
  int64_t packets_received_ = 0;
  int64_t packets_sent_ = 0;
  EmbeddedServer::Counters counters_;
  std::function<void(const RequestInfo&)> request_hook_;
  std::function<void(const EventInfo&)> event_hook_;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_ZOOKEEPER_SERVICE_H_
