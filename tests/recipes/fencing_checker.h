// Checkers for recipe fault runs. They judge from zxids the server assigned, not from timing:
// a run that broke mutual exclusion or leadership leaves commits in an impossible order.

#ifndef ZKCPP_TESTS_RECIPES_FENCING_CHECKER_H_
#define ZKCPP_TESTS_RECIPES_FENCING_CHECKER_H_

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace zk::recipes::testing {

// A critical section that wrote through a guarded multi when it began and when it ended.
struct FencedSection {
  int64_t token = 0;       // the holder's fencing token
  int64_t enter_zxid = 0;  // zxid of the guarded write at the start
  int64_t exit_zxid = 0;   // zxid of the guarded write at the end
};

// Returns how many sections, in zxid order, begin before the previous one ended or carry a
// smaller token: 0 when holders never overlapped.
inline int CountOverlaps(std::vector<FencedSection> sections) {
  std::sort(sections.begin(), sections.end(),
            [](const FencedSection& a, const FencedSection& b) { return a.enter_zxid < b.enter_zxid; });
  int overlaps = 0;
  for (size_t i = 1; i < sections.size(); ++i) {
    if (sections[i].enter_zxid <= sections[i - 1].exit_zxid ||
        sections[i].token < sections[i - 1].token) {
      overlaps++;
    }
  }
  return overlaps;
}

// Given guarded writes as (zxid, epoch), returns how many carry a smaller epoch than the write
// committed before them: 0 when two leaders never interleaved.
inline int CountEpochRegressions(std::vector<std::pair<int64_t, int64_t>> writes) {
  std::sort(writes.begin(), writes.end());
  int regressions = 0;
  for (size_t i = 1; i < writes.size(); ++i) {
    if (writes[i].second < writes[i - 1].second) regressions++;
  }
  return regressions;
}

}  // namespace zk::recipes::testing

#endif  // ZKCPP_TESTS_RECIPES_FENCING_CHECKER_H_
