#include "zk/proto/jute_reader.h"

namespace zk::proto {

bool JuteReader::Take(size_t n, const char** out) {
  if (!ok_ || remaining() < n) {
    ok_ = false;
    return false;
  }
  *out = data_.data() + position_;
  position_ += n;
  return true;
}

int32_t JuteReader::ReadInt() {
  const char* p;
  if (!Take(4, &p)) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return static_cast<int32_t>(v);
}

int64_t JuteReader::ReadLong() {
  const char* p;
  if (!Take(8, &p)) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return static_cast<int64_t>(v);
}

bool JuteReader::ReadBool() {
  const char* p;
  if (!Take(1, &p)) return false;
  return *p != 0;
}

std::string JuteReader::ReadBuffer(bool* is_null) {
  int32_t length = ReadInt();
  if (is_null != nullptr) *is_null = (ok_ && length == -1);
  if (!ok_ || length == -1) return std::string();
  if (length < 0) {
    ok_ = false;
    return std::string();
  }
  const char* p;
  if (!Take(static_cast<size_t>(length), &p)) return std::string();
  return std::string(p, static_cast<size_t>(length));
}

int32_t JuteReader::ReadCount(size_t min_element_size) {
  int32_t count = ReadInt();
  if (!ok_ || count == -1) return 0;
  if (count < 0 ||
      static_cast<uint64_t>(count) * min_element_size > remaining()) {
    ok_ = false;
    return 0;
  }
  return count;
}

std::vector<std::string> JuteReader::ReadStringVector() {
  std::vector<std::string> out;
  int32_t count = ReadCount(4);
  out.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count && ok_; ++i) out.push_back(ReadString());
  return out;
}

}  // namespace zk::proto
