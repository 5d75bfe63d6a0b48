#include "testing/tcp_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "harness/net.h"

namespace zk::testing {
namespace {

// One relayed connection: the client's socket, the target's, and the bytes read from one side
// and not yet written to the other.
struct Pair {
  ScopedFd client;
  ScopedFd server;
  std::string to_server;
  std::string to_client;
};

// Moves bytes from `from` into `buffer` (if empty) and from `buffer` to `to` as poll allows.
// Returns false when the connection is over (EOF or an error on either side).
bool Pump(const pollfd& from_poll, const pollfd& to_poll, std::string& buffer) {
  if (from_poll.revents & (POLLIN | POLLHUP | POLLERR)) {
    char chunk[16384];
    const ssize_t n = read(from_poll.fd, chunk, sizeof(chunk));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
    if (n > 0) buffer.append(chunk, static_cast<size_t>(n));
  }
  if (!buffer.empty() && (to_poll.revents & (POLLOUT | POLLERR))) {
    const ssize_t n = send(to_poll.fd, buffer.data(), buffer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    if (n > 0) buffer.erase(0, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

class TcpRelay::Impl {
 public:
  Impl(ScopedFd listener, int port, std::string target, ScopedFd wake)
      : listener_(std::move(listener)),
        port_(port),
        target_(std::move(target)),
        wake_(std::move(wake)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Impl() {
    Command([this] { stop_ = true; });
    thread_.join();
  }

  int port() const { return port_; }

  // Applies `change` under the lock, wakes the loop, and waits until the loop has taken it
  // into account (it applies state only at the top of an iteration, between two transfers).
  // std::mutex, not absl::Mutex: Debian's Abseil is not built for ThreadSanitizer.
  template <typename F>
  void Command(F change) {
    std::unique_lock<std::mutex> lock(mu_);
    change();
    const uint64_t wanted = ++requested_;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_.get(), &one, sizeof(one));
    applied_cv_.wait(lock, [&] { return applied_ >= wanted || loop_ended_; });
  }

  void SetFrozen(bool frozen) {
    Command([this, frozen] { frozen_ = frozen; });
  }
  void RequestReset() {
    Command([this] { reset_ = true; });
  }
  int connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_;
  }

 private:
  void Accept() {
    ScopedFd client(accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client.valid()) return;
    absl::StatusOr<ScopedFd> server = ConnectTcp(target_, absl::Now() + absl::Seconds(5));
    if (!server.ok()) return;  // the target is down: the client sees its connection close
    const int flags = 1;
    setsockopt(server->get(), SOL_SOCKET, SO_KEEPALIVE, &flags, sizeof(flags));
    Pair pair;
    pair.client = std::move(client);
    pair.server = std::move(*server);
    // ConnectTcp hands back a blocking socket: the relay only ever sends with MSG_DONTWAIT.
    pairs_.push_back(std::move(pair));
  }

  void ResetAll() {
    for (Pair& pair : pairs_) {
      const linger abort{1, 0};  // close() then sends RST instead of FIN
      setsockopt(pair.client.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
    }
    pairs_.clear();
  }

  void Loop() {
    bool frozen = false;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) break;
        frozen = frozen_;
        if (reset_) {
          ResetAll();
          reset_ = false;
        }
        open_ = static_cast<int>(pairs_.size());
        applied_ = requested_;
      }
      applied_cv_.notify_all();
      std::vector<pollfd> fds;
      fds.push_back({wake_.get(), POLLIN, 0});
      fds.push_back({listener_.get(), POLLIN, 0});
      if (!frozen) {
        for (const Pair& pair : pairs_) {
          fds.push_back({pair.client.get(),
                         static_cast<short>((pair.to_server.empty() ? POLLIN : 0) |
                                            (pair.to_client.empty() ? 0 : POLLOUT)),
                         0});
          fds.push_back({pair.server.get(),
                         static_cast<short>((pair.to_client.empty() ? POLLIN : 0) |
                                            (pair.to_server.empty() ? 0 : POLLOUT)),
                         0});
        }
      }
      if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
      if (fds[0].revents & POLLIN) {
        uint64_t value;
        [[maybe_unused]] ssize_t n = read(wake_.get(), &value, sizeof(value));
      }
      if (fds[1].revents & POLLIN) Accept();
      if (frozen) continue;
      size_t i = 2;
      for (auto it = pairs_.begin(); it != pairs_.end() && i + 1 < fds.size(); i += 2) {
        const pollfd& client = fds[i];
        const pollfd& server = fds[i + 1];
        const bool alive =
            Pump(client, server, it->to_server) && Pump(server, client, it->to_client);
        it = alive ? std::next(it) : pairs_.erase(it);
      }
    }
    pairs_.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      loop_ended_ = true;
    }
    applied_cv_.notify_all();
  }

  const ScopedFd listener_;
  const int port_;
  const std::string target_;
  const ScopedFd wake_;
  std::thread thread_;
  std::list<Pair> pairs_;  // loop thread only (and ResetAll, called by it)

  mutable std::mutex mu_;
  std::condition_variable applied_cv_;
  // Guarded by mu_:
  bool stop_ = false;
  bool frozen_ = false;
  bool reset_ = false;
  int open_ = 0;
  uint64_t requested_ = 0;
  uint64_t applied_ = 0;
  bool loop_ended_ = false;
};

absl::StatusOr<std::unique_ptr<TcpRelay>> TcpRelay::Start(std::string_view target) {
  std::string first(target.substr(0, target.find(',')));
  if (absl::StatusOr<HostPort> parsed = ParseHostPort(first); !parsed.ok()) {
    return parsed.status();
  }
  ScopedFd listener(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener.valid()) {
    return absl::InternalError(absl::StrCat("relay: socket: ", strerror(errno)));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener.get(), 64) != 0 ||
      getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return absl::InternalError(absl::StrCat("relay: bind/listen: ", strerror(errno)));
  }
  ScopedFd wake(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) return absl::InternalError(absl::StrCat("relay: eventfd: ", strerror(errno)));
  auto impl = std::make_unique<Impl>(std::move(listener), ntohs(addr.sin_port), std::move(first),
                                     std::move(wake));
  return std::unique_ptr<TcpRelay>(new TcpRelay(std::move(impl)));
}

TcpRelay::TcpRelay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TcpRelay::~TcpRelay() = default;

std::string TcpRelay::connect_string() const { return absl::StrCat("127.0.0.1:", impl_->port()); }
void TcpRelay::Freeze() { impl_->SetFrozen(true); }
void TcpRelay::Thaw() { impl_->SetFrozen(false); }
void TcpRelay::ResetConnections() { impl_->RequestReset(); }
int TcpRelay::connections() const { return impl_->connections(); }

}  // namespace zk::testing
