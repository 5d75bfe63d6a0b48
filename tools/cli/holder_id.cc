#include "cli/holder_id.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace zk::cli {

std::string HolderId() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    return absl::StrCat("localhost-", ::getpid());
  }
  return absl::StrCat(host, "-", ::getpid());
}

}  // namespace zk::cli
