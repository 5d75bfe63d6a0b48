// Checkers for recipe fault runs. They judge from zxids the server assigned, not from timing:
// a run that broke mutual exclusion or leadership leaves commits in an impossible order.

#ifndef ZKCPP_TESTS_RECIPES_FENCING_CHECKER_H_
#define ZKCPP_TESTS_RECIPES_FENCING_CHECKER_H_

#include <algorithm>
#include <cstdint>
#include <map>
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

// What a run of concurrent +1 increments on one counter reported, and what it left.
struct IncrementTally {
  int64_t succeeded = 0;  // calls that returned succeeded = true
  int64_t not_applied = 0;  // succeeded = false, or an error known to have changed nothing
  int64_t unknown = 0;    // errors marked IsUnknownOutcome(): applied or not
  std::vector<int64_t> posts;  // `post` of every succeeded increment
};

// Files the result of one +1 increment (a StatusOr of zk::recipes::AtomicResult) in `tally`;
// `is_unknown_outcome` is zk::IsUnknownOutcome.
template <typename Result, typename UnknownFn>
void RecordIncrement(IncrementTally& tally, const Result& result, UnknownFn is_unknown_outcome) {
  if (result.ok() && result->succeeded) {
    tally.succeeded++;
    tally.posts.push_back(result->post);
  } else if (!result.ok() && is_unknown_outcome(result.status())) {
    tally.unknown++;
  } else {
    // Not applied: out of attempts, or an error before any write was sent.
    tally.not_applied++;
  }
}

// Returns the violations of a counter run starting at 0 and ending at `final_value`: increments
// lost (final below the successes), duplicated (final above successes plus unknown outcomes),
// and successes claiming a post value another success claimed too (two writers both believing
// they moved the counter to the same value) or above the final value.
inline int64_t CountCounterViolations(const IncrementTally& tally, int64_t final_value) {
  int64_t violations = 0;
  if (final_value < tally.succeeded) violations += tally.succeeded - final_value;
  if (final_value > tally.succeeded + tally.unknown) {
    violations += final_value - tally.succeeded - tally.unknown;
  }
  std::map<int64_t, int> claims;
  for (int64_t post : tally.posts) {
    if (++claims[post] > 1 || post > final_value || post < 1) violations++;
  }
  return violations;
}

}  // namespace zk::recipes::testing

#endif  // ZKCPP_TESTS_RECIPES_FENCING_CHECKER_H_
