#include "zk/path.h"
#include "string_util.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

// The embedded server checks paths with the same rules (server-embedded/src/path_validator.cc):
// written apart because the server must not depend on the client, held to each other by
// tests/server/path_rules_agreement_test.cc.

namespace zk {
namespace {

absl::Status Bad(std::string_view op, std::string_view path, std::string_view problem) {
  return absl::InvalidArgumentError(internal::StrCat(op, " ", path, ": ", problem));
}

// Decodes one UTF-8 sequence at `i`; returns its length, or 0 if malformed.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t& code_point) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  size_t length;
  if (b0 < 0x80) {
    code_point = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    code_point = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    code_point = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    code_point = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kMinForLength[length]) return 0;  // overlong encoding
  return length;
}

}  // namespace

absl::Status ValidatePath(std::string_view op, std::string_view path, PathUse use) {
  if (path.empty()) return Bad(op, "\"\"", "path is empty");
  if (path[0] != '/') return Bad(op, path, "path must start with '/'");
  if (path.size() == 1) return absl::OkStatus();
  if (path.back() == '/' && use != PathUse::kSequentialCreate) {
    return Bad(op, path, "path must not end with '/'");
  }
  size_t segment_start = 1;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      const std::string_view segment = path.substr(segment_start, i - segment_start);
      if (segment.empty() && !(i == path.size() && path.back() == '/')) {
        return Bad(op, path, internal::StrCat("empty path segment at offset ", segment_start));
      }
      if (segment == "." || segment == "..") {
        return Bad(op, path, internal::StrCat("relative segment '", segment, "' at offset ",
                                          segment_start));
      }
      segment_start = i + 1;
      continue;
    }
    uint32_t cp = 0;
    const size_t length = DecodeUtf8(path, i, cp);
    if (length == 0) return Bad(op, path, internal::StrCat("invalid UTF-8 at offset ", i));
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) {
      return Bad(op, path, internal::StrCat("control character U+", absl::Hex(cp, absl::kZeroPad4),
                                        " at offset ", i));
    }
    if (cp > 0xFFFF || (cp >= 0xD800 && cp <= 0xF8FF) || cp >= 0xFFF0) {
      return Bad(op, path, internal::StrCat("character U+", absl::Hex(cp, absl::kZeroPad4),
                                        " at offset ", i, " is not allowed by ZooKeeper"));
    }
    i += length - 1;
  }
  return absl::OkStatus();
}

std::string JoinPath(std::string_view parent, std::string_view child) {
  if (parent == "/") return internal::StrCat("/", child);
  return internal::StrCat(parent, "/", child);
}

std::string_view ParentPath(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return path.substr(0, slash);
}

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return path;
  return path.substr(slash + 1);
}

}  // namespace zk
