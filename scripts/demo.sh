#!/usr/bin/env bash
# Installs what zkcpp needs, builds it, and runs the demo (examples/demo: service registry,
# order lock, active/standby failover, config push) against a server started in-process.
# Extra arguments go to the demo (e.g. --connect=host:port,... or --scenario=lock).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >build.configure.log 2>&1 ||
  { cat build.configure.log; exit 1; }
cmake --build build -j "$(nproc)" --target zkcpp-demo
exec ./build/examples/zkcpp-demo "$@"
