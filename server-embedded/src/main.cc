// zkcpp-server: runs an EmbeddedServer until SIGTERM or SIGINT.

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "zk/testing/embedded_server.h"

ABSL_FLAG(int, port, 0, "client port of member 0 (0 picks a free port)");
ABSL_FLAG(int, tick_time_ms, 500, "tick time in milliseconds");
ABSL_FLAG(int, min_session_timeout_ms, 0, "minimum session timeout (0: 2 x tick)");
ABSL_FLAG(int, max_session_timeout_ms, 0, "maximum session timeout (0: 20 x tick)");
ABSL_FLAG(int, members, 1, "number of emulated ensemble members");
ABSL_FLAG(std::string, super_digest, "",
          "super user digest id, e.g. super:D/InIHSb7yEEbrWz8b9l71RjZJU= (password \"test\"); "
          "empty: none");
ABSL_FLAG(int, container_check_interval_ms, 100,
          "how often empty containers and expired TTL nodes are reaped, ms");
ABSL_FLAG(int, max_client_cnxns, 60,
          "max concurrent connections per client IP, as ZooKeeper's maxClientCnxns (0: unlimited)");
ABSL_FLAG(std::vector<std::string>, four_letter_words, {"srvr"},
          "four-letter words answered, comma-separated, as ZooKeeper's 4lw.commands.whitelist "
          "(\"*\": all; isro is added once read-only mode is used)");

ABSL_FLAG(int, handshake_timeout_ms, 10000,
          "close a connection that sends no handshake for this long, as ZooKeeper's "
          "sessionlessCnxnTimeout (0: never)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Runs an in-process ZooKeeper 3.8 compatible test server.");
  absl::ParseCommandLine(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the loop thread starts

  zk::testing::EmbeddedServerOptions options;
  options.port = absl::GetFlag(FLAGS_port);
  options.tick_time = std::chrono::milliseconds(absl::GetFlag(FLAGS_tick_time_ms));
  if (int ms = absl::GetFlag(FLAGS_min_session_timeout_ms); ms > 0) {
    options.min_session_timeout = std::chrono::milliseconds(ms);
  }
  if (int ms = absl::GetFlag(FLAGS_max_session_timeout_ms); ms > 0) {
    options.max_session_timeout = std::chrono::milliseconds(ms);
  }
  options.members = absl::GetFlag(FLAGS_members);
  if (std::string digest = absl::GetFlag(FLAGS_super_digest); !digest.empty()) {
    options.super_digest = digest;
  }
  options.container_check_interval =
      std::chrono::milliseconds(absl::GetFlag(FLAGS_container_check_interval_ms));
  options.max_client_connections = absl::GetFlag(FLAGS_max_client_cnxns);
  options.four_letter_words = absl::GetFlag(FLAGS_four_letter_words);
  options.handshake_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_handshake_timeout_ms));
  auto server = zk::testing::EmbeddedServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "zkcpp-server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", (*server)->connect_string().c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  return 0;
}
