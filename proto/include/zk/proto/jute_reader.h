// zk/proto/jute_reader.h — JuteReader, the decoding half of ZooKeeper's jute binary encoding
// (protocol.md §1): big-endian ints and longs, one-byte booleans, length-prefixed buffers,
// strings and vectors. Every record of zk/proto decodes through it, so the bounds checks that
// protect the embedded server from hostile input protect every client too.
//
// Example:
//   zk::proto::JuteReader reader(body);
//   int32_t xid = reader.ReadInt();
//   int64_t zxid = reader.ReadLong();
//   if (!reader.ok()) return absl::InternalError("truncated ReplyHeader");

#ifndef ZK_PROTO_JUTE_READER_H_
#define ZK_PROTO_JUTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zk::proto {

// Reads jute primitives (big-endian ints, length-prefixed buffers and strings)
// from a borrowed buffer. A read past the end, a negative length other than -1
// or a length beyond the remaining bytes puts the reader in a failed state in
// which every further read returns a zero value; check ok() once at the end.
//
// Thread-compatible: not safe for concurrent use of one instance.
class JuteReader {
 public:
  // Borrows `data`: it must outlive the reader.
  explicit JuteReader(std::string_view data) : data_(data) {}

  int32_t ReadInt();
  int64_t ReadLong();
  bool ReadBool();
  // Reads a buffer; a null (-1) buffer reads as empty and sets *is_null.
  std::string ReadBuffer(bool* is_null = nullptr);
  // Reads a ustring; a null (-1) string reads as empty.
  std::string ReadString() { return ReadBuffer(); }
  // Reads a vector<ustring>; a null vector reads as empty.
  std::vector<std::string> ReadStringVector();
  // Reads a vector count and checks that `count * min_element_size` bytes can
  // still follow, so a hostile count cannot trigger a huge allocation.
  // Returns 0 for a null (-1) vector.
  int32_t ReadCount(size_t min_element_size);

  bool ok() const { return ok_; }
  size_t remaining() const { return data_.size() - position_; }
  // Returns the bytes not read yet (empty once failed).
  std::string_view rest() const { return ok_ ? data_.substr(position_) : std::string_view(); }
  // Puts the reader in the failed state (a record that decodes but is invalid).
  void Fail() { ok_ = false; }

 private:
  bool Take(size_t n, const char** out);

  std::string_view data_;
  size_t position_ = 0;
  bool ok_ = true;
};

}  // namespace zk::proto

#endif  // ZK_PROTO_JUTE_READER_H_
