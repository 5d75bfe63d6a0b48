// FrameDecoder: splits a TCP byte stream into length-prefixed packets.

#ifndef ZK_SERVER_EMBEDDED_SRC_FRAME_DECODER_H_
#define ZK_SERVER_EMBEDDED_SRC_FRAME_DECODER_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace zk::testing::internal {

// Accumulates bytes and yields complete frames (`int32 length` + body). A
// negative length or one above jute.maxbuffer (0xfffff) is an error after
// which the stream must be dropped.
//
// Thread-compatible: not safe for concurrent use of one instance.
class FrameDecoder {
 public:
  enum class Result { kFrame, kNeedMore, kError };

  // Appends received bytes.
  void Append(std::string_view bytes) { buffer_.append(bytes); }
  // Extracts the next frame body into *body if one is complete.
  Result Next(std::string* body);
  // Returns the first four buffered bytes as a big-endian int if at least
  // four bytes are buffered (used to spot a four-letter word).
  bool PeekInt(int32_t* value) const;
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  size_t consumed_ = 0;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_FRAME_DECODER_H_
