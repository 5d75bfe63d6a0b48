// zkcpp CLI — the command line: the flags, the usage text, and what they parse into.
//
// All parsing happens in invocation.cc: the flags (Abseil flags, set one by one so that zkcpp
// words every error itself) may stand anywhere; the first positional argument names the
// subcommand; everything after
// the first "--" is the command that lock / elect run (or, for other subcommands, more
// ordinary arguments, e.g. data that starts with '-'). The subcommand's CommandSpec
// (commands.h) says how many arguments it takes and which flags apply to it.
//
// Exit codes (also in the usage text):
//   0  success
//   1  the operation failed (node does not exist, bad version, node exists, not empty, lock or
//      leadership not obtained, ...)
//   2  usage error (unknown command or flag, wrong arguments, invalid path)
//   3  connection or session failure (no session within --timeout, connection lost, timeout)
//   lock, and elect with a command: the command's exit code (128+N if a signal N killed it,
//   127 if it could not be started).

#ifndef ZKCPP_TOOLS_CLI_INVOCATION_H_
#define ZKCPP_TOOLS_CLI_INVOCATION_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace zk::cli {

// The flags that apply to every subcommand.
struct GlobalOptions {
  std::string connect;                        // --connect
  std::chrono::milliseconds timeout;          // --timeout: session wait and each operation
  std::chrono::milliseconds session_timeout;  // --session_timeout
  bool json = false;                          // --json
  bool verbose = false;                       // --verbose: the C library's log on stderr
  // --tls-ca-file, --tls-cert-file, --tls-key-file: TLS if any is set (zk::TlsOptions).
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // --sasl-user, --sasl-mechanism and the content of --sasl-password-file (without its trailing
  // newline): SASL if sasl_user is set (zk::SaslOptions).
  std::string sasl_user;
  std::string sasl_mechanism;
  std::string sasl_password;
};

// The subcommand-specific flags (each applies only to the subcommands listed in commands.cc).
struct CommandOptions {
  bool recursive = false;  // ls, rm, watch
  bool ephemeral = false;  // create
  bool sequential = false;
  bool container = false;
  bool parents = false;
  bool read_stdin = false;                        // set, create: --stdin
  std::optional<int32_t> expected_version;        // set, rm
  int64_t count = 0;                              // watch, elect, services: stop after N; 0: never
  std::optional<std::chrono::milliseconds> wait;  // lock, elect: nullopt waits forever
  std::string id;                                 // elect
  bool watch = false;                             // services
};

// One parsed command line.
struct Invocation {
  bool help = false;                    // --help, -h or "help": print UsageText() and exit 0
  bool version = false;                 // --version: print the version and exit 0
  std::string command;                  // the subcommand's name
  std::vector<std::string> args;        // its positional arguments
  std::vector<std::string> child_argv;  // the command after "--" (lock, elect)
  GlobalOptions global;
  CommandOptions options;
};

// Parses `argv`. Errors: InvalidArgument "<op> <path>: <problem>" ("<op>: " without a path,
// nothing before the problem without a command): unknown command, wrong number of arguments,
// unknown flag, a flag without its value or with a bad one, a flag that does not apply.
absl::StatusOr<Invocation> ParseInvocation(int argc, char** argv);

// The usage text: subcommands, flags, output conventions and exit codes.
std::string UsageText();

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_INVOCATION_H_
