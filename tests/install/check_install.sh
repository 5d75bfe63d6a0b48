#!/usr/bin/env bash
# Installs the zkcpp build in $1 into a temporary prefix, then builds the out-of-tree consumers
# in consumer/ against it twice — with find_package(zkcpp) and with pkg-config — and runs them:
# consumer (embedded server, client, recipes) and real_consumer (a real ZooKeeper started by the
# installed harness; it reports itself skipped, exit code 77, when Debian's zookeeper package
# is absent, and the script goes on). Used by CTest (tests/install/CMakeLists.txt); exits
# non-zero on the first failure.
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== cmake --install $build_dir --prefix $work/prefix"
cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log" ||
  { cat "$work/install.log"; exit 1; }
if [[ -e "$work/prefix/include/zk/internal" ]]; then
  echo "FAIL: zkcpp's internal headers were installed: $(ls "$work/prefix/include/zk/internal")"
  exit 1
fi

echo "== find_package(zkcpp): configure, build, run"
cmake -S "$here/consumer" -B "$work/cmake-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/cmake-build"
"$work/cmake-build/consumer"

# Runs the real-server consumer $1; its "skipped" exit code is not a failure.
run_real_consumer() {
  local status=0
  "$1" || status=$?
  if [[ $status -eq 77 ]]; then
    echo "SKIPPED: $1 (Debian's zookeeper package is not installed)"
  elif [[ $status -ne 0 ]]; then
    exit "$status"
  fi
}
run_real_consumer "$work/cmake-build/real_consumer"

echo "== pkg-config zkcpp zkcpp-testing: build, run"
export PKG_CONFIG_PATH; PKG_CONFIG_PATH=$(dirname "$(find "$work/prefix" -name zkcpp.pc)")
# shellcheck disable=SC2046  # the flags are words
c++ -O1 -o "$work/pkg-consumer" "$here/consumer/consumer.cc" \
  $(pkg-config --cflags --libs zkcpp zkcpp-testing)
"$work/pkg-consumer"
# shellcheck disable=SC2046  # the flags are words
c++ -O1 -o "$work/pkg-real-consumer" "$here/consumer/real_consumer.cc" \
  $(pkg-config --cflags --libs zkcpp zkcpp-testing)
run_real_consumer "$work/pkg-real-consumer"
