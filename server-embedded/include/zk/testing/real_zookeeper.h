// zkcpp testing: a real Apache ZooKeeper 3.8 standalone server for your own tests.
//
// RealZooKeeper starts the ZooKeeper server of Debian's `zookeeper` package (a JVM, through
// the `java` on PATH) on a free loopback port with a fresh temporary directory, waits until it
// serves, and offers the fault primitives tests need: clean stop, crash (SIGKILL), restart on
// the same port and data, pause/resume (SIGSTOP/SIGCONT) and a server-side session expiry.
// The destructor kills the JVM and removes the directory, also when a test fails; the JVM
// also dies with the test process (the kernel kills it when its parent exits), so no java
// process is ever leaked. The harness needs no test framework: it returns absl::Status.
// For an ensemble see zk/testing/real_ensemble.h; for an in-process server without a JVM,
// zk/testing/embedded_server.h.
//
// Example:
//   absl::StatusOr<std::unique_ptr<zk::testing::RealZooKeeper>> server =
//       zk::testing::RealZooKeeper::Start();
//   if (!server.ok()) return server.status();
//   auto client = zk::Client::Connect({.connect_string = (*server)->connect_string()});
//   ...
//   // The server ends the session; the client sees kLost, then opens a new session.
//   (*server)->ExpireSession((*client)->session_id(), (*client)->session_password());
//   (*server)->Restart();  // crash + restart: data and sessions kept
//
// The server: tickTime 500 ms (session timeouts 1-10 s), super digest for "super:test", TTL
// and container nodes enabled (container check every 100 ms), all four-letter words, no
// admin server, forceSync=no, server.log with the JVM output in directory().
// With RealZooKeeperOptions::tls the server also serves TLS on a second loopback port
// (secureClientPort, through Netty): connect to secure_connect_string(). Key material for it
// comes from zk/testing/test_certificates.h.
// With RealZooKeeperOptions::sasl_users the server also accepts SASL DIGEST-MD5 logins of those
// users and grants their sessions the id ("sasl", <user>).
// Set $ZKCPP_KEEP_TEST_DIRS to keep the directory after the test, $ZKCPP_JAVA to choose the
// java launcher.

#ifndef ZK_TESTING_REAL_ZOOKEEPER_H_
#define ZK_TESTING_REAL_ZOOKEEPER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "zk/testing/tls_client_auth.h"

namespace zk::testing {

// The internal engine that runs one JVM; defined in the library's sources.
class ZooKeeperProcess;

// The parts of a server's command line and config shared by standalone servers and ensembles.
// Every field has a test-friendly default.
struct ZooKeeperJvmOptions {
  // Server tick; session timeouts are clamped to [2, 20] ticks.
  absl::Duration tick_time = absl::Milliseconds(500);
  // Digest for user "super" with password "test" (base64 of SHA-1 of "super:test").
  std::string super_digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";
  // How often the server deletes empty containers and expired TTL nodes (its default, one
  // minute, is too slow for tests).
  absl::Duration container_check_interval = absl::Milliseconds(100);
  // Extra JVM system properties: -D<key>=<value>.
  std::map<std::string, std::string> jvm_properties;
  // Extra zoo.cfg lines: <key>=<value> (override the defaults of the same key).
  std::map<std::string, std::string> config;
  // The java launcher: a path or a name on PATH. Empty: $ZKCPP_JAVA, else "java".
  std::string java;
  // The classpath. Empty: Debian's zookeeper, zookeeper-jute, slf4j-api and slf4j-simple jars
  // under /usr/share/java.
  std::string classpath;
  // Deadline for a start (JVM start + database load + election for ensembles).
  absl::Duration start_timeout = absl::Seconds(30);
  // Deadline for a clean stop (SIGTERM) before falling back to SIGKILL.
  absl::Duration stop_timeout = absl::Seconds(10);
};

// TLS on the secure client port. ZooKeeper picks a store's type from its file name: ".pem"
// (PEM: the key store holds the private key, unencrypted, and the certificate chain; the
// trust store holds CA certificates), ".p12"/".pfx" (PKCS12) or ".jks".
struct RealZooKeeperTls {
  // The server's private key and certificate chain.
  std::string key_store;
  std::string key_store_password;
  // The CAs that sign client certificates.
  std::string trust_store;
  std::string trust_store_password;
  TlsClientAuth client_auth = TlsClientAuth::kNone;
};

// Options of a standalone real server.
struct RealZooKeeperOptions {
  // JVM, config and timing options (tick_time, super_digest, jvm_properties, config, ...).
  ZooKeeperJvmOptions jvm;
  // Serve TLS on a second port too (the server then runs Netty's connection factory, on both
  // ports; with an empty jvm.classpath, Debian's netty jars are added to it).
  std::optional<RealZooKeeperTls> tls;
  // SASL DIGEST-MD5 users the server accepts (name → password; letters, digits, '_' and '-'
  // in names, no '"' or backslash in passwords): written to a JAAS file's Server section for
  // ZooKeeper's DigestLoginModule, with the SASL authentication provider enabled.
  std::map<std::string, std::string> sasl_users;
  // How many fresh ports to try when another process takes ours between picking it and the
  // JVM binding it.
  int start_attempts = 5;
};

// One real standalone ZooKeeper server. Thread-safe: methods may be called from any thread;
// they are serialized (a Restart blocks a concurrent Pause until it is done).
class RealZooKeeper {
 public:
  // Starts a server and blocks until it serves ("Mode: standalone" from `srvr`).
  // Errors: FailedPrecondition (Debian's ZooKeeper jars are not installed; the message names
  // the missing file), NotFound (no java launcher), Unavailable / DeadlineExceeded with the
  // server's log tail, Internal (temporary directory or fork failed).
  static absl::StatusOr<std::unique_ptr<RealZooKeeper>> Start(
      RealZooKeeperOptions options = {});

  RealZooKeeper(const RealZooKeeper&) = delete;
  RealZooKeeper& operator=(const RealZooKeeper&) = delete;
  // Kills the JVM (if running, also when paused) and removes the directory.
  ~RealZooKeeper();

  // Returns "127.0.0.1:<port>"; fixed for the server's life (restarts reuse the port).
  std::string connect_string() const;
  // Returns the client port.
  int port() const;
  // Returns "127.0.0.1:<secure port>", the TLS port; "" without RealZooKeeperOptions::tls.
  std::string secure_connect_string() const;
  // Returns the TLS port, or -1 without RealZooKeeperOptions::tls.
  int secure_port() const;
  // Returns the server's directory: zoo.cfg, data/, server.log.
  std::string directory() const;
  // Returns the JVM's pid, or -1 when not running.
  pid_t pid() const;
  // Returns true between a successful start and a Stop/Kill (also while paused).
  bool running() const;

  // Stops cleanly (SIGTERM, wait; SIGKILL past stop_timeout). Data and sessions stay on disk.
  // Errors: FailedPrecondition (not running), DeadlineExceeded (needed SIGKILL).
  absl::Status Stop();
  // Crashes the server (SIGKILL). Errors: FailedPrecondition (not running).
  absl::Status Kill();
  // Kills the server if it runs, then starts it again on the same port and data and blocks
  // until it serves. Sessions survive and get a fresh full timeout (clients resume).
  // Errors: as Start (e.g. Unavailable if another process took the port meanwhile).
  absl::Status Restart();
  // Freezes the JVM (SIGSTOP) and returns once it is stopped: connections stay open, nothing
  // is answered, sessions time out only after Resume. Errors: FailedPrecondition (not running
  // or already paused).
  absl::Status Pause();
  // Continues a paused JVM (SIGCONT). Errors: FailedPrecondition (not paused).
  absl::Status Resume();

  // Makes the server expire session `session_id` now, as a real expiry would: it resumes the
  // session on a second connection with the same id and `password` and closes it there. The
  // server deletes the session's ephemeral nodes (their watchers fire) and answers the owner's
  // next contact with "session expired". Blocks until the server acknowledged the close
  // (a few seconds at most). Errors: Aborted (the server says the session is invalid: already
  // expired or closed, or a wrong password), Unavailable / DeadlineExceeded (the server cannot
  // be reached, e.g. it is stopped or paused).
  absl::Status ExpireSession(int64_t session_id, std::string_view password);

  // Returns the last `max_bytes` of server.log, for failure messages.
  std::string LogTail(size_t max_bytes = 3000) const;

 private:
  RealZooKeeper(std::string directory, std::unique_ptr<ZooKeeperProcess> process,
                int secure_port);

  const std::string directory_;
  const int secure_port_;
  mutable absl::Mutex mutex_;
  const std::unique_ptr<ZooKeeperProcess> process_ ABSL_PT_GUARDED_BY(mutex_);
};

}  // namespace zk::testing

#endif  // ZK_TESTING_REAL_ZOOKEEPER_H_
