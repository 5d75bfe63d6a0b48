#include "raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <climits>

#include "zk/proto/connect.h"
#include "zk/proto/frame_decoder.h"
#include "zk/proto/headers.h"

namespace zk::testing {

Bytes& Bytes::Int(int32_t v) {
  writer_.WriteInt(v);
  return *this;
}

Bytes& Bytes::Long(int64_t v) {
  writer_.WriteLong(v);
  return *this;
}

Bytes& Bytes::Bool(bool v) {
  writer_.WriteBool(v);
  return *this;
}

Bytes& Bytes::Str(const std::string& s) {
  writer_.WriteString(s);
  return *this;
}

Bytes& Bytes::Raw(const std::string& s) {
  writer_.WriteRaw(s);
  return *this;
}

std::string Bytes::Framed() const { return zk::proto::EncodeFrame(writer_.body()); }

int32_t Cursor::Int() {
  int32_t v = reader_.ReadInt();
  return reader_.ok() ? v : INT32_MIN;
}

int64_t Cursor::Long() { return reader_.ReadLong(); }

bool Cursor::Bool() { return reader_.ReadBool(); }

std::string Cursor::Str() { return reader_.ReadString(); }

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
  zk::proto::JuteReader length_reader(header);
  int32_t length = length_reader.ReadInt();
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
  zk::proto::JuteWriter request;
  zk::proto::ConnectRequest{.timeout_ms = timeout_ms,
                            .session_id = session_id,
                            .passwd = passwd,
                            .has_read_only = with_read_only_byte,
                            .read_only = read_only}
      .Encode(request);
  Send(request.TakeFrame());
  return ReadFrame();
}

void RawClient::Request(int32_t xid, int32_t type, const Bytes& body) {
  zk::proto::JuteWriter request;
  zk::proto::RequestHeader{.xid = xid, .type = type}.Encode(request);
  request.WriteRaw(body.str());
  Send(request.TakeFrame());
}

std::string FourLetterWord(int port, const std::string& word) {
  RawClient client(port);
  client.Send(word);
  return client.ReadToEof();
}

}  // namespace zk::testing
