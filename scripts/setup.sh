#!/usr/bin/env bash
# Installs every Debian package zkcpp needs to build, test, benchmark and run its demo.
# Idempotent: installs only what is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev lld pkg-config
  libzookeeper-st-dev libzookeeper-mt2
  libssl-dev openssl libsasl2-dev libsasl2-modules libabsl-dev libgtest-dev libgmock-dev googletest libbenchmark-dev nlohmann-json3-dev
  zookeeper libnetty-java default-jre-headless
  default-jdk-headless libcurator-framework-java libcurator-recipes-java libcurator-discovery-java
  python3-kazoo
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
