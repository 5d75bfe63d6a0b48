// Shared by the side-by-side benchmark's driver processes (zkcpp_bench_zkcpp_driver and
// zkcpp_bench_mt_peer) and its runner (zkcpp_peer_bench): the driver command line, the
// measurement helpers and the one-line result protocol.
//
// Why separate processes: libzookeeper_st (under zk::Client) and libzookeeper_mt export the same
// symbol names, so they must never meet in one binary. Running our client in its own driver
// process too keeps the comparison symmetric: each measurement is one fresh process whose whole
// CPU time (all of its threads) over the measured interval is charged to the client.
//
// Protocol: the runner starts a driver with
//   <driver> --hosts=127.0.0.1:PORT --path=/node --workload=pipelined|sync --ops=N
//            --warmup_ops=N --window=128 [--exec=dispatcher|inline] [--fixed=1|0]
// The driver connects, runs warmup_ops unmeasured operations, then the measured ones, and prints
// exactly one line on stdout:
//   RESULT ops=.. errors=.. seconds=.. ops_per_sec=.. cpu_us_per_op=.. user_us_per_op=..
//          sys_us_per_op=.. p50_us=.. p99_us=..
// (p50/p99 only for the sync workload). Diagnostics go to stderr; the exit status is 0 only when
// every measured operation succeeded.
//
// Client CPU is getrusage(RUSAGE_SELF) user + system time of the driver process, sampled right
// before the first measured operation and right after the last completion; connection setup and
// warm-up are excluded.

#ifndef ZKCPP_BENCH_PEER_DRIVER_COMMON_H_
#define ZKCPP_BENCH_PEER_DRIVER_COMMON_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace zkbench {

enum class Workload { kPipelined, kSync };

struct DriverConfig {
  std::string hosts;
  std::string path;
  Workload workload = Workload::kPipelined;
  int64_t ops = 10000;
  int64_t warmup_ops = 1000;
  int window = 128;
  // zkcpp driver only: "dispatcher" (default executor) or "inline".
  std::string exec = "dispatcher";
  // mt peer only: call zoo_set_servers_resolution_delay(zh, -1) after zookeeper_init.
  bool fixed = true;
  // Expected data length of every get, checked so that a wrong node counts as an error.
  int expected_length = 1024;
};

// Parses the driver command line (see the file comment). Unknown flags are errors, so that a
// runner/driver mismatch cannot silently measure the wrong thing.
absl::StatusOr<DriverConfig> ParseDriverArgs(int argc, char** argv);

// Process CPU time (all threads), from getrusage(RUSAGE_SELF).
struct CpuTime {
  int64_t user_us = 0;
  int64_t sys_us = 0;
};
CpuTime ProcessCpuTime();

int64_t NowNanos();  // steady clock

// What a driver measured.
struct Measurement {
  int64_t ops = 0;
  int64_t errors = 0;
  int64_t wall_ns = 0;
  CpuTime cpu;                        // delta over the measured interval
  std::vector<int64_t> latencies_ns;  // per op, sync workload only
};

// Formats the RESULT line (without newline).
std::string FormatResult(Measurement m);

// Parses "RESULT k=v k=v ..." into a map; error if `line` is not a RESULT line.
absl::StatusOr<std::map<std::string, double>> ParseResultLine(std::string_view line);

// The q-quantile (0..1) of `sorted` (ascending), nearest-rank; 0 if empty.
double Quantile(const std::vector<double>& sorted, double q);

}  // namespace zkbench

#endif  // ZKCPP_BENCH_PEER_DRIVER_COMMON_H_
