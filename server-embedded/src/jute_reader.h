// JuteReader: decodes ZooKeeper's jute binary encoding from a byte buffer.

#ifndef ZK_SERVER_EMBEDDED_SRC_JUTE_READER_H_
#define ZK_SERVER_EMBEDDED_SRC_JUTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zk::testing::internal {

// Reads jute primitives (big-endian ints, length-prefixed buffers and strings)
// from a borrowed buffer. A read past the end, a negative length other than -1
// or a length beyond the remaining bytes puts the reader in a failed state in
// which every further read returns a zero value; check ok() once at the end.
//
// Thread-compatible: not safe for concurrent use of one instance.
class JuteReader {
 public:
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
  void Fail() { ok_ = false; }

 private:
  bool Take(size_t n, const char** out);

  std::string_view data_;
  size_t position_ = 0;
  bool ok_ = true;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_JUTE_READER_H_
