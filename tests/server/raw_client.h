// RawClient: a hand-rolled ZooKeeper wire client for byte-level tests of the
// embedded server (handshake variants, malformed frames, four-letter words,
// ops the C library cannot send such as addWatch).

#ifndef ZK_TESTS_SERVER_RAW_CLIENT_H_
#define ZK_TESTS_SERVER_RAW_CLIENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zk::testing {

// Appends big-endian jute values to a byte string.
class Bytes {
 public:
  Bytes& Int(int32_t v);
  Bytes& Long(int64_t v);
  Bytes& Bool(bool v);
  Bytes& Str(const std::string& s);
  Bytes& Raw(const std::string& s);
  // Returns the bytes with an int32 length prefix.
  std::string Framed() const;
  const std::string& str() const { return data_; }

 private:
  std::string data_;
};

// Reads big-endian jute values from a byte string.
class Cursor {
 public:
  explicit Cursor(std::string data) : data_(std::move(data)) {}
  int32_t Int();
  int64_t Long();
  bool Bool();
  std::string Str();
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string data_;
  size_t pos_ = 0;
};

// One blocking TCP connection to 127.0.0.1. Thread-compatible.
class RawClient {
 public:
  explicit RawClient(int port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  int local_port() const;
  void Send(const std::string& bytes);
  // Returns the next frame body, or nullopt on EOF/timeout.
  std::optional<std::string> ReadFrame(int timeout_ms = 5000);
  // Returns everything until EOF (for four-letter words).
  std::string ReadToEof(int timeout_ms = 5000);
  // Returns true once the server has closed the connection.
  bool WaitClosed(int timeout_ms = 5000);

  // Sends a ConnectRequest (with or without the readOnly byte) and returns
  // the raw ConnectResponse body.
  std::optional<std::string> Handshake(int32_t timeout_ms, int64_t session_id = 0,
                                       const std::string& passwd = std::string(16, '\0'),
                                       bool with_read_only_byte = true, bool read_only = false);
  // Sends RequestHeader{xid, type} + body.
  void Request(int32_t xid, int32_t type, const Bytes& body = Bytes());

 private:
  bool ReadExact(size_t n, std::string* out, int timeout_ms);
  int fd_ = -1;
};

// Returns "<scheme>:<text>" of a four-letter word answer from 127.0.0.1:port.
std::string FourLetterWord(int port, const std::string& word);

}  // namespace zk::testing

#endif  // ZK_TESTS_SERVER_RAW_CLIENT_H_
