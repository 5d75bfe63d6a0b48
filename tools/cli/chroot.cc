#include "cli/chroot.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "zk/status.h"

namespace zk::cli {
namespace {

absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

std::string ChrootOf(std::string_view connect) {
  const size_t slash = connect.find('/');
  if (slash == std::string_view::npos || connect.substr(slash) == "/") return "";
  return std::string(connect.substr(slash));
}

std::string ServerPath(std::string_view chroot, std::string_view path) {
  if (chroot.empty()) return std::string(path);
  if (path == "/") return std::string(chroot);
  return absl::StrCat(AsAbsl(chroot), AsAbsl(path));
}

absl::Status ExplainMissingChroot(std::string_view op, std::string_view path,
                                  std::string_view chroot, Client& client,
                                  const absl::Status& failure) {
  if (chroot.empty() || !IsNoNode(failure)) return failure;
  // "/" of a chrooted client is the chroot itself.
  absl::StatusOr<std::optional<Stat>> root = client.Exists("/");
  if (!root.ok() || root->has_value()) return failure;
  return absl::NotFoundError(
      absl::StrCat(AsAbsl(op), " ", AsAbsl(path), ": chroot ", AsAbsl(chroot), " does not exist"));
}

}  // namespace zk::cli
