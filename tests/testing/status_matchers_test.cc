// Unit tests of the status matchers, WaitFor and AvailableBackends (no JVM).

#include "testing/status_matchers.h"

#include <stdlib.h>

#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/backend.h"
#include "testing/wait_for.h"

namespace zk::testing {
namespace {

using ::testing::Not;

template <typename MatcherT, typename Value>
std::string Explain(const MatcherT& matcher, const Value& value) {
  ::testing::StringMatchResultListener listener;
  ::testing::Matcher<const Value&>(matcher).MatchAndExplain(value, &listener);
  return listener.str();
}

TEST(StatusMatchersTest, StatusIsMatchesCodeAndMessage) {
  const absl::Status not_found = absl::NotFoundError("get /a: no node");
  EXPECT_THAT(not_found, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(not_found, StatusIs(absl::StatusCode::kNotFound, "no node"));
  EXPECT_THAT(not_found, Not(StatusIs(absl::StatusCode::kNotFound, "exists")));
  EXPECT_THAT(not_found, Not(StatusIs(absl::StatusCode::kAborted)));
  EXPECT_THAT(not_found, Not(IsOk()));
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(Explain(StatusIs(absl::StatusCode::kAborted), not_found),
              ::testing::HasSubstr("NOT_FOUND: get /a: no node"));
}

TEST(StatusMatchersTest, MatchersAcceptStatusOr) {
  const absl::StatusOr<int> value = 7;
  const absl::StatusOr<int> error = absl::AbortedError("bad version");
  EXPECT_THAT(value, IsOk());
  EXPECT_THAT(value, IsOkAndHolds(7));
  EXPECT_THAT(value, IsOkAndHolds(::testing::Gt(5)));
  EXPECT_THAT(value, Not(IsOkAndHolds(8)));
  EXPECT_THAT(error, Not(IsOk()));
  EXPECT_THAT(error, Not(IsOkAndHolds(7)));
  EXPECT_THAT(error, StatusIs(absl::StatusCode::kAborted, "bad version"));
  EXPECT_THAT(Explain(IsOkAndHolds(7), error), ::testing::HasSubstr("ABORTED: bad version"));
}

TEST(StatusMatchersTest, AssertOkAndAssignMovesTheValue) {
  ZK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> pointer,
                          absl::StatusOr<std::unique_ptr<int>>(std::make_unique<int>(3)));
  EXPECT_EQ(*pointer, 3);
  ZK_EXPECT_OK(absl::OkStatus());
}

TEST(WaitForTest, ReturnsTrueOnceAnotherThreadMakesThePredicateTrue) {
  std::atomic<bool> flag{false};
  std::thread setter([&] { flag = true; });
  EXPECT_TRUE(WaitFor([&] { return flag.load(); }, absl::Seconds(10)));
  setter.join();
  EXPECT_TRUE(WaitFor([] { return true; }, std::chrono::milliseconds(1)));
}

TEST(WaitForTest, ReturnsFalseAtTheDeadline) {
  int calls = 0;
  EXPECT_FALSE(WaitFor(
      [&] {
        ++calls;
        return false;
      },
      absl::Milliseconds(20)));
  EXPECT_GE(calls, 2);  // Polled, and once more at the deadline.
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(AvailableBackendsTest, DefaultsToCompiledInAndHonoursTheEnvironment) {
#if ZKCPP_HAVE_EMBEDDED_SERVER
  const std::vector<BackendKind> all = {BackendKind::kEmbedded, BackendKind::kReal};
  const std::vector<BackendKind> embedded = {BackendKind::kEmbedded};
#else
  const std::vector<BackendKind> all = {BackendKind::kReal};
  const std::vector<BackendKind> embedded = {};
#endif
  {
    ScopedEnv env("ZKCPP_BACKENDS", nullptr);
    EXPECT_EQ(AvailableBackends(), all);
  }
  {
    ScopedEnv env("ZKCPP_BACKENDS", "real");
    EXPECT_EQ(AvailableBackends(), std::vector<BackendKind>{BackendKind::kReal});
  }
  {
    ScopedEnv env("ZKCPP_BACKENDS", " Embedded ");
    EXPECT_EQ(AvailableBackends(), embedded);
  }
  {
    ScopedEnv env("ZKCPP_BACKENDS", "real,embedded,bogus");
    EXPECT_EQ(AvailableBackends(), all);
  }
  EXPECT_EQ(BackendName(BackendKind::kEmbedded), "Embedded");
  EXPECT_EQ(BackendName(BackendKind::kReal), "Real");
}

#if !ZKCPP_HAVE_EMBEDDED_SERVER
TEST(AvailableBackendsTest, EmbeddedIsUnimplementedWithoutTheServer) {
  EXPECT_THAT(StartBackend(BackendKind::kEmbedded), StatusIs(absl::StatusCode::kUnimplemented));
}
#endif

}  // namespace
}  // namespace zk::testing
