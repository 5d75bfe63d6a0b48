#include "acl_policy.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "proto_aliases.h"
#include "sha1.h"

namespace zk::testing::internal {
namespace {

// Parses a decimal int as Java's Integer.parseInt does (the ASCII subset): an optional sign,
// then at least one digit, nothing else (no spaces), no overflow.
bool ParseJavaInt(std::string_view text, int64_t* out) {
  size_t i = 0;
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size()) return false;
  int64_t value = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
    if (value > int64_t{1} << 31) return false;
  }
  if (negative) value = -value;
  if (value > INT32_MAX || value < INT32_MIN) return false;
  *out = value;
  return true;
}

// Parses "a.b.c.d" as IPAuthenticationProvider does: exactly four parts, each 0..255.
bool ParseIpv4(std::string_view text, uint32_t* out) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(text.data(), text.size()), '.');
  if (parts.size() != 4) return false;
  uint32_t value = 0;
  for (absl::string_view part : parts) {
    int64_t octet;
    if (!ParseJavaInt(std::string_view(part.data(), part.size()), &octet) || octet < 0 ||
        octet > 255) {
      return false;
    }
    value = (value << 8) | static_cast<uint32_t>(octet);
  }
  *out = value;
  return true;
}

// Parses "a.b.c.d" or "a.b.c.d/bits" (bits 0..32; the part after the first '/').
bool ParseIpPattern(std::string_view pattern, uint32_t* address, int* bits) {
  size_t slash = pattern.find('/');
  *bits = 32;
  if (slash != std::string_view::npos) {
    int64_t value;
    if (!ParseJavaInt(pattern.substr(slash + 1), &value) || value < 0 || value > 32) {
      return false;
    }
    *bits = static_cast<int>(value);
    pattern = pattern.substr(0, slash);
  }
  return ParseIpv4(pattern, address);
}

bool IpMatches(std::string_view pattern, std::string_view client) {
  uint32_t want, have;
  int bits;
  if (!ParseIpPattern(pattern, &want, &bits) || !ParseIpv4(client, &have)) return false;
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (want & mask) == (have & mask);
}

bool IsValidId(const Id& id, bool sasl_enabled) {
  if (id.scheme == "sasl") return sasl_enabled && IsValidSaslId(id.id);
  if (id.scheme == "digest") {
    // DigestAuthenticationProvider.isValid: Java's id.split(":") drops trailing empty parts,
    // so "a:b:" is valid and "owner:" or "::" are not; exactly two parts must remain.
    std::vector<absl::string_view> parts = absl::StrSplit(id.id, ':');
    while (!parts.empty() && parts.back().empty()) parts.pop_back();
    return parts.size() == 2;
  }
  if (id.scheme == "ip") {
    uint32_t address;
    int bits;
    return ParseIpPattern(id.id, &address, &bits);
  }
  return false;
}

}  // namespace

std::string DigestId(std::string_view user_and_password) {
  size_t colon = user_and_password.find(':');
  std::string_view user = user_and_password.substr(0, colon);
  std::string digest = Sha1(user_and_password);
  return std::string(user) + ":" + absl::Base64Escape(digest);
}

bool CheckAcl(const std::vector<Acl>& acls, int32_t perm, const std::vector<Id>& ids) {
  for (const Id& id : ids) {
    if (id.scheme == "super") return true;
  }
  if (acls.empty()) return true;
  for (const Acl& acl : acls) {
    if ((acl.perms & perm) == 0) continue;
    if (acl.id.scheme == "world" && acl.id.id == "anyone") return true;
    for (const Id& id : ids) {
      if (id.scheme != acl.id.scheme) continue;
      if (id.scheme == "ip" ? IpMatches(acl.id.id, id.id) : id.id == acl.id.id) return true;
      if (id.scheme == "sasl" && id.id == "super") return true;
    }
  }
  return false;
}

bool IsValidSaslId(std::string_view id) {
  const size_t at = id.find('@');
  if (at == std::string_view::npos) return true;
  std::string_view principal = id.substr(0, at), realm = id.substr(at + 1);
  if (realm.find_first_of("/@") != std::string_view::npos) return false;
  const size_t slash = principal.find('/');
  return slash == std::string_view::npos ||
         principal.find('/', slash + 1) == std::string_view::npos;
}

bool FixupAcl(const std::vector<Acl>& acls, const std::vector<Id>& ids, bool sasl_enabled,
              std::vector<Acl>* out) {
  out->clear();
  if (acls.empty()) return false;
  auto add = [out](Acl acl) {
    if (std::find(out->begin(), out->end(), acl) == out->end()) out->push_back(std::move(acl));
  };
  for (const Acl& acl : acls) {
    if (acl.id.scheme == "world" && acl.id.id == "anyone") {
      add(acl);
    } else if (acl.id.scheme == "auth") {
      bool any = false;
      for (const Id& id : InJavaSetOrder(ids)) {
        // Ids of the providers that say isAuthenticated(): digest, and sasl once registered.
        if (id.scheme != "digest" && !(sasl_enabled && id.scheme == "sasl")) continue;
        add(Acl{acl.perms, id});
        any = true;
      }
      if (!any) return false;
    } else if (IsValidId(acl.id, sasl_enabled)) {
      add(acl);
    } else {
      return false;
    }
  }
  return true;
}

namespace {

// Java's String.hashCode over the UTF-16 code units of `text` (decoded from UTF-8; a malformed
// byte counts as U+FFFD, as Java's decoder replaces it).
int32_t JavaStringHash(std::string_view text) {
  uint32_t hash = 0;
  auto add = [&hash](uint32_t unit) { hash = hash * 31 + unit; };
  for (size_t i = 0; i < text.size();) {
    const uint8_t lead = static_cast<uint8_t>(text[i]);
    int extra = lead < 0x80 ? 0 : (lead & 0xE0) == 0xC0 ? 1 : (lead & 0xF0) == 0xE0 ? 2
                               : (lead & 0xF8) == 0xF0 ? 3 : -1;
    uint32_t cp = extra == 0 ? lead : extra == 1 ? lead & 0x1F : extra == 2 ? lead & 0x0F : lead & 0x07;
    bool ok = extra >= 0 && i + extra < text.size();
    for (int k = 1; ok && k <= extra; ++k) {
      const uint8_t b = static_cast<uint8_t>(text[i + k]);
      ok = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (!ok) {
      add(0xFFFD);
      ++i;
      continue;
    }
    i += extra + 1;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      add(0xD800 + (cp >> 10));
      add(0xDC00 + (cp & 0x3FF));
    } else {
      add(cp);
    }
  }
  return static_cast<int32_t>(hash);
}

}  // namespace

std::vector<Id> InJavaSetOrder(const std::vector<Id>& ids) {
  // The table starts at 16 bins and doubles when the size reaches 3/4 of it.
  size_t bins = 16;
  while (ids.size() >= bins - bins / 4) bins *= 2;
  auto bin_of = [bins](const Id& id) {
    // Id.hashCode as jute generates it, then ConcurrentHashMap.spread.
    uint32_t hash = 17;
    hash = 37 * hash + static_cast<uint32_t>(JavaStringHash(id.scheme));
    hash = 37 * hash + static_cast<uint32_t>(JavaStringHash(id.id));
    return ((hash ^ (hash >> 16)) & 0x7fffffffu) & (bins - 1);
  };
  std::vector<Id> out = ids;
  std::stable_sort(out.begin(), out.end(),
                   [&](const Id& a, const Id& b) { return bin_of(a) < bin_of(b); });
  return out;
}

std::vector<Acl> MaskDigests(std::vector<Acl> acls) {
  for (Acl& acl : acls) {
    if (acl.id.scheme != "digest") continue;
    size_t colon = acl.id.id.find(':');
    acl.id.id = acl.id.id.substr(0, colon) + ":x";
  }
  return acls;
}

}  // namespace zk::testing::internal
