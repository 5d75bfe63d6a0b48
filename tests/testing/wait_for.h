// zkcpp test support: wait for a condition with a deadline, never with a bare sleep.
//
// Example:
//   std::atomic<int> events{0};
//   ...
//   ASSERT_TRUE(zk::testing::WaitFor([&] { return events.load() >= 2; }, absl::Seconds(5)));
//
// Prefer a notification or condition variable when the code under test offers one; WaitFor is
// for state that can only be polled (a server's mode, a node appearing).

#ifndef ZKCPP_TESTS_TESTING_WAIT_FOR_H_
#define ZKCPP_TESTS_TESTING_WAIT_FOR_H_

#include <algorithm>
#include <chrono>

#include "absl/functional/function_ref.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace zk::testing {

// Polls `predicate` every `poll_interval` until it returns true (returns true) or `timeout`
// has passed (returns false after one last evaluation). The predicate runs on the calling
// thread. Threading: any thread.
inline bool WaitFor(absl::FunctionRef<bool()> predicate, absl::Duration timeout,
                    absl::Duration poll_interval = absl::Milliseconds(2)) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (predicate()) return true;
    // The last evaluation comes after the deadline, also when this thread was descheduled
    // past it before its first look at the clock.
    if (absl::Now() >= deadline) return predicate();
    absl::SleepFor(std::min(poll_interval, deadline - absl::Now()));
  }
}

// As above, with std::chrono durations.
template <typename Rep, typename Period>
bool WaitFor(absl::FunctionRef<bool()> predicate, std::chrono::duration<Rep, Period> timeout) {
  return WaitFor(predicate,
                 absl::FromChrono(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout)));
}

}  // namespace zk::testing

#endif  // ZKCPP_TESTS_TESTING_WAIT_FOR_H_
