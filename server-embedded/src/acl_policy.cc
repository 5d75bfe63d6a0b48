#include "acl_policy.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "protocol.h"
#include "sha1.h"

namespace zk::testing::internal {
namespace {

bool ParseIpv4(std::string_view text, uint32_t* out) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(text.data(), text.size()), '.');
  if (parts.size() != 4) return false;
  uint32_t value = 0;
  for (absl::string_view part : parts) {
    uint32_t octet;
    if (part.empty() || !absl::SimpleAtoi(part, &octet) || octet > 255) return false;
    value = (value << 8) | octet;
  }
  *out = value;
  return true;
}

// Parses "a.b.c.d" or "a.b.c.d/bits".
bool ParseIpPattern(std::string_view pattern, uint32_t* address, int* bits) {
  size_t slash = pattern.find('/');
  *bits = 32;
  if (slash != std::string_view::npos) {
    std::string_view suffix = pattern.substr(slash + 1);
    if (!absl::SimpleAtoi(absl::string_view(suffix.data(), suffix.size()), bits) || *bits < 0 ||
        *bits > 32) {
      return false;
    }
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

bool IsValidId(const Id& id) {
  if (id.scheme == "digest") {
    std::vector<absl::string_view> parts = absl::StrSplit(id.id, ':');
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
    }
  }
  return false;
}

bool FixupAcl(const std::vector<Acl>& acls, const std::vector<Id>& ids, std::vector<Acl>* out) {
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
      for (const Id& id : ids) {
        if (id.scheme != "digest") continue;
        add(Acl{acl.perms, id});
        any = true;
      }
      if (!any) return false;
    } else if (IsValidId(acl.id)) {
      add(acl);
    } else {
      return false;
    }
  }
  return true;
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
