// zkcpp real-server harness (internal): one Apache ZooKeeper 3.8 JVM, as used by RealZooKeeper
// and RealEnsemble (zk/testing/). Prefer those two classes; this one is their shared engine.
//
// A ZooKeeperProcess owns a directory holding zoo.cfg, data/ (with myid for ensemble members)
// and server.log (the JVM's stdout and stderr), and the JVM running on it. The process is
// started with Debian's jars, a fast-start JVM and the test-friendly properties of
// real-zookeeper.md, and is ready once `srvr` reports an accepted mode *and* `conf` reports
// this directory: the second check makes sure we are not talking to another test's server
// that took our port.

#ifndef ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_ZOOKEEPER_PROCESS_H_
#define ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_ZOOKEEPER_PROCESS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "harness/child_process.h"
#include "zk/testing/real_zookeeper.h"

namespace zk::testing {

// One ZooKeeper JVM on a fixed directory and config. Not thread-safe: the owning class
// serializes calls.
class ZooKeeperProcess {
 public:
  // `dir` must exist; `config` is the complete zoo.cfg minus dataDir (added here). `myid` > 0
  // writes data/myid for ensemble members. `ready_modes` are the `srvr` modes that count as
  // serving (e.g. {"standalone"}).
  ZooKeeperProcess(std::string dir, int client_port, std::map<std::string, std::string> config,
                   int myid, ZooKeeperJvmOptions options,
                   std::vector<std::string> ready_modes);
  ZooKeeperProcess(const ZooKeeperProcess&) = delete;
  ZooKeeperProcess& operator=(const ZooKeeperProcess&) = delete;
  // SIGKILLs a running JVM. The directory is left to the owner.
  ~ZooKeeperProcess();

  const std::string& dir() const { return dir_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_path() const { return log_path_; }
  int client_port() const { return client_port_; }
  std::string host_port() const;
  bool running() const { return process_.running(); }
  pid_t pid() const { return process_.pid(); }
  bool paused() const { return paused_; }

  // Writes zoo.cfg (and myid) and spawns the JVM without waiting for readiness.
  // Errors: FailedPrecondition (already running), Internal.
  absl::Status Launch();

  // Waits until the server serves in one of the ready modes or `deadline` passes.
  // Errors: Unavailable (the JVM exited; the message holds the exit and the log tail, and
  // says "bind collision" if the port was taken), DeadlineExceeded (with the log tail).
  absl::Status WaitUntilServing(absl::Time deadline);

  // Launch + WaitUntilServing(now + start_timeout); kills the JVM on failure.
  absl::Status Start();

  // SIGTERM and wait (SIGKILL past stop_timeout). Errors: FailedPrecondition (not running).
  absl::Status Stop();
  // SIGKILL and reap. Errors: FailedPrecondition (not running).
  absl::Status Kill();
  // SIGSTOP / SIGCONT. Errors: FailedPrecondition (not running / not paused / paused).
  absl::Status Pause();
  absl::Status Resume();

  // Returns the `srvr` mode right now ("" if not serving), with a short deadline.
  absl::StatusOr<std::string> Mode() const;

  // Returns the last `max_bytes` of server.log, for error messages.
  std::string LogTail(size_t max_bytes = 3000) const;

  // True if the log says the JVM failed to bind a port (another process took it).
  bool LogShowsBindCollision() const;

 private:
  std::vector<std::string> BuildArgv() const;

  const std::string dir_;
  const std::string data_dir_;
  const std::string config_path_;
  const std::string log_path_;
  const int client_port_;
  const std::map<std::string, std::string> config_;
  const int myid_;
  const ZooKeeperJvmOptions options_;
  const std::vector<std::string> ready_modes_;
  ChildProcess process_;
  bool paused_ = false;
};

// Makes a fresh directory under $TMPDIR (default /tmp) named `prefix`XXXXXX (prefix should
// start with "zkcpp-") holding a file with this process's pid. The first call in a process
// removes "zkcpp-*" directories left by test processes that no longer exist.
absl::StatusOr<std::string> MakeTempDir(const std::string& prefix);

// Removes `dir` recursively, unless $ZKCPP_KEEP_TEST_DIRS is set (for post-mortems).
void RemoveTempDir(const std::string& dir);

// Returns the classpath of Debian's zookeeper package (its jars and slf4j's), with the netty jars
// a TLS server needs if `with_netty`.
std::string DebianClasspath(bool with_netty);

// Returns the zoo.cfg keys of real-zookeeper.md (tick, loopback client port, no connection
// limit, admin server off, all four-letter words, forceSync=no) merged with `options.config`.
std::map<std::string, std::string> DefaultZooKeeperConfig(const ZooKeeperJvmOptions& options,
                                                          int client_port);

// Makes a server also serve TLS on 127.0.0.1:`secure_port` (real-zookeeper.md, "TLS and
// SASL"): adds secureClientPort to `config`, Netty's connection factory and the key and trust
// stores of `tls` to `jvm`'s properties, and Debian's netty jars to an empty `jvm.classpath`.
// Shared by RealZooKeeper and every RealEnsemble member.
void AddTlsServerSettings(const RealZooKeeperTls& tls, int secure_port, ZooKeeperJvmOptions& jvm,
                          std::map<std::string, std::string>& config);

// Makes a server accept SASL DIGEST-MD5 logins of `users` (name → password; real-zookeeper.md,
// "TLS and SASL"): writes `dir`/jaas.conf with a Server section for ZooKeeper's
// DigestLoginModule and adds the JAAS file and the SASL authentication provider to `jvm`'s
// properties. Errors: InvalidArgument (a name or password the JAAS syntax cannot carry),
// Internal (the file cannot be written).
absl::Status AddSaslServerSettings(const std::map<std::string, std::string>& users,
                                   const std::string& dir, ZooKeeperJvmOptions& jvm);

}  // namespace zk::testing

#endif  // ZKCPP_SERVER_EMBEDDED_SRC_HARNESS_ZOOKEEPER_PROCESS_H_
