#include "frame_decoder.h"

#include <cstdint>

#include "protocol.h"

namespace zk::testing::internal {

bool FrameDecoder::PeekInt(int32_t* value) const {
  if (buffered() < 4) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    v = (v << 8) | static_cast<uint8_t>(buffer_[consumed_ + i]);
  }
  *value = static_cast<int32_t>(v);
  return true;
}

FrameDecoder::Result FrameDecoder::Next(std::string* body) {
  int32_t length;
  if (!PeekInt(&length)) return Result::kNeedMore;
  if (length < 0 || length > kMaxFrameLength) return Result::kError;
  if (buffered() < 4 + static_cast<size_t>(length)) return Result::kNeedMore;
  body->assign(buffer_, consumed_ + 4, static_cast<size_t>(length));
  consumed_ += 4 + static_cast<size_t>(length);
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 65536 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return Result::kFrame;
}

}  // namespace zk::testing::internal
