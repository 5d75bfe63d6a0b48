#include "driver_common.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

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
    const std::string_view key = arg.substr(2, arg.find('=') - 2);
    const std::string_view value = arg.substr(arg.find('=') + 1);
    int64_t number = 0;
    bool ok = true;
    if (key == "hosts") {
      config.hosts = std::string(value);
    } else if (key == "path") {
      config.path = std::string(value);
    } else if (key == "workload") {
      config.workload = std::string(value);
    } else if (key == "ops" || key == "warmup_ops" || key == "window" || key == "size" ||
               key == "contenders") {
      ok = ParseInt(value, &number) && number >= 0;
      if (key == "ops") config.ops = number;
      if (key == "warmup_ops") config.warmup_ops = number;
      if (key == "window") config.window = static_cast<int>(std::max<int64_t>(1, number));
      if (key == "size") config.size = number;
      if (key == "contenders") config.contenders = static_cast<int>(std::max<int64_t>(1, number));
    } else if (key == "seconds") {
      ok = absl::SimpleAtod(AV(value), &config.seconds);
    } else if (key == "warmup_seconds") {
      ok = absl::SimpleAtod(AV(value), &config.warmup_seconds);
    } else if (key == "exec") {
      ok = value == "dispatcher" || value == "inline";
      config.exec = std::string(value);
    } else if (key == "engine") {
      ok = value == "clib" || value == "native";
      config.engine = std::string(value);
    } else if (key == "fixed") {
      config.fixed = value != "0" && value != "false";
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", AV(key)));
    }
    if (!ok) return absl::InvalidArgumentError(absl::StrCat("bad value for --", AV(key)));
  }
  if (config.hosts.empty() || config.path.empty() || config.workload.empty()) {
    return absl::InvalidArgumentError("--hosts, --path and --workload are required");
  }
  if (config.ops < 1) return absl::InvalidArgumentError("--ops must be >= 1");
  return config;
}

DriverConfig StartDriver(int argc, char** argv, const char* driver) {
  absl::StatusOr<DriverConfig> config = ParseDriverArgs(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "%s: %s\n", driver, std::string(config.status().message()).c_str());
    std::exit(2);
  }
  StartWatchdog(600);
  return *std::move(config);
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

CpuTime operator-(const CpuTime& a, const CpuTime& b) {
  return {a.user_us - b.user_us, a.sys_us - b.sys_us};
}

std::string FormatResult(Measurement m) {
  const double n = static_cast<double>(std::max<int64_t>(1, m.count));
  const double seconds = static_cast<double>(m.wall_ns) / 1e9;
  std::vector<double> sorted(m.latencies_ns.begin(), m.latencies_ns.end());
  std::sort(sorted.begin(), sorted.end());
  return absl::StrFormat(
      "RESULT count=%d errors=%d seconds=%.6f rate=%.1f cpu_us_per_op=%.3f user_us_per_op=%.3f "
      "sys_us_per_op=%.3f p50_us=%.2f p99_us=%.2f max_us=%.2f",
      m.count, m.errors, seconds, seconds > 0 ? m.count / seconds : 0.0,
      (m.cpu.user_us + m.cpu.sys_us) / n, m.cpu.user_us / n, m.cpu.sys_us / n,
      Quantile(sorted, 0.5) / 1e3, Quantile(sorted, 0.99) / 1e3,
      sorted.empty() ? 0.0 : sorted.back() / 1e3);
}

int ReportResult(Measurement m, int64_t warmup_errors) {
  const bool ok = m.errors == 0 && warmup_errors == 0 && m.count > 0;
  std::printf("%s\n", FormatResult(std::move(m)).c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

void StartWatchdog(double seconds) {
  std::thread([seconds] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    std::fprintf(stderr, "driver: watchdog expired after %.0f s\n", seconds);
    std::_Exit(3);
  }).detach();
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
