// String helpers over Debian's Abseil, whose absl::string_view is not std::string_view: StrCat
// here accepts std::string_view arguments too (the public API speaks std::string_view).

#ifndef ZK_CLIENT_SRC_STRING_UTIL_H_
#define ZK_CLIENT_SRC_STRING_UTIL_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"

namespace zk::internal {

template <typename T>
decltype(auto) AlphaNumArg(const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> &&
                !std::is_arithmetic_v<T>) {
    const std::string_view view(value);
    return absl::string_view(view.data(), view.size());
  } else {
    return (value);
  }
}

template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(AlphaNumArg(args)...);
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  absl::StrAppend(out, AlphaNumArg(args)...);
}

inline bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_STRING_UTIL_H_
