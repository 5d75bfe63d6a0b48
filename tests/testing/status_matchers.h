// zkcpp test support: gMock matchers and assertion macros for absl::Status and absl::StatusOr.
//
// Debian's Abseil (20220623) ships no status matchers; these are the project's one copy.
//
// Example:
//   EXPECT_THAT(client->Get("/missing"), zk::testing::StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(client->Delete("/x"), zk::testing::StatusIs(absl::StatusCode::kAborted,
//                                                           "bad version"));
//   EXPECT_THAT(client->Create("/x", "v"), zk::testing::IsOk());
//   EXPECT_THAT(raw->Exists("/x"), zk::testing::IsOkAndHolds(true));
//   ZK_ASSERT_OK_AND_ASSIGN(zk::GetResult got, client->Get("/x"));
//
// StatusIs and IsOk accept both absl::Status and absl::StatusOr<T> (and references to them). On a
// mismatch the full status (code and message) is printed.

#ifndef ZKCPP_TESTS_TESTING_STATUS_MATCHERS_H_
#define ZKCPP_TESTS_TESTING_STATUS_MATCHERS_H_

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace zk::testing {
namespace internal_status {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Matches a status by code and, optionally, a substring of its message.
class StatusIsMatcher {
 public:
  StatusIsMatcher(absl::StatusCode code, std::optional<std::string> message_substring)
      : code_(code), message_substring_(std::move(message_substring)) {}

  template <typename StatusType>
  bool MatchAndExplain(const StatusType& value, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(value);
    *listener << "which is " << StatusText(status);
    if (status.code() != code_) return false;
    if (message_substring_.has_value() &&
        std::string(status.message()).find(*message_substring_) == std::string::npos) {
      *listener << " (message lacks \"" << *message_substring_ << "\")";
      return false;
    }
    return true;
  }

  void DescribeTo(std::ostream* os) const {
    *os << "has status code " << absl::StatusCodeToString(code_);
    if (message_substring_) *os << " and a message containing \"" << *message_substring_ << "\"";
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have status code " << absl::StatusCodeToString(code_);
    if (message_substring_) *os << " with a message containing \"" << *message_substring_ << "\"";
  }

 private:
  static std::string StatusText(const absl::Status& status) {
    return status.ok() ? std::string("OK") : status.ToString();
  }

  absl::StatusCode code_;
  std::optional<std::string> message_substring_;
};

// Matches an absl::StatusOr<T> that is OK and whose value matches an inner matcher.
template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename StatusOrType>
  operator ::testing::Matcher<StatusOrType>() const {  // NOLINT: implicit by design
    using ValueType = typename std::decay_t<StatusOrType>::value_type;
    return ::testing::Matcher<StatusOrType>(
        new Impl<StatusOrType>(::testing::SafeMatcherCast<const ValueType&>(inner_)));
  }

 private:
  template <typename StatusOrType>
  class Impl : public ::testing::MatcherInterface<StatusOrType> {
   public:
    using ValueType = typename std::decay_t<StatusOrType>::value_type;
    explicit Impl(::testing::Matcher<const ValueType&> inner) : inner_(std::move(inner)) {}

    bool MatchAndExplain(StatusOrType value,
                         ::testing::MatchResultListener* listener) const override {
      if (!value.ok()) {
        *listener << "which has status " << value.status().ToString();
        return false;
      }
      ::testing::StringMatchResultListener inner_listener;
      const bool matches = inner_.MatchAndExplain(*value, &inner_listener);
      *listener << "which holds " << ::testing::PrintToString(*value);
      if (!inner_listener.str().empty()) *listener << ", " << inner_listener.str();
      return matches;
    }
    void DescribeTo(std::ostream* os) const override {
      *os << "is OK and holds a value that ";
      inner_.DescribeTo(os);
    }
    void DescribeNegationTo(std::ostream* os) const override {
      *os << "is not OK or holds a value that ";
      inner_.DescribeNegationTo(os);
    }

   private:
    ::testing::Matcher<const ValueType&> inner_;
  };

  InnerMatcher inner_;
};

}  // namespace internal_status

// Matches an OK absl::StatusOr<T> whose value matches `inner` (a matcher or a value).
template <typename InnerMatcher>
internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(
    InnerMatcher&& inner) {
  return internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner));
}

// Matches an absl::Status or absl::StatusOr<T> whose code is `code`.
inline ::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> StatusIs(
    absl::StatusCode code) {
  return ::testing::MakePolymorphicMatcher(internal_status::StatusIsMatcher(code, std::nullopt));
}

// Matches an absl::Status or absl::StatusOr<T> whose code is `code` and whose message
// contains `message_substring`.
inline ::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> StatusIs(
    absl::StatusCode code, std::string_view message_substring) {
  return ::testing::MakePolymorphicMatcher(
      internal_status::StatusIsMatcher(code, std::string(message_substring)));
}

// Matches an OK absl::Status or an absl::StatusOr<T> holding a value.
inline ::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> IsOk() {
  return StatusIs(absl::StatusCode::kOk);
}

}  // namespace zk::testing

// Asserts/expects that `expr` (an absl::Status or absl::StatusOr) is OK, printing it if not.
#define ZK_ASSERT_OK(expr) ASSERT_THAT((expr), ::zk::testing::IsOk())
#define ZK_EXPECT_OK(expr) EXPECT_THAT((expr), ::zk::testing::IsOk())

// Evaluates `rexpr` (an absl::StatusOr<T>), asserts it is OK, and moves its value into `lhs`
// (a declaration or an lvalue). Usable only where ASSERT_* is (functions returning void).
#define ZK_ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ZK_ASSERT_OK_AND_ASSIGN_IMPL_(ZK_TESTING_CONCAT_(zk_statusor_, __LINE__), lhs, rexpr)
#define ZK_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  ASSERT_THAT(statusor, ::zk::testing::IsOk());             \
  lhs = std::move(statusor).value()
#define ZK_TESTING_CONCAT_(a, b) ZK_TESTING_CONCAT_IMPL_(a, b)
#define ZK_TESTING_CONCAT_IMPL_(a, b) a##b

#endif  // ZKCPP_TESTS_TESTING_STATUS_MATCHERS_H_
