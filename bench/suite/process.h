// Running driver processes: spawn, collect stdout, wait, parse the RESULT line.

#ifndef ZKCPP_BENCH_SUITE_PROCESS_H_
#define ZKCPP_BENCH_SUITE_PROCESS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace zkbench {

// Runs `args` (args[0] is the executable's path) to completion and returns its stdout; its
// stderr passes through unless `quiet_stderr`. Fails unless it exits with status 0.
absl::StatusOr<std::string> RunProcess(std::vector<std::string> args, bool quiet_stderr = false);

// The fields of a driver's RESULT line (common/driver_common.h).
using Result = std::map<std::string, double>;

// Runs one driver and parses the last RESULT line it printed.
absl::StatusOr<Result> RunDriver(std::vector<std::string> args);

// The directory of this executable (where the C++ drivers are built).
std::string SelfDirectory();

}  // namespace zkbench

#endif  // ZKCPP_BENCH_SUITE_PROCESS_H_
