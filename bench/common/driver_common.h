// The one driver protocol of the side-by-side suite (zkcpp_bench), and the measurement helpers of
// its C++ drivers. Every peer is a driver process — zkcpp, libzookeeper_mt, the raw-protocol
// floor (C++), the Java client and Curator (Java), kazoo (Python) — started by the runner with
//
//   <driver> --hosts=127.0.0.1:PORT --path=/node --workload=NAME [--ops=N] [--warmup_ops=N]
//            [--window=N] [--size=N] [--contenders=N] [--seconds=S] [--warmup_seconds=S]
//            [--exec=dispatcher|inline] [--engine=clib|native] [--fixed=1|0]
//
// A driver connects, runs `warmup_ops` (or `warmup_seconds`) unmeasured, then the measured part,
// and prints exactly one line on stdout:
//
//   RESULT count=.. errors=.. seconds=.. rate=.. cpu_us_per_op=.. user_us_per_op=..
//          sys_us_per_op=.. p50_us=.. p99_us=.. max_us=..
//
// (count = measured ops, rate = count / seconds; the latency fields are 0 where a workload has
// no per-op latency.) Diagnostics go to stderr; the exit status is 0 only if nothing failed.
// A driver that does not implement a workload exits with status 2 (the runner's workload table
// never asks for one; see suite/workloads.cc).
//
// Workloads (`path` is prepared by the runner unless said otherwise):
//   sync_get        ops blocking reads of `path` (its data must be `size` bytes); latency per op
//   sync_set        ops blocking writes of `size` bytes to `path`; latency per op
//   pipelined_get   ops reads with `window` in flight, each completion issuing the next
//   pipelined_set   the same with writes of `size` bytes
//   create_delete   ops pairs: create `path`/n (persistent, empty), then delete it; latency/pair
//   multi           ops multis of 10 setData (16 bytes) on `path`/m0..m9 (the driver creates
//                   them); latency per multi
//   children        ops getChildren of `path`, which has `size` children; latency per op
//   watch           two sessions: A sets a data watch on `path`, B writes it; latency = B's write
//                   issued → A's watch callback entered
//   fanout          two sessions: A sets `contenders` watches (distinct callbacks) on `path`,
//                   B writes it; latency = write issued → the last callback entered
//   session         ops times: connect → connected (latency), then close
//   lock            `contenders` sessions loop acquire → release on one lock `path` for
//                   `seconds` (after `warmup_seconds`); count = cycles, latency = acquire wait
//   handoff         two sessions take turns leading an election on `path`; ops handoffs,
//                   latency = leader leaves → follower's listener told
//   config          one writer, `contenders` subscriber sessions watching config node `path`;
//                   latency = write issued → the last subscriber saw the new value
//   discovery_lookup       `contenders` instances of a service registered under `path`, one
//                          cache of them on another session; latency per cached lookup
//   discovery_propagation  a new instance registered → the cache reports it; latency per op
//
// Client CPU is the driver process's user + system time (getrusage(RUSAGE_SELF), or the JVM's
// process CPU time) over the measured part; connection setup and warm-up are excluded. Each
// measurement is one fresh process, so all of a client's threads are charged alike, and
// libzookeeper_st (under zk::Client) and libzookeeper_mt, which export the same symbols, never
// meet in one binary.

#ifndef ZKCPP_BENCH_COMMON_DRIVER_COMMON_H_
#define ZKCPP_BENCH_COMMON_DRIVER_COMMON_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace zkbench {

struct DriverConfig {
  std::string hosts;
  std::string path;
  std::string workload;
  int64_t ops = 10000;
  int64_t warmup_ops = 1000;
  int window = 128;
  // Data size (get/set), or the number of children (children).
  int64_t size = 1024;
  // lock: contenders; fanout: watchers; config: subscribers; discovery: instances.
  int contenders = 1;
  double seconds = 2;
  double warmup_seconds = 1;
  // zkcpp driver only: "dispatcher" (default executor) or "inline".
  std::string exec = "dispatcher";
  // zkcpp driver only: ClientOptions::engine, "clib" (EngineKind::kCLibrary) or "native"
  // (EngineKind::kNative); "" leaves it unset (ZKCPP_ENGINE, else the C library).
  std::string engine;
  // mt driver only: call zoo_set_servers_resolution_delay(zh, -1) after zookeeper_init.
  bool fixed = true;
};

// Parses the driver command line (see the file comment). Unknown flags are errors, so that a
// runner/driver mismatch cannot silently measure the wrong thing.
absl::StatusOr<DriverConfig> ParseDriverArgs(int argc, char** argv);

// The start of every C++ driver's main(): parses the command line (on error: a message naming
// `driver` and exit status 2) and starts a 10-minute watchdog (StartWatchdog).
DriverConfig StartDriver(int argc, char** argv, const char* driver);

// Process CPU time (all threads), from getrusage(RUSAGE_SELF).
struct CpuTime {
  int64_t user_us = 0;
  int64_t sys_us = 0;
};
CpuTime ProcessCpuTime();
CpuTime operator-(const CpuTime& a, const CpuTime& b);

int64_t NowNanos();  // steady clock

// What a driver measured.
struct Measurement {
  int64_t count = 0;
  int64_t errors = 0;
  int64_t wall_ns = 0;
  CpuTime cpu;                        // delta over the measured part
  std::vector<int64_t> latencies_ns;  // per op, where the workload has a latency
};

// Formats the RESULT line (without newline).
std::string FormatResult(Measurement m);
// Prints the RESULT line and returns the driver's exit status: 0 if nothing failed.
int ReportResult(Measurement m, int64_t warmup_errors = 0);

// Parses "RESULT k=v k=v ..." into a map; error if `line` is not a RESULT line.
absl::StatusOr<std::map<std::string, double>> ParseResultLine(std::string_view line);

// The q-quantile (0..1) of `sorted` (ascending), nearest-rank; 0 if empty.
double Quantile(const std::vector<double>& sorted, double q);

// Kills the process (status 3) if it is still running after `seconds`: a hung run must not
// outlive the runner's patience.
void StartWatchdog(double seconds);

}  // namespace zkbench

#endif  // ZKCPP_BENCH_COMMON_DRIVER_COMMON_H_
