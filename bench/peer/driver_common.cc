#include "driver_common.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace zkbench {
namespace {

// Debian's Abseil predates absl::string_view == std::string_view: convert explicitly.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool ParseInt(std::string_view text, int64_t* out) { return absl::SimpleAtoi(AV(text), out); }

int64_t TimevalMicros(const timeval& tv) {
  return static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
}

}  // namespace

absl::StatusOr<DriverConfig> ParseDriverArgs(int argc, char** argv) {
  DriverConfig config;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--" || arg.find('=') == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("expected --key=value, got ", AV(arg)));
    }
    std::string_view key = arg.substr(2, arg.find('=') - 2);
    std::string_view value = arg.substr(arg.find('=') + 1);
    int64_t number = 0;
    auto need_int = [&]() -> absl::Status {
      if (!ParseInt(value, &number) || number < 0) {
        return absl::InvalidArgumentError(absl::StrCat("bad number for --", AV(key)));
      }
      return absl::OkStatus();
    };
    if (key == "hosts") {
      config.hosts = std::string(value);
    } else if (key == "path") {
      config.path = std::string(value);
    } else if (key == "workload") {
      if (value == "pipelined") {
        config.workload = Workload::kPipelined;
      } else if (value == "sync") {
        config.workload = Workload::kSync;
      } else {
        return absl::InvalidArgumentError("--workload must be pipelined or sync");
      }
    } else if (key == "ops") {
      if (absl::Status s = need_int(); !s.ok()) return s;
      config.ops = number;
    } else if (key == "warmup_ops") {
      if (absl::Status s = need_int(); !s.ok()) return s;
      config.warmup_ops = number;
    } else if (key == "window") {
      if (absl::Status s = need_int(); !s.ok()) return s;
      config.window = static_cast<int>(std::max<int64_t>(1, number));
    } else if (key == "expected_length") {
      if (absl::Status s = need_int(); !s.ok()) return s;
      config.expected_length = static_cast<int>(number);
    } else if (key == "exec") {
      if (value != "dispatcher" && value != "inline") {
        return absl::InvalidArgumentError("--exec must be dispatcher or inline");
      }
      config.exec = std::string(value);
    } else if (key == "fixed") {
      config.fixed = value != "0" && value != "false";
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", AV(key)));
    }
  }
  if (config.hosts.empty() || config.path.empty()) {
    return absl::InvalidArgumentError("--hosts and --path are required");
  }
  if (config.ops < 1) return absl::InvalidArgumentError("--ops must be >= 1");
  return config;
}

CpuTime ProcessCpuTime() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return {TimevalMicros(usage.ru_utime), TimevalMicros(usage.ru_stime)};
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string FormatResult(Measurement m) {
  const double ops = static_cast<double>(std::max<int64_t>(1, m.ops));
  const double seconds = static_cast<double>(m.wall_ns) / 1e9;
  std::string line = absl::StrFormat(
      "RESULT ops=%d errors=%d seconds=%.6f ops_per_sec=%.1f cpu_us_per_op=%.3f "
      "user_us_per_op=%.3f sys_us_per_op=%.3f",
      m.ops, m.errors, seconds, seconds > 0 ? m.ops / seconds : 0.0,
      (m.cpu.user_us + m.cpu.sys_us) / ops, m.cpu.user_us / ops, m.cpu.sys_us / ops);
  if (!m.latencies_ns.empty()) {
    std::vector<double> sorted(m.latencies_ns.begin(), m.latencies_ns.end());
    std::sort(sorted.begin(), sorted.end());
    absl::StrAppendFormat(&line, " p50_us=%.2f p99_us=%.2f", Quantile(sorted, 0.5) / 1e3,
                          Quantile(sorted, 0.99) / 1e3);
  }
  return line;
}

absl::StatusOr<std::map<std::string, double>> ParseResultLine(std::string_view line) {
  if (!absl::StartsWith(AV(line), "RESULT ")) {
    return absl::InvalidArgumentError(absl::StrCat("not a RESULT line: ", AV(line)));
  }
  std::map<std::string, double> values;
  for (absl::string_view field : absl::StrSplit(AV(line.substr(7)), ' ', absl::SkipWhitespace())) {
    size_t eq = field.find('=');
    double value = 0;
    if (eq == absl::string_view::npos || !absl::SimpleAtod(field.substr(eq + 1), &value)) {
      return absl::InvalidArgumentError(absl::StrCat("bad field in RESULT line: ", field));
    }
    values[std::string(field.substr(0, eq))] = value;
  }
  return values;
}

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

}  // namespace zkbench
