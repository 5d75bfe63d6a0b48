#include "report.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace zkbench {
namespace {

std::string TargetCell(double target, bool higher_is_better, const Stats& ratio, bool judge) {
  std::string cell = absl::StrFormat("%s %.1f×", higher_is_better ? "≥" : "≤", target);
  if (judge && !ratio.empty) {
    const bool met = higher_is_better ? ratio.median >= target : ratio.median <= target;
    cell += met ? " ✓" : " **✗**";
  }
  return cell;
}

// Per rep: subject's value ÷ peer's value, where both ran.
Stats PairedRatio(const Samples& subject, const Samples& peer, const std::string& field) {
  std::vector<double> ratios;
  for (size_t i = 0; i < subject.size() && i < peer.size(); ++i) {
    if (!subject[i] || !peer[i]) continue;
    const double s = subject[i]->at(field), p = peer[i]->at(field);
    if (p > 0) ratios.push_back(s / p);
  }
  return Summarize(ratios);
}

std::string RatioCell(const Stats& s) { return s.empty ? "—" : Cell(s, 2) + "×"; }

// zkcpp's variants that get a ratio column of their own beside zkcpp's (variant ÷ client).
struct Variant {
  const char* key;
  const char* heading;
};
constexpr Variant kVariants[] = {{"zkcpp_inline", "zkcpp inline ÷ client"},
                                 {"zkcpp_native", "zkcpp native ÷ client"}};

// The variant columns of a row that has none of their ratios.
std::string BlankVariantCells() {
  std::string cells;
  for (size_t i = 0; i < std::size(kVariants); ++i) cells += " |";
  return cells;
}

}  // namespace

Stats Summarize(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  s.empty = false;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  const size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return s;
}

std::string Cell(const Stats& s, int decimals) {
  if (s.empty) return "—";
  if (s.min == s.max) return absl::StrFormat("%.*f", decimals, s.median);
  return absl::StrFormat("%.*f (%.*f–%.*f)", decimals, s.median, decimals, s.min, decimals,
                         s.max);
}

void PrintTableHeader() {
  std::string headings, rule;
  for (const Variant& variant : kVariants) {
    headings += absl::StrCat(" ", variant.heading, " |");
    rule += " --- |";
  }
  std::printf("| workload | figure | client | median (min–max) | zkcpp ÷ client |%s "
              "target (zkcpp ÷ client) |\n",
              headings.c_str());
  std::printf("| --- | --- | --- | --- | --- |%s --- |\n", rule.c_str());
}

void PrintWorkloadRows(const Workload& workload, const std::map<std::string, Samples>& runs,
                       bool judge) {
  static const Samples kNone;
  auto samples = [&](const std::string& peer) -> const Samples& {
    auto it = runs.find(peer);
    return it == runs.end() ? kNone : it->second;
  };
  bool first = true;
  auto name = [&]() -> std::string {
    const std::string label = first ? workload.label : "";
    first = false;
    return label;
  };
  for (const Metric& metric : workload.metrics) {
    for (const Peer& peer : Peers()) {
      const bool ran = peer.key == "zkcpp" ||
                       std::find(workload.peers.begin(), workload.peers.end(), peer.key) !=
                           workload.peers.end();
      if (!ran || !runs.count(peer.key)) continue;  // skipped, not selected or not available
      const Samples& own = samples(peer.key);
      std::vector<double> values;
      int failed = 0;
      for (const std::optional<Result>& r : own) {
        if (r) {
          values.push_back(r->at(metric.field));
        } else {
          ++failed;
        }
      }
      std::string value = Cell(Summarize(values), metric.decimals);
      if (failed > 0) value += absl::StrFormat(" (%d failed)", failed);
      std::string ratio = "", variant_ratios = "", target = "";
      for (const Variant& variant : kVariants) {
        std::string cell;
        if (peer.key != "zkcpp" && peer.key != variant.key && runs.count(variant.key)) {
          cell = RatioCell(PairedRatio(samples(variant.key), own, metric.field));
        }
        variant_ratios += absl::StrCat(" ", cell, " |");
      }
      if (peer.key != "zkcpp") {
        ratio = RatioCell(PairedRatio(samples("zkcpp"), own, metric.field));
        if (auto t = metric.targets.find(peer.key); t != metric.targets.end()) {
          target = TargetCell(t->second, metric.higher_is_better,
                              PairedRatio(samples("zkcpp"), own, metric.field), judge);
        }
      }
      std::printf("| %s | %s | %s | %s | %s |%s %s |\n", name().c_str(), metric.label.c_str(),
                  peer.label.c_str(), value.c_str(), ratio.c_str(), variant_ratios.c_str(),
                  target.c_str());
    }
  }
  // The peers that do not run it, one row per reason.
  std::map<std::string, std::vector<std::string>> skipped;  // reason → peers
  for (const Peer& peer : Peers()) {
    if (auto it = workload.skipped.find(peer.key); it != workload.skipped.end()) {
      skipped[it->second].push_back(peer.label);
    }
  }
  for (const auto& [reason, peers] : skipped) {
    std::printf("| %s | | %s | skipped: %s | |%s |\n", name().c_str(),
                absl::StrJoin(peers, ", ").c_str(), reason.c_str(), BlankVariantCells().c_str());
  }
}

void PrintStartRows(const std::vector<double>& embedded_ms, const std::vector<double>& in_process_ms,
                    const std::vector<double>& java_ms, bool judge) {
  auto faster_than_java = [&](const std::vector<double>& ms) {
    std::vector<double> faster;
    for (size_t i = 0; i < ms.size() && i < java_ms.size(); ++i) {
      if (ms[i] > 0) faster.push_back(java_ms[i] / ms[i]);
    }
    return Summarize(faster);
  };
  const Stats in_process = faster_than_java(in_process_ms);
  const std::string blanks = BlankVariantCells();
  std::printf("| server start → serving | ms | EmbeddedServer::Start() in-process (as tests use it) "
              "| %s | %s faster |%s %s |\n",
              Cell(Summarize(in_process_ms), 3).c_str(), RatioCell(in_process).c_str(),
              blanks.c_str(), TargetCell(100, true, in_process, judge).c_str());
  const Stats process = faster_than_java(embedded_ms);
  // The target is about the in-process test server; the process row is for comparison.
  std::printf("| | ms | embedded, as a process (zkcpp-server: fork, exec, dynamic linking) | %s | "
              "%s faster |%s |\n",
              Cell(Summarize(embedded_ms), 2).c_str(), RatioCell(process).c_str(), blanks.c_str());
  std::printf("| | ms | Java ZooKeeper 3.8 (a JVM process) | %s | |%s |\n",
              Cell(Summarize(java_ms), 1).c_str(), blanks.c_str());
}

}  // namespace zkbench
