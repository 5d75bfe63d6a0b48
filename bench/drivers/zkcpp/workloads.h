// The zkcpp driver's workloads (protocol and definitions: common/driver_common.h). Each returns
// the driver's exit status after printing the RESULT line; 2 for a workload it does not know.

#ifndef ZKCPP_BENCH_DRIVERS_ZKCPP_WORKLOADS_H_
#define ZKCPP_BENCH_DRIVERS_ZKCPP_WORKLOADS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "driver_common.h"
#include "zk/client.h"

namespace zkbench {

// A connected client with the executor and engine the config asks for.
absl::StatusOr<std::unique_ptr<zk::Client>> ConnectClient(const DriverConfig& config);

// sync_get, sync_set, pipelined_get, pipelined_set, create_delete, multi, children, watch,
// fanout, session.
int RunClientWorkload(const DriverConfig& config);
// lock, handoff, config, discovery (zkcpp::recipes).
int RunRecipeWorkload(const DriverConfig& config);

}  // namespace zkbench

#endif  // ZKCPP_BENCH_DRIVERS_ZKCPP_WORKLOADS_H_
