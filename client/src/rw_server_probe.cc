#include "rw_server_probe.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace zk::internal {
namespace {

constexpr std::string_view kQuestion = "isro";
// The server answers "rw" or "ro" and closes; a longer answer is not ZooKeeper's.
constexpr size_t kMaxAnswer = 16;

}  // namespace

RwServerProbe::RwServerProbe(const Address& address, absl::Time deadline)
    : address_(address), deadline_(deadline) {
  fd_ = socket(address_.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&address_.storage), address_.length) == 0) {
    connected_ = true;
  } else if (errno != EINPROGRESS) {
    Finish(Outcome::kNotReadWrite);
  }
}

RwServerProbe::~RwServerProbe() { Finish(Outcome::kNotReadWrite); }

RwServerProbe::Outcome RwServerProbe::Finish(Outcome outcome) {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  return outcome;
}

RwServerProbe::Outcome RwServerProbe::Process(bool readable, bool writable, absl::Time now) {
  if (fd_ < 0) return Outcome::kNotReadWrite;
  if (now >= deadline_) return Finish(Outcome::kNotReadWrite);
  if (!connected_) {
    if (!readable && !writable) return Outcome::kPending;
    int error = 0;
    socklen_t length = sizeof(error);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      return Finish(Outcome::kNotReadWrite);
    }
    connected_ = true;
    writable = true;
  }
  if (!sent_ && writable) {
    // Four bytes on a fresh connection: they fit the socket buffer in one send.
    const ssize_t n = send(fd_, kQuestion.data(), kQuestion.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(kQuestion.size())) return Finish(Outcome::kNotReadWrite);
    sent_ = true;
  }
  if (!readable) return Outcome::kPending;
  char buffer[kMaxAnswer];
  const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
  if (n < 0) {
    return errno == EAGAIN || errno == EINTR ? Outcome::kPending : Finish(Outcome::kNotReadWrite);
  }
  if (n > 0) {
    answer_.append(buffer, static_cast<size_t>(n));
    if (answer_.size() < 2) return Outcome::kPending;
  }
  // The answer is complete (the server closed) or long enough to judge.
  return Finish(answer_.starts_with("rw") ? Outcome::kReadWrite : Outcome::kNotReadWrite);
}

}  // namespace zk::internal
