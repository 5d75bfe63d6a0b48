// zkcpp client tests over TLS: the fixture base of a suite that makes its key material
// (zk/testing/test_certificates.h) once, before it starts its TLS servers.

#ifndef ZKCPP_TESTS_CLIENT_TLS_SUITE_TEST_H_
#define ZKCPP_TESTS_CLIENT_TLS_SUITE_TEST_H_

#include <cstdlib>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "suite_setup_test.h"
#include "zk/testing/test_certificates.h"

namespace zk::testing {

// Holds a TLS suite's certificates (pki_) and the error of its setup (SuiteSetupTest), which
// fails every test of the suite. A derived SetUpTestSuite calls CreateCertificates() first,
// and its TearDownTestSuite ends with DeleteCertificates(). Not thread-safe: gtest's main
// thread only.
class TlsSuiteTest : public SuiteSetupTest {
 protected:
  // Makes the certificates; returns false after recording the error in setup_error_. The
  // tests choose the client engine themselves, so ZKCPP_ENGINE is cleared too.
  static bool CreateCertificates() {
    unsetenv("ZKCPP_ENGINE");
    absl::StatusOr<std::unique_ptr<TestCertificates>> pki = TestCertificates::Create();
    if (!pki.ok()) {
      SetSetupError(pki.status());
      return false;
    }
    pki_ = pki->release();
    return true;
  }

  // Removes the certificates and forgets the setup error.
  static void DeleteCertificates() {
    delete pki_;
    pki_ = nullptr;
    ClearSetupError();
  }

  static inline TestCertificates* pki_ = nullptr;
};

}  // namespace zk::testing

#endif  // ZKCPP_TESTS_CLIENT_TLS_SUITE_TEST_H_
