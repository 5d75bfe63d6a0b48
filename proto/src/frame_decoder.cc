#include "zk/proto/frame_decoder.h"

#include <cstdint>

#include "zk/proto/jute_writer.h"

namespace zk::proto {

void FrameDecoder::Append(std::string_view bytes) {
  // Compact here rather than in Next(), so that views handed out stay valid until now.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 65536 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

bool FrameDecoder::PeekInt(int32_t* value) const {
  if (buffered() < 4) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    v = (v << 8) | static_cast<uint8_t>(buffer_[consumed_ + i]);
  }
  *value = static_cast<int32_t>(v);
  return true;
}

FrameDecoder::Result FrameDecoder::NextView(std::string_view* body) {
  int32_t length;
  if (!PeekInt(&length)) return Result::kNeedMore;
  if (length < 0 || length > max_frame_length_) return Result::kError;
  if (buffered() < 4 + static_cast<size_t>(length)) return Result::kNeedMore;
  *body = std::string_view(buffer_).substr(consumed_ + 4, static_cast<size_t>(length));
  consumed_ += 4 + static_cast<size_t>(length);
  return Result::kFrame;
}

FrameDecoder::Result FrameDecoder::Next(std::string* body) {
  std::string_view view;
  Result result = NextView(&view);
  if (result == Result::kFrame) body->assign(view);
  return result;
}

std::string EncodeFrame(std::string_view body) {
  std::string frame(4, '\0');
  EncodeIntAt(static_cast<int32_t>(body.size()), frame.data());
  frame.append(body);
  return frame;
}

}  // namespace zk::proto
