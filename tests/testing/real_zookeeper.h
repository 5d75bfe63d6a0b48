// zkcpp test support: a real Apache ZooKeeper 3.8 standalone server for tests.
//
// RealZooKeeper starts Debian's ZooKeeper JVM on a free loopback port with a fresh temporary
// directory, waits until it serves, and offers the fault primitives tests need: clean stop,
// crash (SIGKILL), restart on the same port and data, pause/resume (SIGSTOP/SIGCONT). The
// destructor kills the JVM and removes the directory, also when a test fails; the JVM also
// dies with the test process (see child_process.h), so no java process is ever leaked.
//
// Example:
//   absl::StatusOr<std::unique_ptr<zk::testing::RealZooKeeper>> server =
//       zk::testing::RealZooKeeper::Start({});
//   ASSERT_THAT(server, zk::testing::IsOk());
//   std::string hosts = (*server)->connect_string();   // "127.0.0.1:41234"
//   ASSERT_THAT((*server)->Restart(), zk::testing::IsOk());  // crash + restart, data kept
//
// The server: tickTime 500 ms (session timeouts 1-10 s), super digest for "super:test", TTL
// and container nodes enabled (container check every 100 ms), all four-letter words, no
// admin server, forceSync=no, server.log with the JVM output in directory().
// Set $ZKCPP_KEEP_TEST_DIRS to keep the directory after the test.

#ifndef ZKCPP_TESTS_TESTING_REAL_ZOOKEEPER_H_
#define ZKCPP_TESTS_TESTING_REAL_ZOOKEEPER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "testing/zookeeper_process.h"

namespace zk::testing {

// Options of a standalone real server. Every field has a test-friendly default.
struct RealZooKeeperOptions {
  // JVM, config and timing options (tick_time, super_digest, jvm_properties, config, ...).
  ZooKeeperJvmOptions jvm;
  // How many fresh ports to try when another process takes ours between picking it and the
  // JVM binding it.
  int start_attempts = 5;
};

// One real standalone ZooKeeper server. Thread-safe: methods may be called from any thread;
// they are serialized (a Restart blocks a concurrent Pause until it is done).
class RealZooKeeper {
 public:
  // Starts a server and waits until it serves ("Mode: standalone").
  // Errors: Unavailable / DeadlineExceeded with the server's log tail, Internal.
  static absl::StatusOr<std::unique_ptr<RealZooKeeper>> Start(
      RealZooKeeperOptions options = {});

  RealZooKeeper(const RealZooKeeper&) = delete;
  RealZooKeeper& operator=(const RealZooKeeper&) = delete;
  // Kills the JVM (if running) and removes the directory.
  ~RealZooKeeper();

  // "127.0.0.1:<port>"; fixed for the server's life (restarts reuse the port).
  std::string connect_string() const;
  int port() const;
  // The server's directory: zoo.cfg, data/, server.log.
  std::string directory() const;
  // The JVM's pid, or -1 when not running.
  pid_t pid() const;
  bool running() const;

  // Stops cleanly (SIGTERM, wait; SIGKILL past stop_timeout). Data and sessions stay on disk.
  // Errors: FailedPrecondition (not running), DeadlineExceeded (needed SIGKILL).
  absl::Status Stop();
  // Crashes the server (SIGKILL). Errors: FailedPrecondition (not running).
  absl::Status Kill();
  // Kills the server if it runs, then starts it again on the same port and data and waits
  // until it serves. Sessions survive and get a fresh full timeout (clients resume).
  // Errors: as Start (e.g. Unavailable if another process took the port meanwhile).
  absl::Status Restart();
  // Freezes the JVM (SIGSTOP): connections stay open, nothing is answered.
  // Errors: FailedPrecondition (not running or already paused).
  absl::Status Pause();
  // Continues a paused JVM (SIGCONT). Errors: FailedPrecondition (not paused).
  absl::Status Resume();

  // The last `max_bytes` of server.log.
  std::string LogTail(size_t max_bytes = 3000) const;

 private:
  RealZooKeeper(std::string directory, std::unique_ptr<ZooKeeperProcess> process);

  const std::string directory_;
  mutable absl::Mutex mutex_;
  const std::unique_ptr<ZooKeeperProcess> process_ ABSL_PT_GUARDED_BY(mutex_);
};

}  // namespace zk::testing

#endif  // ZKCPP_TESTS_TESTING_REAL_ZOOKEEPER_H_
