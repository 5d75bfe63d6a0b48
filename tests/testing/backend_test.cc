#include "testing/backend_test.h"

#include <map>
#include <memory>

#include "absl/strings/str_cat.h"

namespace zk::testing {
namespace {

// A backend of the running suite, or why it could not start (so that the suite's other tests
// fail at once instead of each waiting for another start to time out).
struct SharedBackend {
  std::unique_ptr<Backend> backend;
  absl::Status start_error;
};

// GoogleTest runs suites and their tests one at a time on the main thread, so this needs no
// lock: each suite fills it lazily and TearDownTestSuite empties it.
std::map<BackendKind, SharedBackend>& SharedBackends() {
  static auto* const backends = new std::map<BackendKind, SharedBackend>();
  return *backends;
}

// "Backends/ClientTest" -> "ClientTest"; "Create/Real" -> "Create".
std::string StripParameterization(std::string_view suite_or_test, bool is_suite) {
  if (is_suite) {
    const size_t slash = suite_or_test.rfind('/');
    return std::string(slash == std::string_view::npos ? suite_or_test
                                                      : suite_or_test.substr(slash + 1));
  }
  const size_t slash = suite_or_test.find('/');
  return std::string(suite_or_test.substr(0, slash));
}

}  // namespace

void BackendTest::TearDownTestSuite() { SharedBackends().clear(); }

void BackendTest::SetUp() {
  static int test_counter = 0;
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  root_ = absl::StrCat("/zkcpp-test/", StripParameterization(info->test_suite_name(), true), ".",
                       StripParameterization(info->name(), false), "-", ++test_counter);

  SharedBackend& shared = SharedBackends()[GetParam()];
  if (shared.backend == nullptr && shared.start_error.ok()) {
    absl::StatusOr<std::unique_ptr<Backend>> started = StartBackend(GetParam());
    if (started.ok()) {
      shared.backend = std::move(*started);
    } else {
      shared.start_error = started.status();
    }
  }
  ASSERT_TRUE(shared.start_error.ok())
      << "cannot start the " << BackendName(GetParam()) << " backend: " << shared.start_error;
  // A previous test may have left it paused or stopped.
  const absl::Status serving = shared.backend->EnsureServing();
  ASSERT_TRUE(serving.ok()) << "the " << BackendName(GetParam())
                            << " backend does not serve again: " << serving;
  backend_ = shared.backend.get();
}

void BackendTest::ResetBackend() {
  SharedBackend& shared = SharedBackends()[GetParam()];
  shared.backend.reset();
  backend_ = nullptr;
  absl::StatusOr<std::unique_ptr<Backend>> started = StartBackend(GetParam());
  if (!started.ok()) {
    shared.start_error = started.status();
    ADD_FAILURE() << "cannot restart the " << BackendName(GetParam())
                  << " backend: " << started.status();
    return;
  }
  shared.backend = std::move(*started);
  backend_ = shared.backend.get();
}

}  // namespace zk::testing
