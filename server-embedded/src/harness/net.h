// zkcpp real-server harness (internal): small blocking TCP helpers with deadlines.
//
// Used by the real-server fixture (four-letter words, free ports) and by the raw-protocol
// helpers in raw_session.h. Everything here is loopback test plumbing: plain blocking sockets
// driven by poll() so that no call can hang past its deadline (a paused server never answers).
//
// Example:
//   absl::StatusOr<std::string> out = zk::testing::FourLetterWord(
//       "127.0.0.1:2181", "srvr", absl::Now() + absl::Seconds(1));

#ifndef ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_NET_H_
#define ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_NET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace zk::testing {

// Debian's Abseil has its own string_view type: StrCat and friends need this conversion.
inline absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Owns a file descriptor and closes it on destruction. Move-only.
// Thread-compatible.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing.
  int release();
  // Closes the descriptor (if any).
  void reset();

 private:
  int fd_ = -1;
};

// A parsed "host:port".
struct HostPort {
  std::string host;
  int port = 0;
};

// Parses "host:port" (no brackets, IPv4 or a name). Errors: InvalidArgument.
absl::StatusOr<HostPort> ParseHostPort(std::string_view host_port);

// Opens a TCP connection to `host_port` (resolved with getaddrinfo), failing at `deadline`.
// Errors: Unavailable (refused / unreachable), DeadlineExceeded, InvalidArgument.
absl::StatusOr<ScopedFd> ConnectTcp(std::string_view host_port, absl::Time deadline);

// Writes all of `data`. Errors: Unavailable, DeadlineExceeded.
absl::Status SendAll(int fd, std::string_view data, absl::Time deadline);

// Reads exactly `size` bytes. Errors: Unavailable (EOF / reset), DeadlineExceeded.
absl::StatusOr<std::string> RecvExact(int fd, size_t size, absl::Time deadline);

// Reads until the peer closes. Errors: Unavailable (reset), DeadlineExceeded.
absl::StatusOr<std::string> RecvUntilEof(int fd, absl::Time deadline);

// Sends a four-letter word (e.g. "srvr", "conf", "ruok") to `host_port` and returns the whole
// answer. Errors: those of ConnectTcp/SendAll/RecvUntilEof.
absl::StatusOr<std::string> FourLetterWord(std::string_view host_port,
                                           std::string_view word, absl::Time deadline);

// Returns the "Mode: ..." value of a `srvr` answer ("standalone", "leader", "follower",
// "read-only", ...), or "" if the answer has none (e.g. "not currently serving requests").
std::string ParseSrvrMode(std::string_view srvr_output);

// Returns `count` distinct TCP ports on 127.0.0.1 that were free a moment ago: each one is
// learnt by binding port 0, and all sockets are held open until every port is known so the
// ports differ. Another process may still take one before it is used: callers retry on a
// bind collision. Errors: Internal (socket calls failed).
absl::StatusOr<std::vector<int>> PickFreeLoopbackPorts(int count);

// Returns true if something accepts TCP connections on 127.0.0.1:`port` right now.
bool IsLoopbackPortAccepting(int port);

// Returns true if a listening socket could be bound to 127.0.0.1:`port` right now with
// SO_REUSEADDR (as the ZooKeeper server binds it), i.e. no process holds the port.
bool IsLoopbackPortBindable(int port);

}  // namespace zk::testing

#endif  // ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_NET_H_
