#include "md5.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/escaping.h"

namespace zk::testing::internal {
namespace {

uint32_t Rotl(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

// Per-round left rotations, four per round (RFC 1321, section 3.4).
constexpr int kShift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

// T[i] = floor(2^32 * |sin(i + 1)|), as the RFC defines the table.
struct SineTable {
  uint32_t t[64];
  SineTable() {
    for (int i = 0; i < 64; ++i) {
      t[i] = static_cast<uint32_t>(std::floor(4294967296.0 * std::fabs(std::sin(i + 1.0))));
    }
  }
};

}  // namespace

std::string Md5(std::string_view input) {
  static const SineTable kSine;
  uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  std::string msg(input);
  const uint64_t bit_length = static_cast<uint64_t>(input.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  // The length goes in little-endian, unlike SHA-1.
  for (int i = 0; i < 8; ++i) msg.push_back(static_cast<char>((bit_length >> (8 * i)) & 0xff));
  for (size_t chunk = 0; chunk < msg.size(); chunk += 64) {
    uint32_t x[16];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const uint8_t*>(msg.data() + chunk + 4 * i);
      x[i] = uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
             (uint32_t{p[3]} << 24);
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; ++i) {
      const int round = i / 16;
      uint32_t f;
      int k;
      switch (round) {
        case 0: f = (b & c) | (~b & d); k = i; break;
        case 1: f = (b & d) | (c & ~d); k = (5 * i + 1) % 16; break;
        case 2: f = b ^ c ^ d; k = (3 * i + 5) % 16; break;
        default: f = c ^ (b | ~d); k = (7 * i) % 16; break;
      }
      const uint32_t rotated = b + Rotl(a + f + x[k] + kSine.t[i], kShift[round][i % 4]);
      a = d;
      d = c;
      c = b;
      b = rotated;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
  }
  std::string digest;
  for (uint32_t v : h) {
    for (int i = 0; i < 4; ++i) digest.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  return digest;
}

std::string Md5Hex(std::string_view input) { return absl::BytesToHexString(Md5(input)); }

}  // namespace zk::testing::internal
