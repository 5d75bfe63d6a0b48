#include "zk/proto/jute_writer.h"

#include <utility>

namespace zk::proto {
namespace {

void PutBigEndian(uint64_t v, int bytes, char* out) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

void EncodeIntAt(int32_t v, char* out) { PutBigEndian(static_cast<uint32_t>(v), 4, out); }

void JuteWriter::WriteInt(int32_t v) {
  char buf[4];
  PutBigEndian(static_cast<uint32_t>(v), 4, buf);
  out_.append(buf, 4);
}

void JuteWriter::WriteLong(int64_t v) {
  char buf[8];
  PutBigEndian(static_cast<uint64_t>(v), 8, buf);
  out_.append(buf, 8);
}

void JuteWriter::WriteBuffer(std::string_view bytes) {
  WriteInt(static_cast<int32_t>(bytes.size()));
  out_.append(bytes);
}

void JuteWriter::WriteStringVector(const std::vector<std::string>& strings) {
  WriteInt(static_cast<int32_t>(strings.size()));
  for (const std::string& s : strings) WriteString(s);
}

std::string JuteWriter::TakeFrame() {
  PutBigEndian(static_cast<uint32_t>(body_size()), 4, out_.data());
  std::string frame = std::move(out_);
  out_.assign(4, '\0');
  return frame;
}

}  // namespace zk::proto
