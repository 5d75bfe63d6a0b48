// A ZooKeeper server process for the side-by-side suite: the real Apache ZooKeeper 3.8
// standalone (Debian's JVM), or zkcpp's embedded server as its standalone binary zkcpp-server
// (so that, like the JVM, it never shares the drivers' process).
//
// Benchmarks need a server configured like the one in performance-baseline.md (tickTime 2000,
// forceSync=no, full JIT, a roomy heap), not the fast-start test configuration of
// tests/testing/, and bench/ must build without the test tree (ZKCPP_BUILD_TESTS=OFF); hence
// this small launcher of its own.
//
// The JVM runs in a fresh temporary directory on a free loopback port; it is SIGKILLed by the
// destructor, and by the kernel if the benchmark process dies first (PR_SET_PDEATHSIG), so no
// java process outlives a run.

#ifndef ZKCPP_BENCH_COMMON_ZOOKEEPER_SERVER_H_
#define ZKCPP_BENCH_COMMON_ZOOKEEPER_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace zkbench {

struct ZooKeeperServerOptions {
  std::string java = "/usr/bin/java";
  std::string heap = "512m";  // -Xms
  // -Xmx: ZooKeeper keeps its last 500 committed transactions in memory (commitLogCount, which
  // it raises to 500 if set lower), 500 MB for the 1 MB write workload on top of the rest.
  std::string max_heap = "1536m";
  int tick_time_ms = 2000;
  // forceSync=yes: fsync the transaction log before acknowledging a write (ZooKeeper's
  // default); no: the baseline's setting for reads.
  bool force_sync = false;
  // If set, the path of zkcpp-server: run the embedded server instead of the JVM (tick_time_ms
  // applies; java, heap and force_sync do not).
  std::string embedded_binary;
  // Keep the directory (zoo.cfg, data/, server.log) after the run, for post-mortems.
  bool keep_directory = false;
  int start_timeout_seconds = 60;
  // How often Start() asks `srvr` whether the server serves yet (start-time measurements want
  // a fine grain).
  int ready_poll_ms = 50;
};

class ZooKeeperServer {
 public:
  // Starts the server and waits until `srvr` reports "Mode: standalone" (ruok answers before
  // the database is loaded, so it is not a readiness signal).
  static absl::StatusOr<std::unique_ptr<ZooKeeperServer>> Start(ZooKeeperServerOptions options);

  ZooKeeperServer(const ZooKeeperServer&) = delete;
  ZooKeeperServer& operator=(const ZooKeeperServer&) = delete;
  // SIGKILLs the JVM (a clean stop takes ~1.7 s and buys nothing here) and removes the
  // directory unless asked to keep it.
  ~ZooKeeperServer();

  std::string connect_string() const;
  const std::string& directory() const { return directory_; }
  pid_t pid() const { return pid_; }

 private:
  ZooKeeperServer(std::string directory, int port, pid_t pid, bool keep_directory)
      : directory_(std::move(directory)), port_(port), pid_(pid), keep_(keep_directory) {}

  std::string directory_;
  int port_;
  pid_t pid_;
  bool keep_;
};

// Sends a four-letter word to 127.0.0.1:`port` and returns the reply.
absl::StatusOr<std::string> FourLetterWord(int port, const std::string& word);

}  // namespace zkbench

#endif  // ZKCPP_BENCH_COMMON_ZOOKEEPER_SERVER_H_
