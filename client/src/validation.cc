#include "validation.h"
#include "string_util.h"

#include <variant>

#include "absl/strings/str_cat.h"
#include "zk/path.h"

namespace zk::internal {
namespace {

absl::Status Bad(std::string_view op, std::string_view path, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat(op, path.empty() ? "" : " ", path, ": ", problem));
}

// Parses a decimal number of at most `max_digits` digits that is all of `text`.
bool ParseSmallNumber(std::string_view text, size_t max_digits, int& value) {
  if (text.empty() || text.size() > max_digits) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

bool IsIpv4(std::string_view text) {
  for (int part = 0; part < 4; ++part) {
    const size_t dot = text.find('.');
    const bool last = part == 3;
    if (last != (dot == std::string_view::npos)) return false;
    int value = 0;
    if (!ParseSmallNumber(text.substr(0, dot), 3, value) || value > 255) return false;
    if (!last) text.remove_prefix(dot + 1);
  }
  return true;
}

size_t AclBytes(const AclList& acl) {
  size_t bytes = 4;
  for (const Acl& entry : acl) bytes += 12 + entry.id.scheme.size() + entry.id.id.size();
  return bytes;
}

}  // namespace

absl::Status ValidateVersion(std::string_view op, std::string_view path,
                             std::optional<int32_t> version) {
  if (version && *version < 0) {
    return Bad(op, path, StrCat("expected version ", *version,
                                      " is negative (use std::nullopt for any version)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateAcl(std::string_view op, std::string_view path, const AclList& acl) {
  if (acl.empty()) return Bad(op, path, "ACL list is empty");
  for (const Acl& entry : acl) {
    const std::string where = StrCat("ACL entry ", entry.id.scheme, ":", entry.id.id);
    if (entry.perms < 0 || entry.perms > kPermAll) {
      return Bad(op, path, StrCat(where, " has invalid permission bits ", entry.perms));
    }
    const std::string& scheme = entry.id.scheme;
    const std::string& id = entry.id.id;
    if (scheme.empty()) return Bad(op, path, StrCat(where, " has an empty scheme"));
    if (scheme == "world" && id != "anyone") {
      return Bad(op, path, StrCat(where, ": the world scheme only has the id 'anyone'"));
    }
    if (scheme == "digest" && !Contains(id, ":")) {
      return Bad(op, path,
                 StrCat(where, ": a digest id is 'user:base64(sha1)' (see zk::DigestId)"));
    }
    if (scheme == "ip") {
      const std::string_view text(id);
      const size_t slash = text.find('/');
      const std::string_view address = text.substr(0, slash);
      if (!IsIpv4(address) && !Contains(address, ":")) {
        return Bad(op, path, StrCat(where, ": not an IP address"));
      }
      int bits = 0;
      if (slash != std::string_view::npos &&
          (!ParseSmallNumber(text.substr(slash + 1), 3, bits) || bits > 128)) {
        return Bad(op, path, StrCat(where, ": bad prefix length"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateFrameSize(std::string_view op, std::string_view path, size_t payload_bytes) {
  // Header (length, xid, type) plus the path's length prefix and a margin for fixed fields.
  const size_t frame = 12 + 4 + path.size() + 64 + payload_bytes;
  if (frame > kMaxFrameBytes) {
    return Bad(op, path, StrCat("request of ", frame, " bytes exceeds ZooKeeper's frame limit "
                                      "of ", kMaxFrameBytes, " bytes (jute.maxbuffer)"));
  }
  return absl::OkStatus();
}

int CreateFlags(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistent: return 0;
    case CreateMode::kEphemeral: return 1;
    case CreateMode::kPersistentSequential: return 2;
    case CreateMode::kEphemeralSequential: return 3;
    case CreateMode::kContainer: return 4;
    case CreateMode::kPersistentWithTtl: return 5;
    case CreateMode::kPersistentSequentialWithTtl: return 6;
  }
  return 0;
}

bool IsSequential(CreateMode mode) {
  return mode == CreateMode::kPersistentSequential || mode == CreateMode::kEphemeralSequential ||
         mode == CreateMode::kPersistentSequentialWithTtl;
}

bool IsTtl(CreateMode mode) {
  return mode == CreateMode::kPersistentWithTtl || mode == CreateMode::kPersistentSequentialWithTtl;
}

absl::Status ValidateCreate(std::string_view path, std::string_view data,
                            const CreateOptions& options) {
  const PathUse use = IsSequential(options.mode) ? PathUse::kSequentialCreate : PathUse::kNode;
  if (absl::Status s = ValidatePath("create", path, use); !s.ok()) return s;
  if (path == "/") return Bad("create", path, "cannot create the root");
  if (IsTtl(options.mode)) {
    if (!options.ttl) return Bad("create", path, "a TTL mode needs options.ttl");
    const int64_t ttl = options.ttl->count();
    if (ttl <= 0 || ttl > (int64_t{1} << 40) - 1) {
      return Bad("create", path, StrCat("ttl of ", ttl, " ms is outside 1 .. 2^40-1 ms"));
    }
  } else if (options.ttl) {
    return Bad("create", path, "options.ttl is only allowed with a *WithTtl mode");
  }
  if (options.protect && !IsSequential(options.mode)) {
    return Bad("create", path, "options.protect needs a sequential mode");
  }
  if (options.protect && path.back() == '/') {
    return Bad("create", path, "options.protect needs a name before the sequence suffix");
  }
  if (absl::Status s = ValidateAcl("create", path, options.acl); !s.ok()) return s;
  return ValidateFrameSize("create", path, data.size() + AclBytes(options.acl));
}

absl::Status ValidateOps(const std::vector<Op>& ops) {
  size_t bytes = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string op_name = StrCat("multi op ", i + 1, " of ", ops.size());
    absl::Status status = std::visit(
        [&](const auto& o) -> absl::Status {
          using T = std::decay_t<decltype(o)>;
          bytes += 16 + o.path.size();
          if constexpr (std::is_same_v<T, op::Create>) {
            const PathUse use = IsSequential(o.mode) ? PathUse::kSequentialCreate : PathUse::kNode;
            if (absl::Status s = ValidatePath(StrCat(op_name, " (create)"), o.path, use);
                !s.ok()) {
              return s;
            }
            if (IsTtl(o.mode) || o.mode == CreateMode::kContainer) {
              return Bad(StrCat(op_name, " (create)"), o.path,
                         "container and TTL modes are not supported inside multi by the C "
                         "library (libzookeeper 3.8)");
            }
            bytes += o.data.size() + AclBytes(o.acl);
            return ValidateAcl(StrCat(op_name, " (create)"), o.path, o.acl);
          } else {
            std::string_view kind = std::is_same_v<T, op::Delete> ? "delete"
                                    : std::is_same_v<T, op::Set>  ? "set"
                                                                  : "check";
            if (absl::Status s = ValidatePath(StrCat(op_name, " (", kind, ")"), o.path);
                !s.ok()) {
              return s;
            }
            if constexpr (std::is_same_v<T, op::Set>) bytes += o.data.size();
            return ValidateVersion(StrCat(op_name, " (", kind, ")"), o.path,
                                   o.expected_version);
          }
        },
        ops[i]);
    if (!status.ok()) return status;
  }
  return ValidateFrameSize("multi", "", bytes);
}

std::string_view ReadOpName(const ReadOp& op) {
  return std::holds_alternative<op::Get>(op) ? "get" : "get_children";
}

const std::string& ReadOpPath(const ReadOp& op) {
  return std::visit([](const auto& o) -> const std::string& { return o.path; }, op);
}

absl::Status ValidateReadOps(const std::vector<ReadOp>& ops) {
  size_t bytes = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string& path = ReadOpPath(ops[i]);
    bytes += 16 + path.size();
    const std::string op_name =
        StrCat("multi_read op ", i + 1, " of ", ops.size(), " (", ReadOpName(ops[i]), ")");
    if (absl::Status s = ValidatePath(op_name, path); !s.ok()) return s;
  }
  return ValidateFrameSize("multi_read", "", bytes);
}

}  // namespace zk::internal
