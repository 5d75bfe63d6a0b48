// zkcpp — value types shared by the client API: Stat, ACLs, create modes, op results, multi ops,
// watch and session events, and the client's options.
//
// All types here are plain values (copyable aggregates or enums); none holds a reference into the
// client, so they may outlive it and cross threads freely.

#ifndef ZK_TYPES_H_
#define ZK_TYPES_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "zk/metrics.h"

namespace zk {

// A znode's metadata, exactly as ZooKeeper reports it (field meanings in ZooKeeper's
// programmer's guide). Times are milliseconds since the Unix epoch.
struct Stat {
  int64_t czxid = 0;            // zxid of the create
  int64_t mzxid = 0;            // zxid of the last data change
  int64_t ctime = 0;            // create time, ms
  int64_t mtime = 0;            // last data change time, ms
  int32_t version = 0;          // data version
  int32_t cversion = 0;         // child version
  int32_t aversion = 0;         // ACL version
  int64_t ephemeral_owner = 0;  // owning session id for ephemerals, else 0
  int32_t data_length = 0;
  int32_t num_children = 0;
  int64_t pzxid = 0;  // zxid of the last change to the children
  friend bool operator==(const Stat&, const Stat&) = default;
};

// Permission bits of an ACL entry.
enum Perm : int32_t {
  kPermRead = 1,
  kPermWrite = 2,
  kPermCreate = 4,
  kPermDelete = 8,
  kPermAdmin = 16,
  kPermAll = 31,
};

// An authenticated identity: scheme ("world", "auth", "digest", "ip", ...) and id.
struct Id {
  std::string scheme;
  std::string id;
  friend bool operator==(const Id&, const Id&) = default;
};

// One identity a session is authenticated as, as the server reports it (Client::WhoAmI): the
// scheme ("ip", "digest", "sasl", "x509", "super", ...) and the user it names there: the client's
// address for "ip", the user name (not the digest id of an ACL) for "digest", "" when the scheme
// has no user name.
struct ClientIdentity {
  std::string scheme;
  std::string user;
  friend bool operator==(const ClientIdentity&, const ClientIdentity&) = default;
};

// One ACL entry: the permissions `perms` (a mask of Perm) granted to `id`.
struct Acl {
  int32_t perms = kPermAll;
  Id id;
  friend bool operator==(const Acl&, const Acl&) = default;
};
using AclList = std::vector<Acl>;

// Returns ZooKeeper's canned ACLs: everyone may do everything; everyone may read; the creator's
// authenticated identities may do everything.
const AclList& OpenAclUnsafe();
const AclList& ReadAclUnsafe();
const AclList& CreatorAllAcl();

// Returns the digest id ("user:base64(sha1(user:password))") that ZooKeeper's digest scheme
// derives from `user` and `password`: what an ACL entry {perms, {"digest", id}} names.
std::string DigestId(std::string_view user, std::string_view password);

// How a znode is created.
enum class CreateMode {
  kPersistent,
  kEphemeral,                     // deleted when the creating session ends
  kPersistentSequential,          // a 10-digit counter is appended to the name
  kEphemeralSequential,
  kContainer,                     // deleted by the server once its last child is gone
  kPersistentWithTtl,             // deleted once childless and unmodified for `ttl`
  kPersistentSequentialWithTtl,
};

// Options of Create. Designated initializers: `{.mode = CreateMode::kEphemeral}`.
struct CreateOptions {
  CreateMode mode = CreateMode::kPersistent;
  AclList acl = OpenAclUnsafe();
  // Required for the *WithTtl modes, forbidden otherwise; 1 ms .. 2^40-1 ms.
  std::optional<std::chrono::milliseconds> ttl;
  // Creates missing ancestors first (as persistent nodes with `acl`); an ancestor created
  // concurrently by someone else is fine.
  bool create_parents = false;
  // Curator-compatible protected create for sequential modes: the last path segment gets a
  // "_c_<uuid>-" prefix so that, after a connection loss, the client finds the node it created
  // instead of creating a second one; if the session changed meanwhile, it deletes the orphan.
  // If the create still fails after it was sent (e.g. DeadlineExceeded while the reply was
  // outstanding), the client removes the node it may have made, in the background (its
  // requests wait for a connection; the session's end stops it): a failed protected create
  // leaves no node behind.
  bool protect = false;
};

struct CreateResult {
  std::string path;  // the actual path (with the sequence suffix, without the chroot)
  Stat stat;
};

struct GetResult {
  std::string data;
  Stat stat;
};

struct ChildrenResult {
  std::vector<std::string> children;  // names, not paths; in the server's order
  Stat stat;                          // of the parent
};

struct AclResult {
  AclList acl;
  Stat stat;
};

// The ops of a Multi transaction.
namespace op {
struct Create {
  std::string path;
  std::string data;
  CreateMode mode = CreateMode::kPersistent;  // container and TTL modes are not supported here
  AclList acl = OpenAclUnsafe();
};
struct Delete {
  std::string path;
  std::optional<int32_t> expected_version;  // nullopt: any version
};
struct Set {
  std::string path;
  std::string data;
  std::optional<int32_t> expected_version;
};
struct Check {
  std::string path;
  std::optional<int32_t> expected_version;
};
// The reads of a MultiRead.
struct Get {
  std::string path;
};
struct GetChildren {
  std::string path;
};
}  // namespace op
using Op = std::variant<op::Create, op::Delete, op::Set, op::Check>;
using ReadOp = std::variant<op::Get, op::GetChildren>;

// The result of one op of a successful Multi: `path` for creates, `stat` for sets.
struct OpResult {
  std::string path;
  Stat stat;
};
struct MultiResult {
  std::vector<OpResult> results;  // one per op, in order
};

// The result of one op of a MultiRead. Each op succeeds or fails on its own: `status` is its
// error ("get /a: node does not exist", NotFound; PermissionDenied), or OK with, for an
// op::Get, `data` and `stat`, and for an op::GetChildren, the `children` names (in the
// server's order; ZooKeeper sends no Stat for them in a multiRead).
struct ReadOpResult {
  absl::Status status;
  std::string data;
  Stat stat;
  std::vector<std::string> children;
};
struct MultiReadResult {
  std::vector<ReadOpResult> results;  // one per op, in order
};

// What a watch reports.
enum class WatchEventType {
  kCreated,
  kDeleted,
  kDataChanged,
  kChildrenChanged,
  // Terminal: the watch will never fire again (client closed, session lost, watch removed).
  // WatchEvent::reason says why.
  kNotWatching,
};
std::string_view WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type;
  std::string path;     // without the chroot
  absl::Status reason;  // OK except for kNotWatching
};

// Session states, after Curator's ConnectionState.
enum class SessionState {
  kConnected,    // the first session is established
  kSuspended,    // the connection was lost; the session may still live on the server
  kReconnected,  // connected again: same session, or a new one after kLost (see new_session)
  kLost,         // the session expired (or was declared lost locally); ephemerals are gone
  kReadOnly,     // connected to a read-only server (only with allow_read_only)
  kClosed,       // the client was closed; terminal
};
std::string_view SessionStateName(SessionState state);

struct SessionEvent {
  SessionState state;
  int64_t session_id = 0;    // the session the event is about (the new one on kReconnected)
  bool new_session = false;  // kReconnected after kLost: a new session, old ephemerals gone
};

enum class LogLevel { kError = 1, kWarning = 2, kInfo = 3, kDebug = 4 };
// Receives the C library's log lines. Called on the client's event-loop thread (and, while the
// first connection is set up, on the thread calling Client::Connect): keep it fast.
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

// Where user callbacks (op completions, watch events, session events) run.
enum class CallbackExecution {
  // On one FIFO dispatcher thread per client. Callbacks may block, and may make blocking calls.
  // Requests a callback submits are handed to the event loop together when it returns (or as
  // soon as it makes a blocking call): one wakeup per batch instead of one per request.
  kDispatcherThread,
  // On the client's event-loop thread, with no thread hop: fastest, but the callback must not
  // block; a blocking call made from it fails at once with FailedPrecondition.
  kInline,
};

struct DigestCredential {
  std::string user;
  std::string password;
};

// What speaks ZooKeeper's protocol for a client.
enum class EngineKind {
  // Debian's libzookeeper_st 3.8. Clients in one process take turns inside it (it keeps
  // process-global state); no addWatch, so persistent watches are emulated.
  kCLibrary,
  // zkcpp's own implementation of the protocol (zk/proto): no process-wide lock, watches
  // restored in any number after a reconnect (no watch budget).
  kNative,
};

// The lowest TLS protocol version a client accepts.
enum class TlsVersion { kTls12, kTls13 };

// TLS for the connections of a client (ClientOptions::tls). With it set, every connection is a
// TLS connection: the client connects to the servers' secureClientPort, completes a TLS
// handshake that verifies the server's certificate, and only then speaks ZooKeeper's protocol.
// A connection whose handshake fails is dropped and the next server is tried, as for any
// connection failure; the client never falls back to plaintext. Only the native engine
// (EngineKind::kNative) speaks TLS; Debian's C library has none.
//
// Files are read once, by Client::Connect. Errors (Connect fails with InvalidArgument naming
// the file and the problem): a CA file or directory that cannot be read or holds no
// certificate, a certificate without a key (or a key without a certificate), a key that does
// not match its certificate, a file that is not PEM.
//
// Handshake failures (unknown CA, name mismatch, expired certificate, a peer that does not
// speak TLS, a handshake past its time) go to ClientOptions::log_sink as
// "<host:port>: ... TLS handshake: <OpenSSL's reason>", and the last one is in the message of
// the DeadlineExceeded that WaitUntilConnected returns.
//
// Example:
//   zk::ClientOptions options{.connect_string = "zk1.example.com:2281"};
//   options.tls = zk::TlsOptions{.ca_file = "/etc/zk/ca.pem"};
struct TlsOptions {
  // A PEM file of CA certificates trusted to sign the servers' certificates.
  std::string ca_file;
  // A directory of CA certificates in OpenSSL's hashed layout (c_rehash). With both ca_file and
  // ca_directory empty, the system's default trust store is used.
  std::string ca_directory;
  // The client's certificate (PEM; may hold the chain after it) and its private key (PEM,
  // unencrypted), for servers that ask for one (ssl.clientAuth=want|need). Both or neither.
  std::string cert_file;
  std::string key_file;
  // Checks that the server's certificate names the host of the connect string: a DNS name
  // against the certificate's DNS names, an IP address against its IP addresses. Off: any
  // certificate signed by a trusted CA is accepted (the chain and dates are still checked).
  bool verify_hostname = true;
  // The lowest version accepted. ZooKeeper 3.8 servers speak TLS 1.2 only, unless their
  // ssl.protocol / ssl.enabledProtocols say otherwise: kTls13 fails the handshake there.
  TlsVersion min_version = TlsVersion::kTls12;
};

// SASL authentication of every connection (ClientOptions::sasl), with Cyrus SASL (libsasl2):
// after each handshake, before any other request, the client runs a SASL exchange with the
// server (opcode 102 packets, as the Java client does); the session then carries the identity
// ("sasl", <user>) that ACLs such as `sasl:alice:cdrwa` name. It runs again on every reconnect
// and for every new session the client opens after an expiry. Only the native engine
// (EngineKind::kNative) speaks SASL; Debian's C library has none.
//
// Requests made while the exchange runs wait, as they do while not connected: none is sent
// before the server has accepted the credentials, and WaitUntilConnected returns once it has.
//
// Mechanisms: DIGEST-MD5 (user and password; what ZooKeeper's DigestLoginModule checks) is
// tested against a real ZooKeeper 3.8. Any other mechanism name is passed through to Cyrus:
// GSSAPI (Kerberos; credentials from the environment's ticket cache, user and password unused)
// is wired but untested here, for want of a KDC.
//
// Errors: Connect fails with InvalidArgument naming the field for an empty mechanism, service
// or user, for neither or both of password and password_callback (user and password are not
// checked for GSSAPI), for a mechanism Cyrus has no plugin for, and for `sasl` with the C
// library engine.
//
// Refusal policy: a server that refuses the credentials (AUTHFAILED, then it drops the
// connection) or an exchange that Cyrus cannot complete stops the client for good, with no
// retry (a wrong password stays wrong): WaitUntilConnected returns Unauthenticated with the
// reason, the session goes kLost, every waiting and every later request fails with
// Unauthenticated ("get /a: SASL authentication as alice failed: ... (AUTHFAILED)"), and
// the reason goes to ClientOptions::log_sink. The server session made by the handshake runs no
// request; the server ends it at its timeout (at once if the exchange failed on the client's
// side: the client then sends closeSession). A connection lost during the exchange is retried
// as any connection loss.
//
// Example:
//   zk::ClientOptions options{.connect_string = "zk1.example.com:2181"};
//   options.sasl = zk::SaslOptions{.user = "alice", .password = "secret"};
struct SaslOptions {
  // The SASL mechanism: "DIGEST-MD5" (tested), or another one Cyrus has a plugin for.
  std::string mechanism = "DIGEST-MD5";
  // The authentication id: the user of the server's JAAS section (user_<name>="<password>").
  std::string user;
  // The password, or a callback returning it. The callback runs on the client's event-loop
  // thread at the start of each exchange (each connection): keep it quick, and do not call
  // the client from it. Exactly one of the two (but for GSSAPI).
  std::string password;
  std::function<std::string()> password_callback;
  // The service (protocol) name: the first part of the server principal.
  std::string service = "zookeeper";
  // The server name of the exchange. Empty: "zk-sasl-md5" for DIGEST-MD5 (the name ZooKeeper's
  // server and Java client both use, so that the digest-uri is "zookeeper/zk-sasl-md5"), and
  // for other mechanisms the host of the connect string entry being connected (the Java
  // client's server principal "zookeeper/<host>").
  std::string host;
};

struct ClientOptions {
  // "host:port,host:port[/chroot]". Required.
  std::string connect_string;
  // A chroot applied to every path (alternative to the suffix of connect_string), e.g. "/app".
  std::string chroot;
  // Requested session timeout; the server clamps it to [2, 20] × its tickTime.
  std::chrono::milliseconds session_timeout{10000};
  // Deadline of every operation, blocking or not. Default: the session timeout.
  std::optional<std::chrono::milliseconds> operation_timeout;
  // Digest credentials added to every session (before any queued op is sent).
  std::vector<DigestCredential> digest_auth;
  // Accept connections to read-only servers (a quorum member that lost its quorum).
  bool allow_read_only = false;
  CallbackExecution callback_execution = CallbackExecution::kDispatcherThread;
  // How often the host names of connect_string are resolved again. nullopt: only after a
  // connection loss (cheapest). The C library's own default (every event-loop turn) costs ~10
  // syscalls per turn and is never used.
  std::optional<std::chrono::milliseconds> host_resolution_interval;
  // The C library's log. Default: stderr, warnings and worse.
  LogSink log_sink;
  LogLevel log_level = LogLevel::kWarning;
  // Upper bound on the summed path bytes of live native watches on the C library's engine: it
  // re-sends every watched path in one SetWatches packet on reconnect, which must stay under
  // the 1 MB frame limit. Past it, new watches fail with ResourceExhausted. The native engine
  // splits that packet and has no budget.
  size_t watch_budget_bytes = 512 * 1024;
  // Metrics hook (zk/metrics.h): called on the loop thread once per completed operation, before
  // its callback runs. It must be quick and must not block or call the client; empty: none.
  // Client::Metrics() counts operations whether or not this is set.
  std::function<void(const OperationSample&)> on_operation;
  // The largest frame the native engine reads (EngineKind::kNative): a larger one from the
  // server drops the connection. The default is jute.maxbuffer's default (1 MB - 1) plus room
  // for a reply's header and Stat, so that any node the server accepts can be read back.
  size_t max_frame_bytes = 0xfffff + 1024;
  // The protocol engine. nullopt: the environment variable ZKCPP_ENGINE ("native" or "clib")
  // if set, else kCLibrary, or kNative when `tls` or `sasl` is set. Connect fails with
  // InvalidArgument for another ZKCPP_ENGINE value, and for `tls` or `sasl` with the C library
  // (it has neither).
  std::optional<EngineKind> engine;
  // TLS for every connection (see TlsOptions); nullopt: plaintext.
  std::optional<TlsOptions> tls;
  // SASL authentication of every connection (see SaslOptions); native engine only.
  // nullopt: none.
  std::optional<SaslOptions> sasl;
};

}  // namespace zk

#endif  // ZK_TYPES_H_
