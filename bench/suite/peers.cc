#include "peers.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "process.h"

// Set by bench/CMakeLists.txt.
#ifndef ZKCPP_BENCH_JAVA
#define ZKCPP_BENCH_JAVA "/usr/bin/java"
#endif
#ifndef ZKCPP_BENCH_JAVA_CLASSPATH
#define ZKCPP_BENCH_JAVA_CLASSPATH ""
#endif
#ifndef ZKCPP_BENCH_PYTHON
#define ZKCPP_BENCH_PYTHON "/usr/bin/python3"
#endif
#ifndef ZKCPP_BENCH_KAZOO_SCRIPT
#define ZKCPP_BENCH_KAZOO_SCRIPT ""
#endif
#ifndef ZKCPP_BENCH_EMBEDDED_SERVER
#define ZKCPP_BENCH_EMBEDDED_SERVER ""
#endif

namespace zkbench {
namespace {

std::string Native(const char* name) { return absl::StrCat(SelfDirectory(), "/", name); }

}  // namespace

std::vector<std::string> Command(const std::string& peer, std::vector<std::string> args) {
  std::vector<std::string> command;
  if (peer == "zkcpp" || peer == "zkcpp_inline" || peer == "zkcpp_native") {
    // The engine is always explicit, so that ZKCPP_ENGINE in the runner's environment cannot
    // change what a row measures.
    command = {Native("zkcpp_bench_zkcpp_driver"),
               peer == "zkcpp_inline" ? "--exec=inline" : "--exec=dispatcher",
               peer == "zkcpp_native" ? "--engine=native" : "--engine=clib"};
  } else if (peer == "mt") {
    command = {Native("zkcpp_bench_mt_driver"), "--fixed=1"};
  } else if (peer == "raw") {
    command = {Native("zkcpp_bench_raw_driver")};
  } else if (peer == "java" || peer == "curator") {
    command = {ZKCPP_BENCH_JAVA, "-cp", ZKCPP_BENCH_JAVA_CLASSPATH,
               peer == "java" ? "JavaClientDriver" : "CuratorDriver"};
  } else if (peer == "kazoo") {
    command = {ZKCPP_BENCH_PYTHON, ZKCPP_BENCH_KAZOO_SCRIPT};
  }
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

absl::Status CheckPeer(const std::string& peer) {
  if (peer == "java" || peer == "curator") {
    if (std::string(ZKCPP_BENCH_JAVA_CLASSPATH).empty() || access(ZKCPP_BENCH_JAVA, X_OK) != 0) {
      return absl::NotFoundError(
          "the Java drivers were not built (needs default-jdk-headless, zookeeper and "
          "libcurator-{framework,recipes}-java at configure time)");
    }
    return absl::OkStatus();
  }
  if (peer == "kazoo") {
    absl::StatusOr<std::string> probe =
        RunProcess({ZKCPP_BENCH_PYTHON, "-c", "import kazoo"}, /*quiet_stderr=*/true);
    if (!probe.ok()) {
      return absl::NotFoundError(absl::StrCat(ZKCPP_BENCH_PYTHON,
                                              " cannot import kazoo (Debian python3-kazoo)"));
    }
    return absl::OkStatus();
  }
  const std::string binary = Command(peer, {})[0];
  if (access(binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(binary, " is missing"));
  }
  return absl::OkStatus();
}

std::string EmbeddedServerBinary() { return ZKCPP_BENCH_EMBEDDED_SERVER; }

}  // namespace zkbench
