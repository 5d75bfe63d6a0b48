// zkcpp_bench_zkcpp_driver: zk::Client and zkcpp::recipes in the side-by-side suite (protocol:
// common/driver_common.h). --exec=dispatcher runs callbacks on the client's default FIFO
// dispatcher thread; --exec=inline on the event-loop thread (CallbackExecution::kInline).
// --engine=clib|native sets ClientOptions::engine (the C library's engine or zkcpp's own
// protocol engine); without it the client's default applies (ZKCPP_ENGINE, else the C library).

#include <cstdio>
#include <string>

#include "driver_common.h"
#include "workloads.h"

int main(int argc, char** argv) {
  const zkbench::DriverConfig config = zkbench::StartDriver(argc, argv, "zkcpp driver");
  const std::string& w = config.workload;
  if (w == "lock" || w == "lock_scoped" || w == "handoff" || w == "config" || w.rfind("discovery", 0) == 0) {
    return zkbench::RunRecipeWorkload(config);
  }
  return zkbench::RunClientWorkload(config);
}
