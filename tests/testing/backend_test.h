// zkcpp test support: the GoogleTest fixture that runs one test body on every backend.
//
// BackendTest is parameterized by BackendKind. It starts one backend per (test suite, kind)
// the first time a test of that suite needs it and shares it with the suite's later tests,
// because starting a JVM per test is too slow; TearDownTestSuite destroys them. Each test
// gets its own root path, Root(), to create its nodes under, so tests sharing a server do not
// see each other's nodes. The fixture does not talk ZooKeeper itself: tests create Root()
// (with its parent "/zkcpp-test") with the client under test.
//
// Example:
//   class ClientCreateTest : public zk::testing::BackendTest {};
//
//   TEST_P(ClientCreateTest, CreatesNode) {
//     auto client = zk::Client::Connect(connect_string(), ...);
//     ... create Root() recursively, then Root() + "/node" ...
//   }
//
//   ZK_INSTANTIATE_BACKEND_TEST(ClientCreateTest);
//
// Test names read "Backends/ClientCreateTest.CreatesNode/Real". A fixture that defines its own
// SetUpTestSuite/TearDownTestSuite must call BackendTest's. Tests that break their backend
// beyond repair (e.g. delete its data dir) call ResetBackend(). A test that leaves the backend
// paused or stopped does not break the next one: SetUp makes it serve again.

#ifndef ZKCPP_TESTS_TESTING_BACKEND_TEST_H_
#define ZKCPP_TESTS_TESTING_BACKEND_TEST_H_

#include <string>

#include "gtest/gtest.h"
#include "testing/backend.h"
#include "testing/status_matchers.h"
#include "testing/wait_for.h"

namespace zk::testing {

// Fixture base for tests that run on every backend. Not thread-safe: use its methods from the
// test body's thread (the Backend itself is thread-safe and may be shared with other threads).
class BackendTest : public ::testing::TestWithParam<BackendKind> {
 public:
  // Destroys the backends started for the finished suite.
  static void TearDownTestSuite();

 protected:
  // Gets (starting if needed) the suite's backend for GetParam() and makes it serve; fails the
  // test (fatally) if it cannot start. Overrides must call BackendTest::SetUp() first.
  void SetUp() override;

  BackendKind kind() const { return GetParam(); }
  // The shared backend. Valid between SetUp and the end of the suite.
  Backend& backend() const { return *backend_; }
  std::string connect_string() const { return backend_->connect_string(); }

  // "/zkcpp-test/<Suite>.<Test>-<n>", unique in this process (n counts tests). Tests create
  // it (and "/zkcpp-test") themselves.
  const std::string& Root() const { return root_; }

  // Replaces the suite's backend of this kind with a freshly started one (empty data).
  // Fails the test (non-fatally) if it cannot start; check HasFailure().
  void ResetBackend();

 private:
  Backend* backend_ = nullptr;
  std::string root_;
};

}  // namespace zk::testing

// Instantiates the TEST_Ps of `SuiteName` (a BackendTest subclass) on AvailableBackends(),
// named by BackendName ("Embedded", "Real"). An empty backend set (ZKCPP_BACKENDS) is allowed.
#define ZK_INSTANTIATE_BACKEND_TEST(SuiteName)                                      \
  GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SuiteName);                         \
  INSTANTIATE_TEST_SUITE_P(                                                         \
      Backends, SuiteName, ::testing::ValuesIn(::zk::testing::AvailableBackends()), \
      [](const ::testing::TestParamInfo<::zk::testing::BackendKind>& info) {        \
        return ::zk::testing::BackendName(info.param);                              \
      })

#endif  // ZKCPP_TESTS_TESTING_BACKEND_TEST_H_
