// JuteWriter: encodes ZooKeeper's jute binary encoding and frames packets.

#ifndef ZK_SERVER_EMBEDDED_SRC_JUTE_WRITER_H_
#define ZK_SERVER_EMBEDDED_SRC_JUTE_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zk::testing::internal {

// Appends jute primitives to a growing byte string. The writer starts with a
// 4-byte placeholder for the frame length; TakeFrame() patches it and returns
// the framed packet.
//
// Thread-compatible: not safe for concurrent use of one instance.
class JuteWriter {
 public:
  JuteWriter() : out_(4, '\0') {}

  void WriteInt(int32_t v);
  void WriteLong(int64_t v);
  void WriteBool(bool v) { out_.push_back(v ? 1 : 0); }
  void WriteBuffer(std::string_view bytes);
  void WriteNullBuffer() { WriteInt(-1); }
  void WriteString(std::string_view s) { WriteBuffer(s); }
  void WriteStringVector(const std::vector<std::string>& strings);
  void WriteRaw(std::string_view bytes) { out_.append(bytes); }

  // Returns the body size so far (without the length prefix).
  size_t body_size() const { return out_.size() - 4; }
  // Returns the length-prefixed packet and leaves the writer empty.
  std::string TakeFrame();

 private:
  std::string out_;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_JUTE_WRITER_H_
