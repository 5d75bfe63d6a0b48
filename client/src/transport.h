// Transport: what the engine core (engine.h) needs from a way of talking to ZooKeeper. The core
// owns the loop, the in-flight registry, deadlines, the shared native-watch table and the
// session state machine; a transport owns the connection: the handshake, sending requests,
// reading replies and notifications, pings and reconnects. Two exist: the C library
// (clib_transport.h) and zkcpp's own protocol engine (native_transport.h).
//
// Everything here runs on the loop thread, except Open() at start (on the thread that calls
// Client::Connect, before the loop thread exists).

#ifndef ZK_CLIENT_SRC_TRANSPORT_H_
#define ZK_CLIENT_SRC_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "request.h"
#include "zk/types.h"

namespace zk::internal {

// The connection states a transport reports.
enum class TransportState {
  kConnected,   // a read-write connection, with the session of session()
  kReadOnly,    // a connection to a read-only server
  kConnecting,  // the connection was lost; the transport is reconnecting to the same session
  kExpired,     // the server said the session is gone
  kAuthFailed,  // the server refused the credentials; the session is unusable
};

struct SessionInfo {
  int64_t id = 0;
  std::string password;  // 16 bytes once a session exists
  absl::Duration timeout = absl::ZeroDuration();  // negotiated
};

// Credentials replayed on every new connection: (scheme, credential), in the order added.
using CredentialList = std::vector<std::pair<std::string, std::string>>;

// Implemented by the engine core. A transport calls these from inside its own calls (Open,
// Process, Send, Close), never from elsewhere.
class TransportEvents {
 public:
  virtual void OnTransportState(TransportState state) = 0;
  // The answer to the request submitted under `id`: exactly once per sent request, whatever
  // happens (reply, connection loss, close). kClosing answers requests dropped by Close().
  virtual void OnReply(uint64_t id, Reply reply) = 0;
  // A notification for the native watch (path, kind); `path` is without the chroot.
  virtual void OnWatchEvent(WatchEventType type, std::string_view path, WatchKind kind) = 0;
  // A notification for the persistent watch of `kind` on `watched_path` (an ancestor of `path`,
  // or `path` itself); the watch stays. Paths are without the chroot.
  virtual void OnPersistentWatchEvent(WatchEventType type, std::string_view path,
                                      std::string_view watched_path, WatchKind kind) = 0;
  virtual void Log(LogLevel level, std::string_view message) = 0;
  // Bytes arrived from the server on a live connection.
  virtual void OnServerContact() = 0;
  // A connection (or an attempt at one) ended for `reason`, "<host:port>: <what happened>".
  virtual void OnConnectionError(std::string_view reason) = 0;
  // The server refused the SASL credentials, or the exchange could not complete ("<host:port>:
  // <what happened>"). The transport has stopped for good (no reconnect) and answered every
  // request it held.
  virtual void OnAuthenticationFailed(std::string_view reason) = 0;

 protected:
  ~TransportEvents() = default;
};

class Transport {
 public:
  // A descriptor to poll (-1: none) for readability and/or writability.
  struct FdInterest {
    int fd = -1;
    bool read = false;
    bool write = false;
  };
  // What the loop should wait for before calling Process: `fd` (-1: none) readable and/or
  // writable, or `wake` (InfiniteFuture: no timer), whichever comes first. `probe` is a second
  // descriptor, polled in the same turn, whose readiness goes to ProcessProbe: the native
  // transport's probe for a read-write server while it is connected to a read-only one.
  struct Interest {
    int fd = -1;
    bool read = false;
    bool write = false;
    absl::Time wake = absl::InfiniteFuture();
    FdInterest probe;
  };

  virtual ~Transport() = default;

  // Starts a new session (the first, or one after the last was lost): starts connecting.
  // Errors: InvalidArgument if the connect string cannot be used.
  virtual absl::Status Open() = 0;
  // Ends the session (closeSession if connected) and answers every request it holds with
  // kClosing. Open() may follow.
  virtual void Close() = 0;
  // Sends `request` (submitted as `id`; `request` outlives its answer). Returns kOk if the
  // request is on its way (OnReply follows), kInvalidState if no connection can take it now
  // (the caller parks it), or another code if it was refused at once (no OnReply follows).
  virtual ZooError Send(uint64_t id, const Request& request) = 0;
  // Removes the server's watch of `kind` on `path` (all of zkcpp's watchers of it are gone).
  virtual void RemoveWatches(const std::string& path, WatchKind kind) = 0;
  virtual Interest PollInterest(absl::Time now) = 0;
  // Does the transport's work after poll: `readable` / `writable` as poll reported for the fd
  // of the last PollInterest.
  virtual void Process(bool readable, bool writable) = 0;
  // As Process, for the `probe` descriptor of the last PollInterest.
  virtual void ProcessProbe(bool readable, bool writable) {}
  // A burst of Sends follows / ended: the transport may batch them into few segments.
  virtual void BeginBurst() {}
  virtual void EndBurst() {}
  // The state the connection really is in if the transport dropped it without reporting it
  // (the C library does; see clib_transport.cc); nullopt otherwise.
  virtual std::optional<TransportState> SilentlyDropped() { return std::nullopt; }
  // The session of the last kConnected / kReadOnly report.
  virtual SessionInfo session() const = 0;
  // False if new native watches are refused past ClientOptions::watch_budget_bytes (the C
  // library restores all watches in one frame that must stay under 1 MB).
  virtual bool RestoresWatchesInAnyNumber() const = 0;
  // True if the transport can send addWatch (OpKind::kAddWatch): server-side persistent watches.
  virtual bool HasPersistentWatches() const { return false; }
  // The highest zxid the server has told this session of (replies and pings), 0 if unknown.
  // Every change up to it has been notified to the session's watches.
  virtual int64_t last_zxid() const { return 0; }
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_TRANSPORT_H_
