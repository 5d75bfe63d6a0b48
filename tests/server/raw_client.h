// RawClient: a blocking ZooKeeper wire client for byte-level tests of the
// embedded server (handshake variants, malformed frames, four-letter words,
// ops the C library cannot send such as addWatch). Tests write request bodies
// by hand with Bytes and read replies with Cursor, both thin layers over the
// jute codec of zkcpp::proto, so that a test can also send what no record
// would encode.

#ifndef ZK_TESTS_SERVER_RAW_CLIENT_H_
#define ZK_TESTS_SERVER_RAW_CLIENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"

namespace zk::testing {

// Appends big-endian jute values to a byte string (a zk::proto::JuteWriter).
class Bytes {
 public:
  Bytes& Int(int32_t v);
  Bytes& Long(int64_t v);
  Bytes& Bool(bool v);
  Bytes& Str(const std::string& s);
  Bytes& Raw(const std::string& s);
  // Returns the bytes with an int32 length prefix.
  std::string Framed() const;
  std::string str() const { return std::string(writer_.body()); }

 private:
  zk::proto::JuteWriter writer_;
};

// Reads big-endian jute values from a byte string (a zk::proto::JuteReader). A read past the
// end returns INT32_MIN / 0 / false / "" and leaves nothing remaining.
class Cursor {
 public:
  explicit Cursor(std::string data) : data_(std::move(data)), reader_(data_) {}
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  int32_t Int();
  int64_t Long();
  bool Bool();
  std::string Str();
  size_t remaining() const { return reader_.ok() ? reader_.remaining() : 0; }

 private:
  const std::string data_;
  zk::proto::JuteReader reader_;
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
