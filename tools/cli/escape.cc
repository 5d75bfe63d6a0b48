#include "cli/escape.h"

#include <cstdint>

#include "absl/strings/str_format.h"

namespace zk::cli {
namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` (1-4), or 0.
size_t Utf8Length(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = byte(0);
  size_t length;
  uint32_t code;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
  if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000) || code > 0x10FFFF ||
      (code >= 0xD800 && code <= 0xDFFF)) {
    return 0;
  }
  return length;
}

}  // namespace

std::string EscapeForTerminal(std::string_view bytes, LineBreaks line_breaks) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const uint8_t c = static_cast<uint8_t>(bytes[i]);
    if ((c == '\n' || c == '\t') && line_breaks == LineBreaks::kKeep) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c == '\n') {
      out.append("\\n");
      ++i;
    } else if (c == '\t') {
      out.append("\\t");
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out.append(absl::StrFormat("\\x%02x", c));
      ++i;
    } else if (size_t length = Utf8Length(bytes.substr(i)); length == 0) {
      out.append(absl::StrFormat("\\x%02x", c));
      ++i;
    } else if (length == 2 && c == 0xC2 && static_cast<uint8_t>(bytes[i + 1]) < 0xA0) {
      out.append(absl::StrFormat("\\u%04x", static_cast<uint8_t>(bytes[i + 1])));  // C1 control
      i += 2;
    } else {
      out.append(bytes.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace zk::cli
