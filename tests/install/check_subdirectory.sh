#!/usr/bin/env bash
# Builds tests/install/subdirectory (a project that adds zkcpp's source tree $1 with
# add_subdirectory) in a temporary directory and runs its consumer. Used by CTest
# (tests/install/CMakeLists.txt); exits non-zero on the first failure.
set -euo pipefail
source_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== add_subdirectory(zkcpp): configure"
cmake -S "$here/subdirectory" -B "$work/build" -G Ninja -DZKCPP_SOURCE_DIR="$source_dir" \
  >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
echo "== build"
cmake --build "$work/build" --target subdirectory_consumer -j "${ZKCPP_JOBS:-2}" >"$work/build.log" 2>&1 ||
  { tail -n 50 "$work/build.log"; exit 1; }
echo "== run"
"$work/build/subdirectory_consumer"
