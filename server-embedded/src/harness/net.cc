#include "harness/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace zk::testing {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// Milliseconds left until `deadline` for poll(), at least 0, at most INT32_MAX.
int PollTimeoutMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
                        INT32_MAX));
}

// Waits until `fd` is ready for `events` or `deadline` passes.
absl::Status WaitReady(int fd, short events, absl::Time deadline, std::string_view what) {
  for (;;) {
    pollfd pfd{.fd = fd, .events = events, .revents = 0};
    const int rc = ::poll(&pfd, 1, PollTimeoutMs(deadline));
    if (rc > 0) return absl::OkStatus();
    if (rc == 0) return absl::DeadlineExceededError(absl::StrCat(AsAbsl(what), ": timed out"));
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat(AsAbsl(what), ": poll failed: ", ErrnoText(errno)));
    }
  }
}

}  // namespace

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

int ScopedFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void ScopedFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("host:port \"", AsAbsl(host_port), "\": expected HOST:PORT"));
  }
  HostPort result;
  result.host = std::string(host_port.substr(0, colon));
  if (!absl::SimpleAtoi(absl::string_view(host_port.data() + colon + 1,
                                          host_port.size() - colon - 1),
                        &result.port) ||
      result.port <= 0 || result.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("host:port \"", AsAbsl(host_port), "\": bad port"));
  }
  return result;
}

absl::StatusOr<ScopedFd> ConnectTcp(std::string_view host_port, absl::Time deadline) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(host_port);
  if (!parsed.ok()) return parsed.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(parsed->port);
  const int gai = ::getaddrinfo(parsed->host.c_str(), port.c_str(), &hints, &addresses);
  if (gai != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("connect ", AsAbsl(host_port), ": cannot resolve: ", ::gai_strerror(gai)));
  }
  absl::Status last = absl::UnavailableError(absl::StrCat("connect ", AsAbsl(host_port), ": no address"));
  for (addrinfo* ai = addresses; ai != nullptr; ai = ai->ai_next) {
    ScopedFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                         ai->ai_protocol));
    if (!fd.valid()) {
      last = absl::InternalError(
          absl::StrCat("connect ", AsAbsl(host_port), ": socket: ", ErrnoText(errno)));
      continue;
    }
    int rc = ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      absl::Status ready =
          WaitReady(fd.get(), POLLOUT, deadline, absl::StrCat("connect ", AsAbsl(host_port)));
      if (!ready.ok()) {
        last = ready;
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        errno = err;
        rc = -1;
      } else {
        rc = 0;
      }
    }
    if (rc != 0) {
      last = absl::UnavailableError(
          absl::StrCat("connect ", AsAbsl(host_port), ": ", ErrnoText(errno)));
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::freeaddrinfo(addresses);
    return fd;
  }
  ::freeaddrinfo(addresses);
  return last;
}

absl::Status SendAll(int fd, std::string_view data, absl::Time deadline) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      absl::Status ready = WaitReady(fd, POLLOUT, deadline, "send");
      if (!ready.ok()) return ready;
      continue;
    }
    return absl::UnavailableError(absl::StrCat("send: ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RecvExact(int fd, size_t size, absl::Time deadline) {
  std::string out(size, '\0');
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::recv(fd, out.data() + got, size - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      return absl::UnavailableError(
          absl::StrCat("recv: connection closed by peer after ", got, " of ", size, " bytes"));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      absl::Status ready = WaitReady(fd, POLLIN, deadline, "recv");
      if (!ready.ok()) return ready;
      continue;
    }
    return absl::UnavailableError(absl::StrCat("recv: ", ErrnoText(errno)));
  }
  return out;
}

absl::StatusOr<std::string> RecvUntilEof(int fd, absl::Time deadline) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      out.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return out;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      absl::Status ready = WaitReady(fd, POLLIN, deadline, "recv");
      if (!ready.ok()) return ready;
      continue;
    }
    // The server may reset the connection right after writing a 4lw answer: keep what came.
    if (errno == ECONNRESET && !out.empty()) return out;
    return absl::UnavailableError(absl::StrCat("recv: ", ErrnoText(errno)));
  }
}

absl::StatusOr<std::string> FourLetterWord(std::string_view host_port, std::string_view word,
                                           absl::Time deadline) {
  absl::StatusOr<ScopedFd> fd = ConnectTcp(host_port, deadline);
  if (!fd.ok()) return fd.status();
  if (absl::Status sent = SendAll(fd->get(), word, deadline); !sent.ok()) {
    return absl::Status(sent.code(),
                        absl::StrCat("four-letter word ", AsAbsl(word), " to ", AsAbsl(host_port), ": ",
                                     sent.message()));
  }
  absl::StatusOr<std::string> answer = RecvUntilEof(fd->get(), deadline);
  if (!answer.ok()) {
    return absl::Status(answer.status().code(),
                        absl::StrCat("four-letter word ", AsAbsl(word), " to ", AsAbsl(host_port), ": ",
                                     answer.status().message()));
  }
  return answer;
}

std::string ParseSrvrMode(std::string_view srvr_output) {
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(srvr_output.data(), srvr_output.size()), '\n')) {
    if (absl::ConsumePrefix(&line, "Mode: ")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "";
}

absl::StatusOr<std::vector<int>> PickFreeLoopbackPorts(int count) {
  std::vector<ScopedFd> held;
  std::vector<int> ports;
  for (int i = 0; i < count; ++i) {
    ScopedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      return absl::InternalError(absl::StrCat("pick free port: socket: ", ErrnoText(errno)));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return absl::InternalError(absl::StrCat("pick free port: bind: ", ErrnoText(errno)));
    }
    socklen_t len = sizeof(addr);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return absl::InternalError(
          absl::StrCat("pick free port: getsockname: ", ErrnoText(errno)));
    }
    ports.push_back(ntohs(addr.sin_port));
    held.push_back(std::move(fd));
  }
  return ports;
}

bool IsLoopbackPortAccepting(int port) {
  absl::StatusOr<ScopedFd> fd = ConnectTcp(absl::StrCat("127.0.0.1:", port),
                                           absl::Now() + absl::Milliseconds(500));
  return fd.ok();
}

bool IsLoopbackPortBindable(int port) {
  ScopedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
  return ::listen(fd.get(), 1) == 0;
}

}  // namespace zk::testing
