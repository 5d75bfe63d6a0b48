// PrometheusText and AppendMetrics(ClientMetrics) (zk/prometheus.h).

#include "zk/prometheus.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>

#include "string_util.h"
#include "zk/status.h"

namespace zk {

namespace {

bool IsNameChar(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon_ok && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool ValidName(std::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, colon_ok)) return false;
  }
  return true;
}

// The exposition format's escapes: a label value escapes backslash, double quote and newline;
// a HELP text only backslash and newline.
void AppendEscaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Go's ParseFloat spellings, which Prometheus reads; finite values in the shortest form that
// reads back to the same double (so a counter of 8 prints "8").
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// `{a="x",b="y"}` for `labels` followed by `extra` (if its name is not empty); "" for none.
std::string RenderLabels(const PrometheusLabels& labels, const PrometheusLabel& extra = {}) {
  if (labels.empty() && extra.name.empty()) return "";
  std::string out = "{";
  auto append = [&out](const PrometheusLabel& label) {
    if (out.size() > 1) out += ',';
    out += label.name;
    out += "=\"";
    AppendEscaped(out, label.value, /*escape_quote=*/true);
    out += '"';
  };
  for (const PrometheusLabel& label : labels) append(label);
  if (!extra.name.empty()) append(extra);
  out += '}';
  return out;
}

double Seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

PrometheusLabels With(const PrometheusLabels& labels, std::string name, std::string value) {
  PrometheusLabels out = labels;
  out.push_back({std::move(name), std::move(value)});
  return out;
}

}  // namespace

absl::Status PrometheusText::Prepare(std::string_view name, std::string_view help,
                                     std::string_view type, const PrometheusLabels& labels,
                                     Family** family, std::string* series) {
  if (!ValidName(name, /*colon_ok=*/true)) {
    return absl::InvalidArgumentError(internal::StrCat("prometheus: bad metric name \"", name, "\""));
  }
  std::set<std::string_view> seen;
  for (const PrometheusLabel& label : labels) {
    if (!ValidName(label.name, /*colon_ok=*/false) || label.name.rfind("__", 0) == 0) {
      return absl::InvalidArgumentError(
          internal::StrCat("prometheus ", name, ": bad label name \"", label.name, "\""));
    }
    if (type == "histogram" && label.name == "le") {
      return absl::InvalidArgumentError(
          internal::StrCat("prometheus ", name, ": a histogram's label cannot be named \"le\""));
    }
    if (!seen.insert(label.name).second) {
      return absl::InvalidArgumentError(
          internal::StrCat("prometheus ", name, ": label \"", label.name, "\" given twice"));
    }
  }
  *series = RenderLabels(labels);
  auto it = index_.find(name);
  if (it == index_.end()) {
    it = index_.emplace(std::string(name), families_.size()).first;
    families_.push_back({std::string(name), std::string(help), std::string(type), "", {}});
  }
  Family& found = families_[it->second];
  if (found.type != type || found.help != help) {
    return absl::InvalidArgumentError(internal::StrCat(
        "prometheus ", name, ": already a ", found.type,
        found.type == type ? " with another help text" : "", ", not this ", type));
  }
  if (!found.series.insert(*series).second) {
    return absl::AlreadyExistsError(
        internal::StrCat("prometheus ", name, *series, ": this series was already added"));
  }
  *family = &found;
  return absl::OkStatus();
}

absl::Status PrometheusText::AddScalar(std::string_view name, std::string_view help,
                                       std::string_view type, const PrometheusLabels& labels,
                                       double value) {
  Family* family = nullptr;
  std::string series;
  if (absl::Status s = Prepare(name, help, type, labels, &family, &series); !s.ok()) return s;
  internal::StrAppend(&family->samples, name, series, " ", FormatValue(value), "\n");
  return absl::OkStatus();
}

absl::Status PrometheusText::AddCounter(std::string_view name, std::string_view help,
                                        const PrometheusLabels& labels, double value) {
  return AddScalar(name, help, "counter", labels, value);
}

absl::Status PrometheusText::AddGauge(std::string_view name, std::string_view help,
                                      const PrometheusLabels& labels, double value) {
  return AddScalar(name, help, "gauge", labels, value);
}

absl::Status PrometheusText::AddHistogram(std::string_view name, std::string_view help,
                                          const PrometheusLabels& labels,
                                          const LatencyHistogram& histogram,
                                          std::chrono::nanoseconds sum) {
  Family* family = nullptr;
  std::string series;
  if (absl::Status s = Prepare(name, help, "histogram", labels, &family, &series); !s.ok()) {
    return s;
  }
  std::string& out = family->samples;
  uint64_t cumulative = 0;
  for (int i = 0; i < LatencyHistogram::kBuckets - 1; ++i) {
    cumulative += histogram.counts[i];
    const std::string le = FormatValue(Seconds(LatencyHistogram::UpperBound(i)));
    internal::StrAppend(&out, name, "_bucket", RenderLabels(labels, {"le", le}), " ", cumulative,
                    "\n");
  }
  // The last bucket is unbounded: +Inf counts every sample, and so does _count.
  cumulative += histogram.counts[LatencyHistogram::kBuckets - 1];
  internal::StrAppend(&out, name, "_bucket", RenderLabels(labels, {"le", "+Inf"}), " ", cumulative,
                  "\n");
  internal::StrAppend(&out, name, "_sum", series, " ", FormatValue(Seconds(sum)), "\n");
  internal::StrAppend(&out, name, "_count", series, " ", cumulative, "\n");
  return absl::OkStatus();
}

std::string PrometheusText::Text() const {
  std::string out;
  for (const Family& family : families_) {
    internal::StrAppend(&out, "# HELP ", family.name, " ");
    AppendEscaped(out, family.help, /*escape_quote=*/false);
    internal::StrAppend(&out, "\n# TYPE ", family.name, " ", family.type, "\n", family.samples);
  }
  return out;
}

absl::Status PrometheusText::AddAllOrNothing(
    absl::FunctionRef<absl::Status(PrometheusText&)> write) {
  PrometheusText staged = *this;
  ZK_RETURN_IF_ERROR(write(staged));
  *this = std::move(staged);
  return absl::OkStatus();
}

namespace {

absl::Status AppendClientMetrics(PrometheusText& staged, const ClientMetrics& metrics,
                                 const PrometheusLabels& labels) {
  for (size_t i = 0; i < kOperationCount; ++i) {
    const OperationMetrics& op = metrics.operations[i];
    const PrometheusLabels op_labels =
        With(labels, "operation", std::string(OperationName(static_cast<Operation>(i))));
    ZK_RETURN_IF_ERROR(staged.AddCounter("zkcpp_client_operations_total",
                                         "Operations completed, successfully or not.", op_labels,
                                         static_cast<double>(op.count)));
    ZK_RETURN_IF_ERROR(staged.AddCounter("zkcpp_client_operation_errors_total",
                                         "Operations completed with an error.", op_labels,
                                         static_cast<double>(op.errors)));
    ZK_RETURN_IF_ERROR(staged.AddHistogram(
        "zkcpp_client_operation_duration_seconds",
        "Time from submitting an operation to its result on the client's loop thread.",
        op_labels, op.latency, op.total_latency));
  }
  const struct {
    const char* name;
    const char* help;
    bool counter;
    double value;
  } scalars[] = {
      {"zkcpp_client_queued_operations", "Operations submitted, not yet taken by the loop.",
       false, static_cast<double>(metrics.queued)},
      {"zkcpp_client_in_flight_operations", "Operations taken by the loop and not yet answered.",
       false, static_cast<double>(metrics.in_flight)},
      {"zkcpp_client_parked_operations", "In-flight operations waiting for a connection.", false,
       static_cast<double>(metrics.parked)},
      {"zkcpp_client_native_watches", "Server-side watches armed, one per path and kind.", false,
       static_cast<double>(metrics.native_watches)},
      {"zkcpp_client_watch_handles", "Live watch handles sharing the server-side watches.", false,
       static_cast<double>(metrics.watch_handles)},
      {"zkcpp_client_watch_events_total", "Watch events handed to watch handles.", true,
       static_cast<double>(metrics.watch_events)},
      {"zkcpp_client_connections_total", "Times the client became connected.", true,
       static_cast<double>(metrics.connections)},
      {"zkcpp_client_sessions_total", "Sessions established.", true,
       static_cast<double>(metrics.sessions)},
  };
  for (const auto& scalar : scalars) {
    ZK_RETURN_IF_ERROR(scalar.counter
                           ? staged.AddCounter(scalar.name, scalar.help, labels, scalar.value)
                           : staged.AddGauge(scalar.name, scalar.help, labels, scalar.value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendMetrics(PrometheusText& out, const ClientMetrics& metrics,
                           const PrometheusLabels& labels) {
  return out.AddAllOrNothing([&](PrometheusText& staged) {
    return AppendClientMetrics(staged, metrics, labels);
  });
}

}  // namespace zk
