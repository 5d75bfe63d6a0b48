// Helpers shared by the embedded server tests.

#ifndef ZK_TESTS_SERVER_TEST_UTIL_H_
#define ZK_TESTS_SERVER_TEST_UTIL_H_

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
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

// Runs a shell command; returns its stdout+stderr and sets *status (pclose's wait status).
inline std::string RunCommand(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  *status = pclose(pipe);
  return output;
}

}  // namespace zk::testing

#endif  // ZK_TESTS_SERVER_TEST_UTIL_H_
