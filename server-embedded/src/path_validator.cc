#include "path_validator.h"

#include <cstdint>

namespace zk::testing::internal {
namespace {

// Decodes one UTF-8 code point at `*i`; returns 0xFFFD for malformed input
// (which ZooKeeper then rejects, as Java decodes it to U+FFFD). Overlong
// encodings (e.g. "\xc0\xaf" for '/') are malformed for Java too: accepting
// them would let two byte strings name the same character.
//
// The client validates paths too (client/src/path.cc, DecodeUtf8 and
// ValidatePath); this server must not depend on client/, so it keeps its own
// decoder, but the two must agree on what is valid UTF-8 and which characters
// ZooKeeper rejects.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t lead = byte(*i);
  int extra;
  uint32_t cp;
  if (lead < 0x80) {
    ++*i;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    extra = 1;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
    cp = lead & 0x07;
  } else {
    ++*i;
    return 0xFFFD;
  }
  if (*i + extra >= s.size()) {
    *i = s.size();
    return 0xFFFD;
  }
  for (int k = 1; k <= extra; ++k) {
    uint8_t b = byte(*i + k);
    if ((b & 0xC0) != 0x80) {
      *i += k;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *i += extra + 1;
  static constexpr uint32_t kMinForExtra[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMinForExtra[extra]) return 0xFFFD;
  return cp;
}

bool IsRejected(uint32_t cp) {
  return cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xF8FF) ||
         cp >= 0xFFF0;
}

}  // namespace

bool IsValidPath(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  if (path.back() == '/') return false;
  size_t segment_start = 1;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      std::string_view segment = path.substr(segment_start, i - segment_start);
      if (segment.empty() || segment == "." || segment == "..") return false;
      segment_start = i + 1;
    }
  }
  for (size_t i = 0; i < path.size();) {
    if (IsRejected(NextCodePoint(path, &i))) return false;
  }
  return true;
}

}  // namespace zk::testing::internal
