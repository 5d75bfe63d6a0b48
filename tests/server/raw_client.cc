#include "raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace zk::testing {

Bytes& Bytes::Int(int32_t v) {
  for (int i = 3; i >= 0; --i) data_.push_back(static_cast<char>((static_cast<uint32_t>(v) >> (8 * i)) & 0xff));
  return *this;
}

Bytes& Bytes::Long(int64_t v) {
  for (int i = 7; i >= 0; --i) data_.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
  return *this;
}

Bytes& Bytes::Bool(bool v) {
  data_.push_back(v ? 1 : 0);
  return *this;
}

Bytes& Bytes::Str(const std::string& s) {
  Int(static_cast<int32_t>(s.size()));
  data_ += s;
  return *this;
}

Bytes& Bytes::Raw(const std::string& s) {
  data_ += s;
  return *this;
}

std::string Bytes::Framed() const {
  Bytes framed;
  framed.Int(static_cast<int32_t>(data_.size()));
  return framed.data_ + data_;
}

int32_t Cursor::Int() {
  if (remaining() < 4) {
    pos_ = data_.size();
    return INT32_MIN;
  }
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_++]);
  return static_cast<int32_t>(v);
}

int64_t Cursor::Long() {
  uint64_t hi = static_cast<uint32_t>(Int());
  uint64_t lo = static_cast<uint32_t>(Int());
  return static_cast<int64_t>((hi << 32) | lo);
}

bool Cursor::Bool() { return remaining() > 0 && data_[pos_++] != 0; }

std::string Cursor::Str() {
  int32_t n = Int();
  if (n < 0 || static_cast<size_t>(n) > remaining()) return "";
  std::string s = data_.substr(pos_, n);
  pos_ += n;
  return s;
}

RawClient::RawClient(int port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
}

int RawClient::local_port() const {
  sockaddr_in addr{};
  socklen_t length = sizeof(addr);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length);
  return ntohs(addr.sin_port);
}

void RawClient::Send(const std::string& bytes) {
  size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

bool RawClient::ReadExact(size_t n, std::string* out, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  out->clear();
  while (out->size() < n) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, left) <= 0) continue;
    char buffer[4096];
    ssize_t got = read(fd_, buffer, std::min(sizeof(buffer), n - out->size()));
    if (got <= 0) return false;
    out->append(buffer, static_cast<size_t>(got));
  }
  return true;
}

std::optional<std::string> RawClient::ReadFrame(int timeout_ms) {
  std::string header;
  if (fd_ < 0 || !ReadExact(4, &header, timeout_ms)) return std::nullopt;
  int32_t length = Cursor(header).Int();
  if (length < 0) return std::nullopt;
  std::string body;
  if (!ReadExact(static_cast<size_t>(length), &body, timeout_ms)) return std::nullopt;
  return body;
}

std::string RawClient::ReadToEof(int timeout_ms) {
  std::string all;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (fd_ >= 0) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) break;
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, left) <= 0) continue;
    char buffer[4096];
    ssize_t got = read(fd_, buffer, sizeof(buffer));
    if (got <= 0) break;
    all.append(buffer, static_cast<size_t>(got));
  }
  return all;
}

bool RawClient::WaitClosed(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (fd_ >= 0) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, left) <= 0) continue;
    char buffer[4096];
    ssize_t got = read(fd_, buffer, sizeof(buffer));
    if (got <= 0) return true;
  }
  return true;
}

std::optional<std::string> RawClient::Handshake(int32_t timeout_ms, int64_t session_id,
                                                const std::string& passwd,
                                                bool with_read_only_byte, bool read_only) {
  Bytes request;
  request.Int(0).Long(0).Int(timeout_ms).Long(session_id).Str(passwd);
  if (with_read_only_byte) request.Bool(read_only);
  Send(request.Framed());
  return ReadFrame();
}

void RawClient::Request(int32_t xid, int32_t type, const Bytes& body) {
  Bytes request;
  request.Int(xid).Int(type).Raw(body.str());
  Send(request.Framed());
}

std::string FourLetterWord(int port, const std::string& word) {
  RawClient client(port);
  client.Send(word);
  return client.ReadToEof();
}

}  // namespace zk::testing
