// zkcpp-server: runs an EmbeddedServer until SIGTERM or SIGINT.
//
// As a development server it reads a ZooKeeper zoo.cfg (--config=zoo.cfg; see zoo_cfg.h for
// the keys it honours) and says on stderr which of the file's keys have no effect here. A flag
// given on the command line wins over the file, which wins over the defaults: the flags that
// have a zoo.cfg key are optional for that reason (unset: not given).

#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "jaas_config.h"
#include "zk/testing/embedded_server.h"
#include "zoo_cfg.h"

ABSL_FLAG(std::string, config, "",
          "a ZooKeeper zoo.cfg to read (clientPort, clientPortAddress, tickTime, maxClientCnxns, "
          "minSessionTimeout, maxSessionTimeout, 4lw.commands.whitelist); flags override it");
ABSL_FLAG(std::optional<int>, port, std::nullopt,
          "client port of member 0, as clientPort (default 0: pick a free port)");
ABSL_FLAG(std::optional<std::string>, bind_address, std::nullopt,
          "IPv4 address to listen on, as clientPortAddress (default 127.0.0.1)");
ABSL_FLAG(std::optional<int>, tick_time_ms, std::nullopt,
          "tick time in milliseconds, as tickTime (default 500)");
ABSL_FLAG(std::optional<int>, min_session_timeout_ms, std::nullopt,
          "minimum session timeout, as minSessionTimeout (default and 0: 2 x tick)");
ABSL_FLAG(std::optional<int>, max_session_timeout_ms, std::nullopt,
          "maximum session timeout, as maxSessionTimeout (default and 0: 20 x tick)");
ABSL_FLAG(int, members, 1, "number of emulated ensemble members");
ABSL_FLAG(std::string, super_digest, "",
          "super user digest id, e.g. super:D/InIHSb7yEEbrWz8b9l71RjZJU= (password \"test\"); "
          "empty: none");
ABSL_FLAG(std::string, jaas_config, "",
          "a JAAS file as a real server takes with -Djava.security.auth.login.config: the "
          "user_<name>=\"<password>\" options of its Server section "
          "(org.apache.zookeeper.server.auth.DigestLoginModule) may authenticate with SASL "
          "DIGEST-MD5 and then hold the id sasl:<name> (empty: no SASL)");
ABSL_FLAG(std::optional<int>, secure_port, std::nullopt,
          "also serve TLS on this port of member 0, as secureClientPort (0: pick a free port); "
          "needs --tls_cert_file and --tls_key_file");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain of the TLS port (zookeeper.ssl.keyStore.location of a PEM store)");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM unencrypted private key of the TLS port (default: --tls_cert_file, a PEM key store "
          "holding both)");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA certificates that client certificates must chain to "
          "(zookeeper.ssl.trustStore.location); needed unless --tls_client_auth=none");
ABSL_FLAG(std::string, tls_client_auth, "need",
          "none, want or need, as zookeeper.ssl.clientAuth (default need)");
ABSL_FLAG(int, container_check_interval_ms, 100,
          "how often empty containers and expired TTL nodes are reaped, ms");
ABSL_FLAG(std::optional<int>, max_client_cnxns, std::nullopt,
          "max concurrent connections per client IP, as maxClientCnxns (default 60; 0: unlimited)");
ABSL_FLAG(std::optional<std::vector<std::string>>, four_letter_words, std::nullopt,
          "four-letter words answered, comma-separated, as 4lw.commands.whitelist (default "
          "srvr; \"*\": all; isro is added once read-only mode is used)");

ABSL_FLAG(std::string, data_dir, "",
          "keep the tree here across restarts: loaded at start, written when stopped by SIGTERM "
          "or SIGINT (empty: in memory only; zoo.cfg's dataDir is not used)");

ABSL_FLAG(int, handshake_timeout_ms, 10000,
          "close a connection that sends no handshake for this long, as ZooKeeper's "
          "sessionlessCnxnTimeout (0: never)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Runs an in-process ZooKeeper 3.8 compatible test server.\n"
      "  --config=zoo.cfg reads a real server's zoo.cfg; --jaas_config=jaas.conf its JAAS file "
      "(SASL DIGEST-MD5 users);\n"
      "  --secure_port=0 --tls_cert_file=... serves TLS beside the plain port (the second line "
      "printed is its connect string).");
  // --help lists this file's flags (Abseil's default looks for a file named after the binary).
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view path) {
    return absl::EndsWith(path, "server-embedded/src/main.cc");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the loop thread starts

  zk::testing::EmbeddedServerOptions options;
  if (std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    absl::StatusOr<zk::internal::ZooConfig> config = zk::internal::ReadZooConfig(path);
    if (!config.ok()) {
      std::fprintf(stderr, "zkcpp-server: %s\n", std::string(config.status().message()).c_str());
      return 2;
    }
    for (const std::string& note : config->notes) {
      std::fprintf(stderr, "zkcpp-server: %s\n", note.c_str());
    }
    zk::internal::ApplyZooConfig(*config, &options);
  }
  if (auto port = absl::GetFlag(FLAGS_port)) options.port = *port;
  if (auto address = absl::GetFlag(FLAGS_bind_address)) options.bind_address = *address;
  if (auto ms = absl::GetFlag(FLAGS_tick_time_ms))
    options.tick_time = std::chrono::milliseconds(*ms);
  // 0 (or less) given explicitly asks for the default bound, whatever the file says.
  for (auto [flag, bound] :
       {std::pair(&FLAGS_min_session_timeout_ms, &options.min_session_timeout),
        std::pair(&FLAGS_max_session_timeout_ms, &options.max_session_timeout)}) {
    if (std::optional<int> ms = absl::GetFlag(*flag)) {
      *bound = *ms > 0 ? std::optional(std::chrono::milliseconds(*ms)) : std::nullopt;
    }
  }
  options.members = absl::GetFlag(FLAGS_members);
  if (std::string digest = absl::GetFlag(FLAGS_super_digest); !digest.empty()) {
    options.super_digest = digest;
  }
  if (std::string path = absl::GetFlag(FLAGS_jaas_config); !path.empty()) {
    absl::StatusOr<std::map<std::string, std::string>> users =
        zk::internal::ReadJaasServerUsers(path);
    if (!users.ok()) {
      std::fprintf(stderr, "zkcpp-server: %s\n", std::string(users.status().message()).c_str());
      return 2;
    }
    options.sasl_users = *std::move(users);
  }
  const bool tls_flags = !absl::GetFlag(FLAGS_tls_cert_file).empty() ||
                         !absl::GetFlag(FLAGS_tls_key_file).empty() ||
                         !absl::GetFlag(FLAGS_tls_ca_file).empty();
  if (std::optional<int> secure_port = absl::GetFlag(FLAGS_secure_port)) {
    zk::testing::EmbeddedServerTls tls;
    tls.secure_port = *secure_port;
    tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
    tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
    if (tls.key_file.empty()) tls.key_file = tls.cert_file;
    tls.ca_file = absl::GetFlag(FLAGS_tls_ca_file);
    const std::string auth = absl::GetFlag(FLAGS_tls_client_auth);
    if (auth == "none") {
      tls.client_auth = zk::testing::TlsClientAuth::kNone;
    } else if (auth == "want") {
      tls.client_auth = zk::testing::TlsClientAuth::kWant;
    } else if (auth == "need") {
      tls.client_auth = zk::testing::TlsClientAuth::kNeed;
    } else {
      std::fprintf(stderr, "zkcpp-server: --tls_client_auth=%s: not none, want or need\n",
                   auth.c_str());
      return 2;
    }
    options.tls = std::move(tls);
  } else if (tls_flags) {
    std::fprintf(stderr, "zkcpp-server: --tls_* flags need --secure_port\n");
    return 2;
  }
  options.container_check_interval =
      std::chrono::milliseconds(absl::GetFlag(FLAGS_container_check_interval_ms));
  if (auto limit = absl::GetFlag(FLAGS_max_client_cnxns)) options.max_client_connections = *limit;
  if (auto words = absl::GetFlag(FLAGS_four_letter_words)) options.four_letter_words = *words;
  options.handshake_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_handshake_timeout_ms));
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  auto server = zk::testing::EmbeddedServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "zkcpp-server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  // The first line is the plain connect string; with TLS the second is the TLS one.
  std::printf("%s\n", (*server)->connect_string().c_str());
  if (options.tls) std::printf("%s\n", (*server)->secure_connect_string().c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  if (!options.data_dir.empty()) {
    if (absl::Status saved = (*server)->SaveSnapshot(); !saved.ok()) {
      std::fprintf(stderr, "zkcpp-server: %s\n", std::string(saved.message()).c_str());
      return 1;
    }
  }
  return 0;
}
