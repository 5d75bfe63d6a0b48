// The markdown table: per workload, figure and client, median (min–max) over reps, the ratios
// zkcpp ÷ client (median of the per-rep ratios), the same for its inline-executor and
// native-engine variants, and the target beside them.

#ifndef ZKCPP_BENCH_SUITE_REPORT_H_
#define ZKCPP_BENCH_SUITE_REPORT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "process.h"
#include "workloads.h"

namespace zkbench {

// One value per rep; nullopt where the run failed.
using Samples = std::vector<std::optional<Result>>;

struct Stats {
  double median = 0, min = 0, max = 0;
  bool empty = true;
};
Stats Summarize(std::vector<double> values);
// "median (min–max)", or "—" if empty.
std::string Cell(const Stats& s, int decimals);

// The header of a section's table.
void PrintTableHeader();
// The rows of one workload on one server: `runs` by peer key (zkcpp included).
void PrintWorkloadRows(const Workload& workload, const std::map<std::string, Samples>& runs,
                       bool judge);
// The server start rows, per rep (ms): start → serving of the embedded server as a process and
// in-process, and of the JVM.
void PrintStartRows(const std::vector<double>& embedded_ms, const std::vector<double>& in_process_ms,
                    const std::vector<double>& java_ms, bool judge);

}  // namespace zkbench

#endif  // ZKCPP_BENCH_SUITE_REPORT_H_
