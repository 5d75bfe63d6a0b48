// zkcpp client unit tests: the Prometheus text exposition (zk/prometheus.h). The output is
// parsed back by a small reader of the 0.0.4 text format below, and the checks are made on what
// it read, so that they say what a scraper would see.

#include "zk/prometheus.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "zk/metrics.h"

namespace zk::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Family {
  std::string help;
  std::string type;
  int help_lines = 0;
  int type_lines = 0;
};

struct Exposition {
  std::map<std::string, Family> families;
  std::vector<std::string> family_order;  // as the TYPE lines came
  std::vector<Sample> samples;
  std::vector<std::string> errors;  // lines the reader could not make sense of
};

// The non-empty lines of `text` (Debian's Abseil splits only into absl::string_view).
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string Unescape(std::string_view text, std::vector<std::string>& errors) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) {
      errors.push_back("dangling backslash");
      break;
    }
    switch (text[i]) {
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case 'n': out += '\n'; break;
      default: errors.push_back(std::string("unknown escape \\") + text[i]);
    }
  }
  return out;
}

// Reads `text` as the 0.0.4 text format (the parts zkcpp writes).
Exposition Parse(std::string_view text) {
  Exposition e;
  if (!text.empty() && text.back() != '\n') e.errors.push_back("no final newline");
  for (std::string_view line : Lines(text)) {
    if (line.substr(0, 7) == "# HELP " || line.substr(0, 7) == "# TYPE ") {
      const std::string_view rest = line.substr(7);
      const size_t space = rest.find(' ');
      if (space == std::string_view::npos) {
        e.errors.push_back(std::string(line));
        continue;
      }
      Family& family = e.families[std::string(rest.substr(0, space))];
      if (line[2] == 'H') {
        ++family.help_lines;
        family.help = Unescape(rest.substr(space + 1), e.errors);
      } else {
        ++family.type_lines;
        family.type = std::string(rest.substr(space + 1));
        e.family_order.push_back(std::string(rest.substr(0, space)));
      }
      continue;
    }
    Sample sample;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find("=\"", i);
        if (eq == std::string_view::npos) break;
        const std::string name(line.substr(i, eq - i));
        size_t j = eq + 2;
        std::string raw;
        while (j < line.size() && line[j] != '"') {
          if (line[j] == '\\' && j + 1 < line.size()) raw += line[j++];
          raw += line[j++];
        }
        sample.labels[name] = Unescape(raw, e.errors);
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      e.errors.push_back(std::string(line));
      continue;
    }
    const std::string value(line.substr(i + 1));
    if (value == "+Inf") {
      sample.value = HUGE_VAL;
    } else {
      char* end = nullptr;
      sample.value = std::strtod(value.c_str(), &end);
      if (end != value.c_str() + value.size()) e.errors.push_back(std::string(line));
    }
    e.samples.push_back(std::move(sample));
  }
  return e;
}

// The samples named `name` whose labels include every one of `labels`.
std::vector<Sample> Find(const Exposition& e, std::string_view name,
                         const std::map<std::string, std::string>& labels = {}) {
  std::vector<Sample> found;
  for (const Sample& s : e.samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) found.push_back(s);
  }
  return found;
}

TEST(PrometheusTextTest, EscapesLabelValuesAndHelp) {
  PrometheusText text;
  const std::string tricky = "a\\b \"quoted\"\nline two";
  ASSERT_THAT(text.AddGauge("zkcpp_test_value", "Help with a \\ and a\nnewline.",
                            {{"who", tricky}}, 1.5),
              IsOk());
  const std::string out = text.Text();
  // The raw line keeps one sample per line: the newline is escaped.
  EXPECT_THAT(out, HasSubstr("zkcpp_test_value{who=\"a\\\\b \\\"quoted\\\"\\nline two\"} 1.5\n"));
  const Exposition e = Parse(out);
  EXPECT_THAT(e.errors, ElementsAre());
  ASSERT_EQ(e.samples.size(), 1u);
  EXPECT_EQ(e.samples[0].labels.at("who"), tricky);
  EXPECT_EQ(e.samples[0].value, 1.5);
  EXPECT_EQ(e.families.at("zkcpp_test_value").help, "Help with a \\ and a\nnewline.");
}

ClientMetrics SampleMetrics(uint64_t gets) {
  ClientMetrics m;
  OperationMetrics& get = m.operations[static_cast<size_t>(Operation::kGet)];
  get.count = gets;
  get.errors = 1;
  // gets - 1 under a microsecond, one of ~3 ms, one past the last finite bound.
  get.latency.counts[0] = gets - 2;
  get.latency.counts[LatencyHistogram::BucketOf(std::chrono::microseconds(3000))] = 1;
  get.latency.counts[LatencyHistogram::kBuckets - 1] = 1;
  get.total_latency = std::chrono::seconds(10) + std::chrono::microseconds(3000);
  m.in_flight = 2;
  m.sessions = 1;
  m.connections = 3;
  return m;
}

TEST(PrometheusTextTest, TwoClientsShareFamiliesWithOneHelpAndTypeEach) {
  PrometheusText text;
  ASSERT_THAT(AppendMetrics(text, SampleMetrics(5), {{"client", "orders"}}), IsOk());
  ASSERT_THAT(AppendMetrics(text, SampleMetrics(7), {{"client", "billing"}}), IsOk());
  const std::string out = text.Text();
  const Exposition e = Parse(out);
  EXPECT_THAT(e.errors, ElementsAre());
  ASSERT_FALSE(e.families.empty());
  for (const auto& [name, family] : e.families) {
    EXPECT_EQ(family.help_lines, 1) << name;
    EXPECT_EQ(family.type_lines, 1) << name;
    EXPECT_FALSE(family.help.empty()) << name;
  }
  EXPECT_EQ(e.family_order.size(), e.families.size());
  EXPECT_EQ(e.families.at("zkcpp_client_operations_total").type, "counter");
  EXPECT_EQ(e.families.at("zkcpp_client_in_flight_operations").type, "gauge");
  EXPECT_EQ(e.families.at("zkcpp_client_operation_duration_seconds").type, "histogram");

  // Each family's samples follow its TYPE line, both clients' together.
  std::string current;
  std::map<std::string, int> blocks;
  for (std::string_view line : Lines(out)) {
    if (line.substr(0, 7) == "# TYPE ") {
      current = std::string(line.substr(7, line.find(' ', 7) - 7));
      ++blocks[current];
      continue;
    }
    if (line[0] == '#') continue;
    EXPECT_EQ(line.substr(0, current.size()), current) << line;
  }
  for (const auto& [name, count] : blocks) EXPECT_EQ(count, 1) << name;

  auto value = [&](std::string_view name, std::map<std::string, std::string> labels) {
    std::vector<Sample> found = Find(e, name, labels);
    EXPECT_EQ(found.size(), 1u) << name;
    return found.empty() ? -1.0 : found[0].value;
  };
  EXPECT_EQ(value("zkcpp_client_operations_total", {{"client", "orders"}, {"operation", "get"}}),
            5);
  EXPECT_EQ(value("zkcpp_client_operations_total", {{"client", "billing"}, {"operation", "get"}}),
            7);
  EXPECT_EQ(value("zkcpp_client_operations_total", {{"client", "billing"}, {"operation", "set"}}),
            0);
  EXPECT_EQ(value("zkcpp_client_operation_errors_total",
                  {{"client", "orders"}, {"operation", "get"}}),
            1);
  EXPECT_EQ(value("zkcpp_client_in_flight_operations", {{"client", "orders"}}), 2);
  EXPECT_EQ(value("zkcpp_client_connections_total", {{"client", "billing"}}), 3);
  EXPECT_EQ(Find(e, "zkcpp_client_sessions_total").size(), 2u);
  EXPECT_EQ(Find(e, "zkcpp_client_operations_total").size(), 2 * kOperationCount);
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulativeInSecondsAndInfEqualsCount) {
  PrometheusText text;
  ASSERT_THAT(AppendMetrics(text, SampleMetrics(6), {{"client", "orders"}}), IsOk());
  const Exposition e = Parse(text.Text());
  EXPECT_THAT(e.errors, ElementsAre());
  const std::map<std::string, std::string> get = {{"operation", "get"}};
  const std::vector<Sample> buckets =
      Find(e, "zkcpp_client_operation_duration_seconds_bucket", get);
  ASSERT_EQ(buckets.size(), static_cast<size_t>(LatencyHistogram::kBuckets));
  double previous_le = 0;
  double previous_count = 0;
  for (const Sample& bucket : buckets) {
    const double le = bucket.labels.at("le") == "+Inf" ? HUGE_VAL
                                                       : std::strtod(bucket.labels.at("le").c_str(),
                                                                     nullptr);
    EXPECT_GT(le, previous_le);
    EXPECT_GE(bucket.value, previous_count);
    previous_le = le;
    previous_count = bucket.value;
  }
  EXPECT_EQ(buckets.front().labels.at("le"), "1e-06");  // 1 µs, in seconds
  EXPECT_EQ(buckets.front().value, 4);                  // the sub-microsecond ones
  EXPECT_EQ(buckets.back().labels.at("le"), "+Inf");
  const std::vector<Sample> count = Find(e, "zkcpp_client_operation_duration_seconds_count", get);
  const std::vector<Sample> sum = Find(e, "zkcpp_client_operation_duration_seconds_sum", get);
  ASSERT_EQ(count.size(), 1u);
  ASSERT_EQ(sum.size(), 1u);
  EXPECT_EQ(buckets.back().value, count[0].value);
  EXPECT_EQ(count[0].value, 6);
  EXPECT_DOUBLE_EQ(sum[0].value, 10.003);
  // The 3 ms one is in the buckets from 4.096 ms on, the slow one only in +Inf.
  for (const Sample& bucket : buckets) {
    const std::string& le = bucket.labels.at("le");
    if (le == "+Inf") continue;
    const double bound = std::strtod(le.c_str(), nullptr);
    EXPECT_EQ(bucket.value, bound > 0.003 ? 5 : 4) << le;
  }
}

TEST(PrometheusTextTest, RefusesBadNamesConflictsAndDuplicateSeries) {
  PrometheusText text;
  EXPECT_THAT(text.AddGauge("9lives", "h", {}, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(text.AddGauge("ok_gauge", "h", {{"bad-name", "x"}}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(text.AddGauge("ok_gauge", "h", {{"__reserved", "x"}}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(text.AddGauge("ok_gauge", "h", {{"a", "x"}, {"a", "y"}}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(text.AddHistogram("ok_seconds", "h", {{"le", "1"}}, {}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(text.AddGauge("ok_gauge", "h", {{"a", "x"}}, 1), IsOk());
  EXPECT_THAT(text.AddGauge("ok_gauge", "h", {{"a", "x"}}, 2),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(text.AddCounter("ok_gauge", "h", {{"a", "y"}}, 2),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(text.AddGauge("ok_gauge", "other help", {{"a", "y"}}, 2),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Only the one good sample is there, and a failed AppendMetrics adds nothing.
  EXPECT_THAT(AppendMetrics(text, ClientMetrics{}, {{"operation", "x"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(AppendMetrics(text, ClientMetrics{}, {{"client", "a"}}), IsOk());
  const std::string before = text.Text();
  EXPECT_THAT(AppendMetrics(text, ClientMetrics{}, {{"client", "a"}}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(text.Text(), before);
  const Exposition e = Parse(before);
  EXPECT_THAT(e.errors, ElementsAre());
  EXPECT_EQ(Find(e, "ok_gauge").size(), 1u);
  EXPECT_EQ(e.family_order.front(), "ok_gauge");
}

TEST(PrometheusTextTest, EmptyTextForNothingAdded) {
  EXPECT_EQ(PrometheusText().Text(), "");
}

}  // namespace
}  // namespace zk::testing
