#include "zk/types.h"
#include "string_util.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sha1.h"

namespace zk {

const AclList& OpenAclUnsafe() {
  static const AclList* const acl = new AclList{{kPermAll, {"world", "anyone"}}};
  return *acl;
}

const AclList& ReadAclUnsafe() {
  static const AclList* const acl = new AclList{{kPermRead, {"world", "anyone"}}};
  return *acl;
}

const AclList& CreatorAllAcl() {
  static const AclList* const acl = new AclList{{kPermAll, {"auth", ""}}};
  return *acl;
}

std::string DigestId(std::string_view user, std::string_view password) {
  const auto digest = internal::Sha1(internal::StrCat(user, ":", password));
  return internal::StrCat(
      user, ":",
      absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(digest.data()),
                                           digest.size())));
}

std::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kCreated: return "created";
    case WatchEventType::kDeleted: return "deleted";
    case WatchEventType::kDataChanged: return "data-changed";
    case WatchEventType::kChildrenChanged: return "children-changed";
    case WatchEventType::kNotWatching: return "not-watching";
  }
  return "unknown";
}

std::string_view SessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kConnected: return "connected";
    case SessionState::kSuspended: return "suspended";
    case SessionState::kReconnected: return "reconnected";
    case SessionState::kLost: return "lost";
    case SessionState::kReadOnly: return "read-only";
    case SessionState::kClosed: return "closed";
  }
  return "unknown";
}

}  // namespace zk
