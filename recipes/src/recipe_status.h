// Recipe status helpers: what every recipe needs to build its error messages and to decide
// whether a failed step is simply tried again.

#ifndef ZK_RECIPES_SRC_RECIPE_STATUS_H_
#define ZK_RECIPES_SRC_RECIPE_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "zk/status.h"

namespace zk::recipes::internal {

// Our std::string_view as Abseil's: absl::StrCat takes absl::string_view, which is not
// std::string_view in every Abseil build (e.g. Debian's).
inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Errors after which the same step is simply tried again: the request waits for the next
// connection (or the session listener takes over after a loss). A deadline too: while members
// fail one after another, a request can wait out the operation timeout on a session that is
// still alive. (A protected create that timed out removes its node, if it made one, by itself.)
inline bool Transient(const absl::Status& status) {
  return absl::IsUnavailable(status) || IsSessionExpired(status) ||
         absl::IsDeadlineExceeded(status);
}

}  // namespace zk::recipes::internal

#endif  // ZK_RECIPES_SRC_RECIPE_STATUS_H_
