// zkcpp — zk::Client, a C++20 client for Apache ZooKeeper 3.8.
//
// Overview. A Client owns one ZooKeeper session at a time and an event-loop thread that drives
// its engine (ClientOptions::engine): the official single-threaded C library (libzookeeper_st)
// or zkcpp's own implementation of the protocol. Every operation exists in two forms:
//   - AsyncX(..., callback): returns at once; the callback is invoked exactly once, with the
//     result or an error, on the client's callback executor (ClientOptions::callback_execution);
//   - X(...): blocks until the result arrives or the operation timeout passes.
// Errors are absl::Status values (see zk/status.h). Invalid arguments (bad paths, data over 1 MB,
// negative versions, bad ACLs) are rejected before any I/O with InvalidArgument.
//
// Errors every operation may return, besides those listed with each call:
//   - Unavailable: the connection was lost while the request was out (for a write, the outcome
//     is unknown: IsUnknownOutcome());
//   - DeadlineExceeded: the operation timeout passed (likewise unknown for a sent write);
//   - Aborted carrying SESSIONEXPIRED: the session ended under the request. Aborted also means
//     BADVERSION for versioned writes: tell them apart with IsSessionExpired / IsBadVersion;
//   - Cancelled: the client is closed;
//   - FailedPrecondition (blocking forms only): called on the client's event-loop thread, i.e.
//     from an inline callback, where waiting would deadlock.
// After Close(), an async call completes with Cancelled at once, on the calling thread, before
// it returns: do not hold a lock there that its callback takes.
//
// Example:
//   auto client = zk::Client::Connect({.connect_string = "127.0.0.1:2181"});
//   if (!client.ok()) return client.status();
//   ZK_RETURN_IF_ERROR((*client)->WaitUntilConnected(std::chrono::seconds(5)));
//   ZK_ASSIGN_OR_RETURN(zk::CreateResult created,
//                       (*client)->Create("/jobs/job-", "payload",
//                                         {.mode = zk::CreateMode::kPersistentSequential,
//                                          .create_parents = true}));
//   ZK_ASSIGN_OR_RETURN(zk::GetResult got, (*client)->Get(created.path));
//
// Sessions. State changes (Curator's model: connected, suspended, reconnected, lost, read-only,
// closed) are delivered to SubscribeSessionEvents subscribers. When the session expires, or no
// reconnect happens within the negotiated session timeout, the client reports kLost and opens a
// new session by itself (reported as kReconnected with new_session = true). Ephemeral nodes and
// watches of the lost session are gone; every one-shot watch receives a kNotWatching event (a
// persistent watch instead reads its nodes again in the new session and reports what changed).
// An AUTHFAILED from the server ends the session the same way (kLost, then a new session).
//
// Thread-safety: Client is thread-safe; every method may be called from any thread.

#ifndef ZK_CLIENT_H_
#define ZK_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/metrics.h"
#include "zk/status.h"
#include "zk/types.h"
#include "zk/watch.h"

namespace zk {

namespace internal {
class Engine;
class ClientAccess;
}

// A completion callback: invoked exactly once with the result of an async operation.
template <typename T>
using Callback = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;
using StatusCallback = absl::AnyInvocable<void(absl::Status) &&>;
// A watch callback: invoked once per event; a one-shot watch gets exactly one event (possibly the
// terminal kNotWatching).
using WatchCallback = absl::AnyInvocable<void(const WatchEvent&)>;
using SessionCallback = absl::AnyInvocable<void(const SessionEvent&)>;

// Returns the index of the op that made a Multi fail, carried by the Multi's error status, or
// nullopt if the failure was not about one op (connection loss, bad arguments, ...).
std::optional<size_t> FailedOpIndex(const absl::Status& status);

// Options of AddPersistentWatch.
struct PersistentWatchOptions {
  // Watch the whole subtree (created / deleted / data-changed events of every descendant),
  // instead of the node itself and its direct children.
  bool recursive = false;
};

// A ZooKeeper client. See the file comment. Thread-safe.
class Client {
 public:
  // Starts a client: validates `options`, creates the event-loop thread and begins connecting.
  // Does not wait for the connection; use WaitUntilConnected. Operations issued before the
  // session is established are queued and sent once it is.
  // Errors: InvalidArgument for a malformed connect string, chroot or option.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);

  // Closes the session (its ephemeral nodes are deleted), completes every pending callback with
  // Cancelled, sends every live watch a terminal kNotWatching event, and joins the threads.
  // Safe to call from one of the client's own callbacks (the threads are then detached and end
  // by themselves).
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Blocks until a session is established (or re-established), at most `timeout`. With
  // ClientOptions::sasl, established includes the server's acceptance of the credentials.
  // Errors: DeadlineExceeded (on the native engine its message ends with "; last connection
  // error: <host:port>: <reason>" once an attempt failed, e.g. a TLS certificate refused);
  // Unauthenticated once the server refused the SASL credentials (final: see SaslOptions);
  // Cancelled after Close(); FailedPrecondition on the loop thread.
  absl::Status WaitUntilConnected(std::chrono::milliseconds timeout);

  // Closes the session now, as the destructor does, but keeps the object: every later operation
  // fails with Cancelled. Idempotent. Blocks until the loop thread has ended, which includes the
  // engine's wait (at most 1.5 s) for the server to answer the close request. Called on the event-loop
  // thread (an inline callback) it does not wait: the loop ends after the callback returns.
  void Close();

  // The current session's id (0 before the first connection), its negotiated timeout, its state
  // (kSuspended before the first connection is made).
  int64_t session_id() const;
  // The current session's 16-byte password, as the server handed it out. For tools and tests
  // (e.g. forcing a server-side expiry); treat it as a secret.
  std::string session_password() const;
  std::chrono::milliseconds negotiated_session_timeout() const;
  SessionState state() const;

  // A snapshot of this client's metrics (zk/metrics.h): per-operation counts, errors and latency
  // histograms, queue depths, watches, connections. Any thread, any time; it takes one internal
  // lock only long enough to read the queue depth.
  ClientMetrics Metrics() const;

  // Calls `callback` for every future session event, on the callback executor, in order. The
  // subscription ends when the returned handle is destroyed.
  Subscription SubscribeSessionEvents(SessionCallback callback);

  // --- create -------------------------------------------------------------------------------
  // Creates `path` with `data`. Returns the actual path (with sequence suffix) and its Stat.
  // Errors: AlreadyExists (NODEEXISTS), NotFound (parent missing, without create_parents),
  // FailedPrecondition (parent is ephemeral), PermissionDenied, InvalidArgument,
  // Unimplemented (TTL modes on a server without extended types), Unavailable (connection loss:
  // outcome unknown unless `protect` was set).
  void AsyncCreate(std::string_view path, std::string_view data, CreateOptions options,
                   Callback<CreateResult> done);
  absl::StatusOr<CreateResult> Create(std::string_view path, std::string_view data,
                                      CreateOptions options = {});

  // --- delete -------------------------------------------------------------------------------
  // Deletes `path` if its version equals `expected_version` (any version if nullopt).
  // Errors: NotFound, Aborted (BADVERSION), FailedPrecondition (NOTEMPTY), PermissionDenied.
  void AsyncDelete(std::string_view path, std::optional<int32_t> expected_version,
                   StatusCallback done);
  absl::Status Delete(std::string_view path, std::optional<int32_t> expected_version = {});

  // --- exists -------------------------------------------------------------------------------
  // Returns the Stat of `path`, or nullopt if it does not exist (not an error).
  void AsyncExists(std::string_view path, Callback<std::optional<Stat>> done);
  absl::StatusOr<std::optional<Stat>> Exists(std::string_view path);

  // --- get / set ----------------------------------------------------------------------------
  // Returns the data and Stat of `path`. Errors: NotFound, PermissionDenied.
  void AsyncGet(std::string_view path, Callback<GetResult> done);
  absl::StatusOr<GetResult> Get(std::string_view path);

  // Replaces the data of `path` if its version equals `expected_version` (any if nullopt);
  // returns the new Stat. Errors: NotFound, Aborted (BADVERSION), PermissionDenied.
  void AsyncSet(std::string_view path, std::string_view data,
                std::optional<int32_t> expected_version, Callback<Stat> done);
  absl::StatusOr<Stat> Set(std::string_view path, std::string_view data,
                           std::optional<int32_t> expected_version = {});

  // --- children -----------------------------------------------------------------------------
  // Returns the names of the children of `path` and the Stat of `path`.
  void AsyncGetChildren(std::string_view path, Callback<ChildrenResult> done);
  absl::StatusOr<ChildrenResult> GetChildren(std::string_view path);

  // --- ACLs ---------------------------------------------------------------------------------
  void AsyncGetAcl(std::string_view path, Callback<AclResult> done);
  absl::StatusOr<AclResult> GetAcl(std::string_view path);
  // Replaces the ACL of `path` if its aversion equals `expected_aversion` (any if nullopt).
  // (The C library's setACL reply carries no Stat; read it with GetAcl if needed.)
  // Errors: InvalidArgument (INVALIDACL, e.g. empty list or auth ids without credentials),
  // NotFound, Aborted (BADVERSION), PermissionDenied.
  void AsyncSetAcl(std::string_view path, AclList acl, std::optional<int32_t> expected_aversion,
                   StatusCallback done);
  absl::Status SetAcl(std::string_view path, AclList acl,
                      std::optional<int32_t> expected_aversion = {});

  // --- multi --------------------------------------------------------------------------------
  // Runs `ops` atomically: all succeed or none is applied. On failure the status is that of the
  // failing op, its message names the op, counting from 1 ("multi: op 2 of 3 (create /a): node
  // already exists; no op was applied (NODEEXISTS)"), and FailedOpIndex() returns its index,
  // counting from 0.
  void AsyncMulti(std::vector<Op> ops, Callback<MultiResult> done);
  absl::StatusOr<MultiResult> Multi(std::vector<Op> ops);

  // --- sync / auth --------------------------------------------------------------------------
  // Makes the connected server catch up with the leader on `path`, so that a following read
  // sees every write committed before the Sync.
  void AsyncSync(std::string_view path, StatusCallback done);
  absl::Status Sync(std::string_view path);

  // Adds credentials to the session (and to every later session of this client).
  // Errors: Unauthenticated (AUTHFAILED). The server then closes the connection and the session
  // is over: subscribers see kLost, and the client opens a new session (see Sessions above).
  void AsyncAddAuth(std::string_view scheme, std::string_view credential, StatusCallback done);
  absl::Status AddAuth(std::string_view scheme, std::string_view credential);

  // --- ZooKeeper 3.6+ ---------------------------------------------------------------------------
  // The ops ZooKeeper added in 3.6. They need a 3.6+ server and the native engine
  // (EngineKind::kNative): the C library 3.8 has no call for them, so on the C-library engine
  // they fail at once, before any I/O, with Unimplemented naming the op.

  // Returns the identities the server holds for this session: one per scheme it authenticated
  // (the connection's "ip", each AddAuth / digest_auth credential, ...), in the server's order.
  // Errors: Unimplemented (C-library engine, or a server older than 3.6).
  void AsyncWhoAmI(Callback<std::vector<ClientIdentity>> done);
  absl::StatusOr<std::vector<ClientIdentity>> WhoAmI();

  // Returns the paths (without the chroot) of the ephemeral nodes this session owns whose path
  // starts with `prefix` as a string: "/app/eph" matches "/app/eph" and "/app/ephx/a" alike, so
  // pass a whole node path and filter if only its subtree is wanted. "/" (the default) lists
  // them all; under a chroot, all of those inside the chroot. In no particular order (the
  // server's hash order). `prefix` need not exist; a prefix nothing matches gives an empty
  // list, not NotFound.
  // Errors: InvalidArgument (`prefix` breaks the path rules: it must be absolute, without a
  // trailing '/'), Unimplemented (C-library engine).
  void AsyncGetEphemerals(std::string_view prefix, Callback<std::vector<std::string>> done);
  absl::StatusOr<std::vector<std::string>> GetEphemerals(std::string_view prefix = "/");

  // Returns the number of descendants of `path`: children, grandchildren and so on (not
  // `path` itself). For "/" that includes ZooKeeper's own nodes under /zookeeper.
  // Errors: NotFound, PermissionDenied (no READ on `path`), Unimplemented (C-library engine).
  void AsyncGetAllChildrenNumber(std::string_view path, Callback<int32_t> done);
  absl::StatusOr<int32_t> GetAllChildrenNumber(std::string_view path);

  // Reads every op of `ops` (op::Get, op::GetChildren) in one request: one round trip for
  // many reads. Not a transaction: each op succeeds or fails on its own, and its
  // ReadOpResult::status says which (NotFound, PermissionDenied), naming its op and path. The
  // call itself fails only as a whole (connection loss, deadline, ...). No op leaves a watch.
  // Errors: InvalidArgument (a path breaks the rules; the message names the op: "multi_read op
  // 2 of 3 (get_children) a: ..."), Unimplemented (C-library engine).
  void AsyncMultiRead(std::vector<ReadOp> ops, Callback<MultiReadResult> done);
  absl::StatusOr<MultiReadResult> MultiRead(std::vector<ReadOp> ops);

  // --- watches ------------------------------------------------------------------------------
  // Reads like Get / Exists / GetChildren and leaves a one-shot watch that calls `on_event` once:
  // with the change (data: created, deleted, data changed; children: children changed, deleted)
  // or with a terminal kNotWatching. Watches of one kind on one path share one server-side
  // watch. If the read fails, no watch is left and `on_event` is never called.
  // ExistsAndWatch on a missing node also watches (for its creation).
  // Errors: as the plain read; ResourceExhausted past ClientOptions::watch_budget_bytes.
  void AsyncGetAndWatch(std::string_view path, WatchCallback on_event,
                        Callback<Watched<GetResult>> done);
  absl::StatusOr<Watched<GetResult>> GetAndWatch(std::string_view path, WatchCallback on_event);
  void AsyncExistsAndWatch(std::string_view path, WatchCallback on_event,
                           Callback<Watched<std::optional<Stat>>> done);
  absl::StatusOr<Watched<std::optional<Stat>>> ExistsAndWatch(std::string_view path,
                                                               WatchCallback on_event);
  void AsyncGetChildrenAndWatch(std::string_view path, WatchCallback on_event,
                                Callback<Watched<ChildrenResult>> done);
  absl::StatusOr<Watched<ChildrenResult>> GetChildrenAndWatch(std::string_view path,
                                                              WatchCallback on_event);

  // Watches `path` (and with `recursive` its subtree) until the handle is destroyed. Blocks
  // until `path` (with `recursive`, every node of its subtree) has been read once, so that
  // every change made after it returns is reported (so not on an inline callback thread).
  //
  // The native engine (EngineKind::kNative) on ZooKeeper 3.6+ uses the server's own
  // persistent watch (addWatch): one server-side watch for the whole subtree, and every event
  // the server sends is reported as it comes, in order, without a read. The server restores the
  // watch after a reconnect but does not replay the changes made meanwhile, so after a
  // reconnect or a new session the subtree is read again and what changed while the client was
  // away is reported as events (a change the client was away for may come as one event).
  // The C library has no addWatch: on that engine (and on older servers) this is emulated on
  // one-shot watches, re-armed after each event and after every reconnect, followed by a read
  // (a resync) that compares what it finds with what was last seen and reports the difference
  // as events; several changes between two re-arms may be coalesced into one event.
  // On both, the final state is never missed: after the last change, the callback has seen an
  // event for every node whose state differs from what it saw before.
  // Events: non-recursive — kCreated/kDeleted/kDataChanged for `path`, kChildrenChanged when its
  // children change; recursive — kCreated/kDeleted/kDataChanged for `path` and every descendant
  // (never kChildrenChanged), as ZooKeeper's persistent-recursive watch does.
  // It ends early, with one terminal kNotWatching event carrying the reason, when a re-arm would
  // pass the watch budget (ResourceExhausted; C library engine only), when a read is refused
  // (e.g. PermissionDenied), and when the client closes.
  // Errors: InvalidArgument, ResourceExhausted (watch budget), PermissionDenied, and those of
  // every operation (from the first read).
  absl::StatusOr<Watch> AddPersistentWatch(std::string_view path, PersistentWatchOptions options,
                                           WatchCallback on_event);

  // --- helpers ------------------------------------------------------------------------------
  // Creates `path` and its missing ancestors as empty persistent nodes; OK if it exists.
  absl::Status EnsurePath(std::string_view path);
  // Deletes `path` and its whole subtree (children first); OK if it does not exist. Not atomic:
  // nodes created concurrently under it make it retry, up to a bound, then fail with
  // FailedPrecondition. InvalidArgument for "/" and the reserved "/zookeeper" subtree.
  absl::Status DeleteRecursive(std::string_view path);

 private:
  friend class internal::ClientAccess;
  explicit Client(std::shared_ptr<internal::Engine> engine);
  std::shared_ptr<internal::Engine> engine_;
};

}  // namespace zk

#endif  // ZK_CLIENT_H_
