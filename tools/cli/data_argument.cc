#include "cli/data_argument.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace zk::cli {

absl::StatusOr<std::string> DataArgument(const Invocation& invocation, bool required) {
  const bool has_argument = invocation.args.size() > 1;
  if (has_argument && invocation.options.read_stdin) {
    return absl::InvalidArgumentError(
        absl::StrCat(invocation.command, ": give <data> or --stdin, not both"));
  }
  if (has_argument) return invocation.args[1];
  if (!invocation.options.read_stdin) {
    if (!required) return std::string();
    return absl::InvalidArgumentError(
        absl::StrCat(invocation.command, " ", invocation.args[0],
                     ": give the data as an argument, or --stdin to read it"));
  }
  std::string data;
  char buffer[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), stdin)) > 0) data.append(buffer, n);
  if (std::ferror(stdin)) {
    return absl::InternalError(absl::StrCat(invocation.command, " ", invocation.args[0],
                                            ": reading stdin: ", std::strerror(errno)));
  }
  return data;
}

}  // namespace zk::cli
