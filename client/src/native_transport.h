// NativeTransport: the transport (transport.h) that speaks ZooKeeper's protocol itself, through
// zk/proto, on a non-blocking socket driven by the engine's loop. It does what the C library
// does for the other transport, per client and without a process-wide lock:
//   - the handshake (session id and password, the read-only byte) and, after it, the replay of
//     every credential and of every watch (SetWatches, split into frames of at most 128 KB so
//     that any number of watches is restored);
//   - pings after a third of the negotiated timeout without a send, and a read timeout after
//     two thirds of it without a byte from the server;
//   - reconnects over a shuffled host list (host_list.h), immediately after a loss and with a
//     jittered exponential backoff after failed attempts;
//   - the chroot, added to every path sent and removed from every path received;
//   - TLS (ClientOptions::tls, tls_session.h): a handshake after the TCP connect and before the
//     ConnectRequest, then every byte through the TLS session; a failed handshake drops the
//     connection like any other connection failure;
//   - SASL (ClientOptions::sasl, sasl_session.h): after every ConnectResponse (first connection,
//     reconnect, new session) and before anything else, a SASL exchange in opcode-102 packets
//     with ordinary xids, one token at a time, as the Java client does. The core is told
//     kConnected only once the server accepted the credentials: until then its requests wait
//     (parked, as while disconnected), so none overtakes the exchange, and the auth packets
//     and SetWatches follow it. A refusal (AUTHFAILED, or an exchange Cyrus cannot finish)
//     stops the transport for good (OnAuthenticationFailed, no reconnect); a connection lost
//     during the exchange is retried like any other;
//   - a frame limit on what it reads (ClientOptions::max_frame_bytes); a frame over it, a reply
//     to no request, or one that does not decode drops the connection with a logged reason;
//   - while connected to a read-only server (ClientOptions::allow_read_only), the search for a
//     read-write one, as the Java and C clients do: the next host of the list is asked "isro"
//     (rw_server_probe.h) after 100 ms, then after twice as long each time up to a minute; the
//     first that answers "rw" is where the transport reconnects. A session made by a read-only
//     server is a local one that the quorum does not know: until the transport has been
//     connected to a read-write server it reconnects with session id 0 (a new session; the
//     core reports kReconnected with new_session). Not with TLS (see rw_server_probe.h).

#ifndef ZK_CLIENT_SRC_NATIVE_TRANSPORT_H_
#define ZK_CLIENT_SRC_NATIVE_TRANSPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "host_list.h"
#include "rw_server_probe.h"
#include "sasl_session.h"
#include "tls_session.h"
#include "transport.h"
#include "zk/proto/frame_decoder.h"

namespace zk::internal {

class NativeTransport final : public Transport {
 public:
  // `events` and `credentials` outlive the transport. `tls`: null for plaintext connections.
  NativeTransport(const ClientOptions& options, TransportEvents* events,
                  const CredentialList* credentials, std::shared_ptr<const TlsContext> tls = {});
  ~NativeTransport() override;

  absl::Status Open() override;
  void Close() override;
  ZooError Send(uint64_t id, const Request& request) override;
  void RemoveWatches(const std::string& path, WatchKind kind) override;
  Interest PollInterest(absl::Time now) override;
  void Process(bool readable, bool writable) override;
  void ProcessProbe(bool readable, bool writable) override;
  SessionInfo session() const override { return session_; }
  bool RestoresWatchesInAnyNumber() const override { return true; }
  bool HasPersistentWatches() const override { return true; }
  int64_t last_zxid() const override { return last_zxid_; }

 private:
  enum class Phase {
    kIdle,       // no session (closed, expired, or not opened)
    kBackoff,    // waiting before the next connection attempt
    kHandshake,  // TCP connecting, then waiting for the ConnectResponse
    kAuthenticating,  // the session exists; the SASL exchange runs (ClientOptions::sasl)
    kConnected,
  };
  // A request on the wire, in send order (replies come in the same order).
  struct Pending {
    int32_t xid = 0;
    uint64_t id = 0;  // 0: the transport's own (removeWatches); nobody waits for it
    const Request* request = nullptr;  // null for the transport's own requests
  };

  // Starts a connection attempt to the next address (or schedules one after a backoff).
  void Connect(absl::Time now);
  // While connected read-only: starts the next probe for a read-write server when its time has
  // come, gives up one past its deadline, and adds its descriptor and timers to `interest`.
  void SearchForReadWriteServer(absl::Time now, Interest& interest);
  // Gives the connection up: answers every request on it with a connection loss, reports
  // kConnecting if the core was told it was connected, and schedules the next attempt.
  void Drop(std::string_view reason);
  // Drops the connection for good (expired / refused): reports `state`, no reconnect.
  void Fail(TransportState state, std::string_view reason);
  void CloseSocket();
  // The TCP connection is up: starts the TLS handshake if TLS is on.
  void OnTcpConnected();
  // Advances the TLS handshake; drops the connection if it fails.
  void ContinueTlsHandshake();
  // True once bytes of the protocol may flow: TCP connected and, with TLS, the handshake done.
  bool StreamReady() const { return tcp_connected_ && (tls_ == nullptr || tls_->established()); }
  // read(2) / send(2) on the socket, or through the TLS session.
  ssize_t ReadSome(char* buffer, size_t size);
  // "<what>: <errno text>", or the TLS session's reason when it failed.
  std::string StrError(std::string_view what, int error) const;
  void WriteOut();
  void HandleFrame(std::string_view frame);
  void HandleConnectResponse(std::string_view frame);
  // The connection is usable: sends the session setup and tells the core.
  void FinishConnecting();
  // Starts the SASL exchange of this connection, sends one token, handles one answer.
  void StartSasl();
  void SendSaslToken(const std::string& token);
  void HandleSaslReply(int32_t err, std::string_view body);
  // The server refused the SASL credentials or the exchange failed: stops for good.
  void FailAuthentication(std::string_view reason);
  void HandleNotification(std::string_view body);
  // Hands a notification to the persistent watches it concerns.
  void NotifyPersistentWatches(WatchEventType type, const std::string& path);
  // After a one-shot watch was armed on `path`: re-asserts a persistent watch on the same path,
  // which ZooKeeper 3.8.0 turns into a one-shot one (ZOOKEEPER-4466).
  void ReassertPersistentWatch(const std::string& path);
  void SendAddWatch(const std::string& path, WatchKind kind, uint64_t id, const Request* r);
  void HandleReply(int32_t xid, int32_t err, std::string_view body);
  void SendSessionSetup();
  void Queue(std::string frame);
  int32_t NextXid();
  std::string ServerPath(std::string_view path) const;
  std::string ClientPath(std::string_view path) const;
  void Answer(const Pending& pending, Reply reply);
  // What the connection holds and must answer when it ends: requests and AddAuths in flight.
  struct Held {
    std::deque<Pending> pending;
    std::deque<uint64_t> auth;
  };
  Held TakeHeld();
  void AnswerHeld(Held held, ZooError rc, std::string_view detail);
  void AnswerHeld(ZooError rc, std::string_view detail);  // TakeHeld(), then answers

  const ClientOptions& options_;
  TransportEvents* const events_;
  const CredentialList* const credentials_;
  const std::shared_ptr<const TlsContext> tls_context_;  // null: plaintext
  std::optional<HostList> hosts_;
  std::mt19937_64 random_;

  Phase phase_ = Phase::kIdle;
  bool reported_connected_ = false;  // the core was told kConnected / kReadOnly
  int fd_ = -1;
  Address connection_address_;        // of the current attempt or connection
  const Address* address_ = nullptr;  // &connection_address_ once an attempt was made
  bool tcp_connected_ = false;
  std::unique_ptr<TlsSession> tls_;  // of the current connection, with TLS on
  std::unique_ptr<SaslSession> sasl_;  // while the exchange of the current connection runs
  int32_t sasl_xid_ = 0;               // of the SASL packet waiting for its answer
  bool read_only_ = false;             // the last ConnectResponse's
  // This session has been connected to a read-write server (else its id, given by a read-only
  // server, is a local session the quorum does not know, and reconnects ask for id 0).
  bool seen_read_write_server_ = false;
  // The search for a read-write server while connected to a read-only one.
  std::unique_ptr<RwServerProbe> probe_;
  absl::Duration probe_interval_;
  absl::Time next_probe_ = absl::InfiniteFuture();
  std::optional<Address> read_write_server_;  // found by a probe: the next attempt's address
  absl::Time attempt_deadline_ = absl::InfiniteFuture();
  absl::Time backoff_until_ = absl::InfinitePast();
  int failed_attempts_ = 0;
  absl::Time last_send_ = absl::InfinitePast();
  absl::Time last_receive_ = absl::InfinitePast();

  SessionInfo session_;
  int64_t last_zxid_ = 0;
  int32_t xid_ = 0;
  std::string out_;          // bytes not yet written
  size_t out_offset_ = 0;
  proto::FrameDecoder decoder_;
  std::deque<Pending> pending_;
  // Answers of auth packets come in order under xid -4: the AddAuth requests waiting (0 for a
  // credential replayed after the handshake).
  std::deque<uint64_t> auth_waiting_;
  // The server's watches of this session, by client path (the C library's three tables).
  absl::flat_hash_set<std::string> data_watches_;
  absl::flat_hash_set<std::string> exist_watches_;
  absl::flat_hash_set<std::string> child_watches_;
  // Its persistent and persistent-recursive watches (addWatch), restored with setWatches2.
  absl::flat_hash_set<std::string> persistent_watches_;
  absl::flat_hash_set<std::string> recursive_watches_;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_NATIVE_TRANSPORT_H_
