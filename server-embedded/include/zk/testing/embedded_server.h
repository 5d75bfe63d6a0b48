// zk/testing/embedded_server.h: an in-process, wire-compatible ZooKeeper 3.8
// server for tests.
//
// EmbeddedServer speaks the ZooKeeper client protocol on 127.0.0.1 so that any
// client (zkcpp, libzookeeper, the Java client, kazoo) can talk to it. It keeps
// its tree, sessions and zxid in memory, starts in about a millisecond, and
// offers deterministic fault injection: expire a session, drop connections,
// pause, delay replies, stop/restart, kill/revive ensemble members, read-only
// mode. It depends on Abseil and the C++ standard library (and OpenSSL for TLS) only.
//
// Example:
//
//   auto server = zk::testing::EmbeddedServer::Start({.tick_time = 100ms});
//   if (!server.ok()) return server.status();
//   std::string hosts = (*server)->connect_string();  // "127.0.0.1:40123"
//   ... connect a client, create an ephemeral ...
//   (*server)->ExpireSession((*server)->ListSessions().front());
//
// One loop thread serves every member; all public methods are thread-safe and
// take effect before they return. Called from inside a hook (on the loop
// thread), the fault-injection and setter methods take effect right after the
// current request instead, and return OK.

#ifndef ZK_TESTING_EMBEDDED_SERVER_H_
#define ZK_TESTING_EMBEDDED_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/testing/tls_client_auth.h"

namespace zk::testing {

// TLS on a second port of every member, as a real ZooKeeper 3.8 serves its secureClientPort
// beside its clientPort (with NettyServerCnxnFactory and the zookeeper.ssl.* properties). Both
// ports serve the same tree and sessions; a session may move between them. The TLS port speaks
// TLS 1.2 only (ZooKeeper 3.8's default zookeeper.ssl.protocol) and, after the handshake, the
// same protocol as the plain port (four-letter words included). As on the real server:
//   - a client that does not speak TLS on the TLS port (a plaintext ConnectRequest, garbage)
//     fails the handshake and is closed; a TLS ClientHello on the plain port is not a valid
//     frame and is closed too;
//   - a connection that has not finished its handshake counts as one without a ZooKeeper
//     handshake: handshake_timeout closes it; a stalled handshake never holds up other clients
//     (the loop never waits for a peer);
//   - renegotiation requests are refused (no_renegotiation alert) and the connection goes on.
// The client certificate, if any, is checked against ca_file; it does not authenticate the
// session (there is no x509 auth provider: whoAmI lists the ip id only).
// Needs OpenSSL 3 at build time (found by CMake; Debian's libssl-dev).
struct EmbeddedServerTls {
  // Sets the TLS port of member 0 (ZooKeeper's secureClientPort); 0 picks a free port.
  // Further members always pick free ports.
  int secure_port = 0;
  // Names the PEM file with the server's certificate chain (leaf first), and the PEM file with
  // its unencrypted private key; they may be one file holding both (as
  // TestCertificates::server_key_store(), ZooKeeper's PEM key store).
  std::string cert_file;
  std::string key_file;
  // Names the PEM file with the CA certificates that client certificates must chain to
  // (ZooKeeper's trust store). Required unless client_auth is kNone.
  std::string ca_file;
  // Whether clients must present a certificate (zookeeper.ssl.clientAuth, whose default is
  // "need"): kNone never asks; kWant asks and accepts a client without one (a certificate that
  // does not verify still fails the handshake); kNeed refuses a client without one.
  TlsClientAuth client_auth = TlsClientAuth::kNeed;
};

// Configures an EmbeddedServer.
struct EmbeddedServerOptions {
  // Sets the port of member 0; 0 picks a free port. Further members always pick free ports.
  int port = 0;
  // Sets the IPv4 address every member listens on (ZooKeeper's clientPortAddress). The default
  // keeps a test server off the network; "0.0.0.0" listens on every interface (connect strings
  // then name 127.0.0.1). Errors: Start() fails with InvalidArgument if it is not a dotted
  // IPv4 address.
  std::string bind_address = "127.0.0.1";
  // Sets the tick: session expiry is bucketed by it.
  std::chrono::milliseconds tick_time{500};
  // Sets the lower clamp of negotiated session timeouts (default 2 x tick).
  std::optional<std::chrono::milliseconds> min_session_timeout;
  // Sets the upper clamp of negotiated session timeouts (default 20 x tick).
  std::optional<std::chrono::milliseconds> max_session_timeout;
  // Sets the number of members (distinct ports) serving one shared tree.
  int members = 1;
  // Enables TTL nodes (zookeeper.extendedTypesEnabled).
  bool extended_types = true;
  // Sets the super user's digest id, "super:<base64 sha1>"; e.g.
  // "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" for the password "test".
  std::optional<std::string> super_digest;
  // Sets the users (name -> password) who may authenticate with SASL DIGEST-MD5, as the
  // `user_<name>="<password>"` options of the JAAS "Server" section of a real server started
  // with -Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider.
  // A client that authenticates gets the id ("sasl", <name>): ACL entries `sasl:<name>:<perms>`
  // grant it, whoAmI lists it, and an "auth" ACL entry expands to it. Empty (the default): as a
  // server without a JAAS file, a sasl packet is answered OK with no token and the "sasl"
  // scheme is unknown (an ACL naming it gets INVALIDACL). As ZooKeeper: a failed
  // authentication (wrong password, unknown user, malformed token, a second exchange on one
  // connection) is answered AUTHFAILED and the connection closes (the session lives on);
  // each new connection authenticates anew. Errors: Start() fails with InvalidArgument for a
  // name holding '@' (Kerberos principal names are not supported).
  std::map<std::string, std::string> sasl_users;
  // Sets how often empty containers and expired TTL nodes are reaped.
  std::chrono::milliseconds container_check_interval{100};
  // Limits the concurrent connections from one IP address (ZooKeeper's maxClientCnxns), over
  // all members; 0 = unlimited. A connection past the limit is closed right after accept, as
  // ZooKeeper does (the client sees the connection drop and retries). The default is
  // ZooKeeper's, 60: every client of a test runs on 127.0.0.1, so tests with more concurrent
  // connections (four-letter words included) must raise it or pass 0.
  int max_client_connections = 60;
  // Lists the four-letter words the server answers (ZooKeeper's 4lw.commands.whitelist); "*"
  // enables every word. As in ZooKeeper only `srvr` is on by default, plus `isro` once read-only
  // mode has been switched on (ZooKeeper enables it with readonlymode.enabled). Any other known
  // word gets "<word> is not executed because it is not in the whitelist." and the connection
  // closes. Tests that read `stat`, `mntr`, `dump`, `envi` (kazoo's server_version()) etc. must
  // list them here.
  std::vector<std::string> four_letter_words = {"srvr"};
  // Closes a connection that has not completed its handshake (nor sent a four-letter word)
  // after this long without receiving a byte, as ZooKeeper does with
  // zookeeper.nio.sessionlessCnxnTimeout (10 s); checked every tick. 0 never closes them.
  std::chrono::milliseconds handshake_timeout{10000};
  // Names a directory (created if missing) whose snapshot, if any, Start() loads: the
  // persistent, container and TTL nodes with data, ACLs and Stat, and the last zxid, as
  // SaveSnapshot() wrote them. Empty: the tree starts empty and nothing is kept.
  std::string data_dir;
  // Serves TLS on a second port of each member too (see EmbeddedServerTls). Errors: Start()
  // fails with InvalidArgument naming the option and the file for a missing or unreadable
  // file, a file without a PEM certificate or key, a key that does not match the
  // certificate, no ca_file with client_auth want/need, or a bad secure_port; with
  // FailedPrecondition if this build has no OpenSSL; Unavailable if the port cannot be bound.
  std::optional<EmbeddedServerTls> tls;
};

// Describes one request as the server received it (for SetRequestHook).
struct RequestInfo {
  int64_t session_id = 0;
  // ZooKeeper's opcode name: "create", "getData", "multi", "ping", ...
  std::string op;
  std::string path;
};

// Describes one watch notification the server sent (for SetEventHook).
struct EventInfo {
  int64_t session_id = 0;
  // 1 NodeCreated, 2 NodeDeleted, 3 NodeDataChanged, 4 NodeChildrenChanged.
  int type = 0;
  std::string path;
};

// Runs an in-process ZooKeeper 3.8 server (optionally an emulated ensemble of
// members over one tree) on 127.0.0.1 (or EmbeddedServerOptions::bind_address).
//
// Thread-safe: every method may be called from any thread, including from
// inside the hooks (which run on the server's loop thread; see above).
class EmbeddedServer {
 public:
  // Starts a server listening on options.bind_address (127.0.0.1 by default).
  // Errors: InvalidArgument for bad options; Unavailable if a port cannot be
  // bound; Internal if the OS refuses the loop's epoll or eventfd or the data_dir
  // cannot be read; DataLoss if its snapshot is corrupt; FailedPrecondition if
  // options.tls is set in a build without OpenSSL.
  static absl::StatusOr<std::unique_ptr<EmbeddedServer>> Start(
      EmbeddedServerOptions options = {});

  // Stops the server and closes every socket. Joins the server's loop thread:
  // never destroy the server from one of its hooks.
  ~EmbeddedServer();

  EmbeddedServer(const EmbeddedServer&) = delete;
  EmbeddedServer& operator=(const EmbeddedServer&) = delete;

  // Returns "127.0.0.1:p1,127.0.0.1:p2,..." for all live members (the bind address instead of
  // 127.0.0.1 when it names one interface).
  std::string connect_string() const;
  // Returns "127.0.0.1:p" (or "<bind address>:p") of one member (alive or not).
  std::string member_connect_string(int member) const;
  // Returns the port of one member.
  int member_port(int member) const;
  // With EmbeddedServerOptions::tls: "127.0.0.1:s1,127.0.0.1:s2,..." (the TLS ports of all
  // live members), as connect_string(); "" without.
  std::string secure_connect_string() const;
  // Returns the TLS port of one member, or -1 without EmbeddedServerOptions::tls.
  int member_secure_port(int member) const;

  // Expires a session as the server does on timeout: its ephemerals are
  // deleted (one txn), watches fire for other sessions, its connection
  // closes without an event.
  // Errors: NotFound if no such session.
  absl::Status ExpireSession(int64_t session_id);
  // Closes the TCP connection of a session; the session lives on.
  void DropConnection(int64_t session_id);
  // Closes every client connection; sessions live on.
  void DropAllConnections();
  // Stops answering: connections are accepted and read, but requests queue
  // up unanswered until Resume(), which answers them in order. Sessions keep
  // expiring meanwhile (as after SIGSTOP/SIGCONT of a real server). On the TLS port, a
  // ClientHello gets no answer until Resume() either.
  void Pause();
  void Resume();
  // Delays every reply and notification by `delay` (0 turns it off).
  void SetResponseDelay(std::chrono::milliseconds delay);
  // Closes all listening sockets and connections, keeping tree, sessions and
  // zxid. Errors: FailedPrecondition if already stopped.
  absl::Status Stop();
  // Listens again on the same ports (stopping first if running); sessions get
  // a fresh full timeout. Errors: Unavailable if a port cannot be re-bound.
  absl::Status Restart();
  // Closes one member's listening socket and its connections.
  // Errors: InvalidArgument for a bad member index; FailedPrecondition if the
  // member is already dead.
  absl::Status KillMember(int member);
  // Re-opens a killed member on its port.
  // Errors: InvalidArgument, FailedPrecondition, Unavailable.
  absl::Status ReviveMember(int member);
  // Switches read-only mode, as a ZooKeeper 3.8 member (readonlymode.enabled, with
  // localSessionsEnabled) that loses its quorum and serves alone, then rejoins it.
  // - Every switch closes all client connections at once (the member restarts its server);
  //   tests that relay clients need not reset anything more. Switching to the current mode
  //   does nothing.
  // - While read-only: writes and sync get NOTREADONLY; clients that did not ask for read-only
  //   are refused (closed without a reply); resuming a session created while read-write (a
  //   global session) is refused the same way ("Refusing global session reconnection in RO
  //   mode"), so a client's session can only be lost locally; a new session (id 0) is a local
  //   one, answered with readOnly = 1. Global sessions do not expire (no leader to expire
  //   them) and containers / TTL nodes are not reaped.
  // - Back to read-write: local sessions are unknown to the quorum (a resume gets the expired
  //   answer: timeout 0, session id 0); global sessions get a fresh full timeout.
  void SetReadOnly(bool read_only);
  // Returns the ids of all live sessions.
  std::vector<int64_t> ListSessions() const;
  // Returns the session bound to the connection whose client-side local port
  // is `client_port` (a client's getsockname()), or 0.
  int64_t SessionOfClientPort(int client_port) const;
  // Returns the server's last zxid.
  int64_t last_zxid() const;
  // Returns false between Stop() and Restart().
  bool running() const;
  // Writes the tree (all but session ephemerals) and the last zxid to options.data_dir, for
  // the next Start() with that directory; zkcpp-server calls it when stopped by a signal. Not
  // from a hook. Errors: FailedPrecondition without a data_dir; Internal if the file cannot be
  // written.
  absl::Status SaveSnapshot();

  // Counts requests by op name and watch registrations/notifications.
  struct Counters {
    std::map<std::string, int64_t> requests_by_op;
    int64_t watches_set = 0;
    int64_t watches_fired = 0;
  };
  Counters counters() const;
  // Installs a hook called on the loop thread for every request, before it
  // is processed. Pass nullptr to remove it.
  void SetRequestHook(std::function<void(const RequestInfo&)> hook);
  // Installs a hook called on the loop thread for every watch notification
  // sent. Pass nullptr to remove it.
  void SetEventHook(std::function<void(const EventInfo&)> hook);

  class Impl;

 private:
  explicit EmbeddedServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zk::testing

#endif  // ZK_TESTING_EMBEDDED_SERVER_H_
