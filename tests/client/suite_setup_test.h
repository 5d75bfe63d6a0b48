// zkcpp client tests: the fixture base of a suite that sets up something shared (servers, key
// material) once, in SetUpTestSuite, and fails each of its tests if that setup failed.

#ifndef ZKCPP_TESTS_CLIENT_SUITE_SETUP_TEST_H_
#define ZKCPP_TESTS_CLIENT_SUITE_SETUP_TEST_H_

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace zk::testing {

// Holds the error of a suite's setup (setup_error_), which fails every test of the suite. A
// derived SetUpTestSuite calls SetSetupError on failure; its TearDownTestSuite calls
// ClearSetupError. Not thread-safe: gtest's main thread only.
class SuiteSetupTest : public ::testing::Test {
 protected:
  // Records why the suite cannot run (the first error wins).
  static void SetSetupError(const absl::Status& status) {
    if (setup_error_ == nullptr) setup_error_ = new absl::Status(status);
  }

  // Forgets the setup error.
  static void ClearSetupError() {
    delete setup_error_;
    setup_error_ = nullptr;
  }

  void SetUp() override {
    if (setup_error_ != nullptr) GTEST_FAIL() << "suite setup: " << *setup_error_;
  }

  static inline absl::Status* setup_error_ = nullptr;
};

}  // namespace zk::testing

#endif  // ZKCPP_TESTS_CLIENT_SUITE_SETUP_TEST_H_
