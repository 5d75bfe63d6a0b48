// Helpers shared by the embedded server tests.

#ifndef ZK_TESTS_SERVER_TEST_UTIL_H_
#define ZK_TESTS_SERVER_TEST_UTIL_H_

#include <chrono>
#include <functional>
#include <thread>

namespace zk::testing {

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace zk::testing

#endif  // ZK_TESTS_SERVER_TEST_UTIL_H_
