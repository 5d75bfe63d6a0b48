// zk/proto/frame_decoder.h — the framing of ZooKeeper's TCP stream (protocol.md §1): every
// packet is an int32 body length and the body. FrameDecoder splits a received byte stream into
// bodies; EncodeFrame (and JuteWriter::TakeFrame) add the prefix. The frame limit is a
// constructor argument because the two sides differ: a server refuses anything above
// jute.maxbuffer, a client may be configured to accept more.
//
// Example:
//   zk::proto::FrameDecoder decoder;
//   decoder.Append(received);
//   std::string body;
//   while (decoder.Next(&body) == zk::proto::FrameDecoder::Result::kFrame) Handle(body);

#ifndef ZK_PROTO_FRAME_DECODER_H_
#define ZK_PROTO_FRAME_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "zk/proto/constants.h"

namespace zk::proto {

// Accumulates bytes and yields complete frames (`int32 length` + body). A
// negative length or one above the frame limit is an error after which the
// stream must be dropped.
//
// Thread-compatible: not safe for concurrent use of one instance.
class FrameDecoder {
 public:
  enum class Result { kFrame, kNeedMore, kError };

  // Accepts frame bodies of up to `max_frame_length` bytes.
  explicit FrameDecoder(int32_t max_frame_length = kMaxFrameLength)
      : max_frame_length_(max_frame_length) {}

  // Appends received bytes. Invalidates the views returned by NextView().
  void Append(std::string_view bytes);
  // Extracts the next frame body into *body if one is complete.
  Result Next(std::string* body);
  // As Next(), without a copy: *body views the buffer and stays valid until the next Append().
  Result NextView(std::string_view* body);
  // Returns the first four buffered bytes as a big-endian int if at least
  // four bytes are buffered (used to spot a four-letter word).
  bool PeekInt(int32_t* value) const;
  size_t buffered() const { return buffer_.size() - consumed_; }
  int32_t max_frame_length() const { return max_frame_length_; }

 private:
  int32_t max_frame_length_;
  std::string buffer_;
  size_t consumed_ = 0;
};

// Returns `body` with its int32 length prefix.
std::string EncodeFrame(std::string_view body);

}  // namespace zk::proto

#endif  // ZK_PROTO_FRAME_DECODER_H_
