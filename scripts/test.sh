#!/usr/bin/env bash
# Builds zkcpp and runs its whole test suite: installs packages, then
#   1. the libFuzzer targets (the embedded server's request decoder, the client's reply
#      decoder), each for a bounded time;
#   2. the suite under AddressSanitizer + UBSan, client and recipe tests on the native engine;
#   3. the suite under ThreadSanitizer, client and recipe tests on the C library's engine;
#   4. the full suite in a normal build, client and recipe tests on both engines (last, so
#      that CTest's summary closes the output).
# The sanitizer stages build with clang (it compiles this code about twice as fast as g++
# does with sanitizers on; the fuzzers need clang anyway) and the fuzz and asan stages share
# one build. The main stage builds with g++, Debian's default compiler. Every stage links
# with lld.
# The sanitizer stages run the client and recipe tests on the embedded server only (it runs in
# the test's process, so the sanitizer checks the server's code too); the real ZooKeeper cases
# of those tests, one JVM each, run in the main stage. The harness, TLS and CLI tests, which
# start real servers of their own, run in every stage.
# Every stage runs even if an earlier one failed; the exit status is non-zero if any failed.
# Env: ZKCPP_STAGES (default "fuzz asan tsan main"), ZKCPP_FUZZ_SECONDS (default 60),
#      ZKCPP_JOBS (default: number of cores).
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh || exit 1

stages=${ZKCPP_STAGES:-"fuzz asan tsan main"}
jobs=${ZKCPP_JOBS:-$(nproc)}
failed=()

lld=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld)
clang=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
asan_build=(build-asan "${clang[@]}" -DZKCPP_SANITIZE=address,undefined -DZKCPP_BUILD_FUZZERS=ON
            -DZKCPP_BUILD_BENCH=OFF -DZKCPP_BUILD_EXAMPLES=OFF)

configure() {  # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${lld[@]}" "$@" \
    >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
}

configure_and_build() {  # dir, extra cmake args...
  configure "$@" && cmake --build "$1" -j "$jobs"
}

run_stage() {  # name, command...
  local name=$1; shift
  echo "=== stage: $name"
  local start=$SECONDS
  if "$@"; then
    echo "=== stage $name: ok ($((SECONDS - start)) s)"
  else
    echo "=== stage $name: FAILED ($((SECONDS - start)) s)"
    failed+=("$name")
  fi
}

# Runs ctest in build dir $1 (more ctest args follow) and appends its pass/fail counts to
# build-results.txt, from which the closing line of this script is made.
run_ctest() {
  local dir=$1; shift
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$dir.ctest.log"
  local rc=${PIPESTATUS[0]}
  local line total failed
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$dir.ctest.log" | tail -n 1)
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
  [ -n "$line" ] && echo "$((total - failed)) $failed" >>build-results.txt
  [ -n "$line" ] || echo "0 1" >>build-results.txt
  return "$rc"
}

stage_fuzz() {  # builds only the fuzzers (and what they link) of the asan stage's build
  configure "${asan_build[@]}" || return 1
  cmake --build build-asan -j "$jobs" --target server_decoder_fuzzer client_reply_fuzzer || return 1
  local ok=0
  for fuzzer in build-asan/fuzz/*_fuzzer; do
    [ -x "$fuzzer" ] || continue
    mkdir -p "build-asan/corpus/$(basename "$fuzzer")"
    "$fuzzer" -max_total_time="${ZKCPP_FUZZ_SECONDS:-60}" -rss_limit_mb=2048 -print_final_stats=1 \
      "build-asan/corpus/$(basename "$fuzzer")" 2>&1 | tail -n 15 || ok=1
  done
  return $ok
}

# The real-ZooKeeper instances of the backend-parameterised tests ("Suite.Test/Real  # ...").
real_backend_cases='/Real( |$)'

stage_asan() {
  configure_and_build "${asan_build[@]}" || return 1
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0" \
    run_ctest build-asan -LE 'ensemble|engine-clib' -E "$real_backend_cases"
}

stage_tsan() {
  configure_and_build build-tsan "${clang[@]}" -DZKCPP_SANITIZE=thread -DZKCPP_BUILD_BENCH=OFF \
    -DZKCPP_BUILD_EXAMPLES=OFF || return 1
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp" \
    run_ctest build-tsan -LE 'ensemble|engine-native' -E "$real_backend_cases"
}

stage_main() {
  configure_and_build build || return 1
  run_ctest build
}

rm -f build-results.txt
for s in $stages; do run_stage "$s" "stage_$s"; done

passed_total=0; failed_total=0
if [ -f build-results.txt ]; then
  while read -r p f; do passed_total=$((passed_total + p)); failed_total=$((failed_total + f)); done <build-results.txt
fi
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED stages: ${failed[*]}"
  echo "ctest: $passed_total passed, $failed_total failed"
  exit 1
fi
echo "stages passed: $stages"
echo "ctest: $passed_total passed, $failed_total failed"
