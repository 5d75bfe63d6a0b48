// zk/proto/jute_writer.h — JuteWriter, the encoding half of ZooKeeper's jute binary encoding
// (protocol.md §1), which also frames what it wrote: the writer reserves the 4-byte length
// prefix up front, so a packet is built in one buffer and framed without a copy.
//
// Example:
//   zk::proto::JuteWriter writer;
//   zk::proto::RequestHeader{.xid = 1, .type = zk::proto::op::kGetData}.Encode(writer);
//   zk::proto::GetDataRequest{.path = "/a"}.Encode(writer);
//   Send(writer.TakeFrame());

#ifndef ZK_PROTO_JUTE_WRITER_H_
#define ZK_PROTO_JUTE_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zk::proto {

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
  // Returns the body written so far (without the length prefix); valid until the next write.
  std::string_view body() const { return std::string_view(out_).substr(4); }
  // Returns the length-prefixed packet and leaves the writer empty.
  std::string TakeFrame();

 private:
  std::string out_;
};

// Writes `v` big-endian into out[0..3] (patching a prepared packet, e.g. its xid).
void EncodeIntAt(int32_t v, char* out);

}  // namespace zk::proto

#endif  // ZK_PROTO_JUTE_WRITER_H_
