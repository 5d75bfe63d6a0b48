// zkcpp test support: the servers a test can run against, behind one interface.
//
// Every client and recipe test runs on every backend (design.md §7): the in-process embedded
// server (zk::testing::EmbeddedServer, when compiled in) and a real ZooKeeper 3.8 started from
// Debian's packages. A Backend is one such server, or a real ensemble, with the fault
// primitives tests share: server-side session expiry, crash + restart with data and sessions
// kept, pause/resume.
//
// Example:
//   absl::StatusOr<std::unique_ptr<zk::testing::Backend>> backend =
//       zk::testing::StartBackend(zk::testing::BackendKind::kReal);
//   zk::Client::Connect((*backend)->connect_string(), ...);
//   (*backend)->ExpireSession(client->session_id(), client->session_password());
//
// Tests normally get their backend from the BackendTest fixture (backend_test.h).

#ifndef ZKCPP_TESTS_TESTING_BACKEND_H_
#define ZKCPP_TESTS_TESTING_BACKEND_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/testing/real_ensemble.h"
#include "zk/testing/real_zookeeper.h"

namespace zk::testing {

enum class BackendKind { kEmbedded, kReal };

// Prints BackendName(kind) in GoogleTest messages.
void PrintTo(BackendKind kind, std::ostream* os);

// One server (or ensemble) a test talks to. Implementations are thread-safe: a test may call
// Restart() on one thread while its client runs on others.
class Backend {
 public:
  virtual ~Backend() = default;

  virtual BackendKind kind() const = 0;
  // The client connect string ("host:port[,host:port...]"); stable across Restart().
  virtual std::string connect_string() const = 0;

  // Expires a session on the server side now: its ephemerals are deleted (watchers of other
  // sessions fire) and the client sees expiry on its next contact.
  // Errors: Aborted if the server does not know the session (or, on a real server, the
  // password is wrong; the embedded server ignores the password).
  virtual absl::Status ExpireSession(int64_t session_id, std::string_view password) = 0;
  // Simulates a crash and restart keeping data and sessions: clients reconnect and resume
  // their sessions (if within their timeout), ephemerals intact, zxid increasing.
  virtual absl::Status Restart() = 0;
  // Freezes the server (connections stay open, nothing is answered) / unfreezes it.
  // Errors: FailedPrecondition (already paused / not paused).
  virtual absl::Status Pause() = 0;
  virtual absl::Status Resume() = 0;

  // Makes the backend serve again after a test left it paused or stopped, so that one failed
  // test does not break the next ones sharing the backend. A no-op when serving.
  virtual absl::Status EnsureServing() = 0;
};

// Starts a backend of `kind` with the defaults of its options.
// Errors: Unimplemented (kEmbedded not compiled in), else those of the server's Start.
absl::StatusOr<std::unique_ptr<Backend>> StartBackend(BackendKind kind);

// Starts a real standalone server with `options` (kind() == kReal).
absl::StatusOr<std::unique_ptr<Backend>> StartRealBackend(RealZooKeeperOptions options);

// Starts a real ensemble with `options` (kind() == kReal). Restart() crashes and restarts
// every member; Pause() pauses every member.
absl::StatusOr<std::unique_ptr<Backend>> StartRealEnsembleBackend(RealEnsembleOptions options);

// "Embedded" or "Real": usable in test names.
std::string BackendName(BackendKind kind);

// The backends to run parameterized tests on: every compiled-in kind (kEmbedded only with
// ZKCPP_HAVE_EMBEDDED_SERVER), restricted by $ZKCPP_BACKENDS if set, a comma list of
// "embedded" and "real" (case-insensitive; unknown names are ignored with a warning on
// stderr). Order: embedded first.
std::vector<BackendKind> AvailableBackends();

// The real server behind a kReal standalone backend, for tests that need more primitives
// (Stop, Kill, LogTail). Returns nullptr for other backends.
RealZooKeeper* AsRealZooKeeper(Backend& backend);
// The ensemble behind a StartRealEnsembleBackend backend, or nullptr.
RealEnsemble* AsRealEnsemble(Backend& backend);

#if ZKCPP_HAVE_EMBEDDED_SERVER
class EmbeddedServer;
// The embedded server behind a kEmbedded backend (for DropConnection, SetReadOnly, hooks...),
// or nullptr.
EmbeddedServer* AsEmbeddedServer(Backend& backend);
#endif

}  // namespace zk::testing

#endif  // ZKCPP_TESTS_TESTING_BACKEND_H_
