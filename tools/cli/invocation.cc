#include "cli/invocation.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "zk/path.h"

// Global flags.
ABSL_FLAG(std::string, connect, "127.0.0.1:2181",
          "ZooKeeper servers: host:port[,host:port...][/chroot]");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10),
          "how long to wait for the session and for each operation");
ABSL_FLAG(absl::Duration, session_timeout, absl::Seconds(10), "requested session timeout");
ABSL_FLAG(bool, json, false, "print one JSON object per line for each result or event");
ABSL_FLAG(bool, verbose, false, "show the ZooKeeper C library's log on stderr");
ABSL_FLAG(std::string, tls_ca_file, "",
          "TLS: PEM file of the CAs that sign the servers' certificates");
ABSL_FLAG(std::string, tls_cert_file, "", "TLS: the client's certificate (PEM)");
ABSL_FLAG(std::string, tls_key_file, "", "TLS: the client's private key (PEM)");
ABSL_FLAG(std::string, sasl_mechanism, "DIGEST-MD5", "SASL: the mechanism");
ABSL_FLAG(std::string, sasl_user, "", "SASL: authenticate as this user");
ABSL_FLAG(std::string, sasl_password_file, "",
          "SASL: file holding the password (one trailing newline is ignored)");

// Subcommand flags (which apply where: commands.cc).
ABSL_FLAG(bool, recursive, false, "ls, rm, watch: the whole subtree");
ABSL_FLAG(bool, ephemeral, false, "create: an ephemeral node (deleted when zkcpp exits)");
ABSL_FLAG(bool, sequential, false, "create: append a 10-digit sequence number");
ABSL_FLAG(bool, container, false, "create: a container node");
ABSL_FLAG(bool, parents, false, "create: create missing ancestors too");
ABSL_FLAG(bool, stdin, false, "set, create: read the data from standard input");
ABSL_FLAG(std::optional<int32_t>, expected_version, std::nullopt,
          "set, rm: only if the node's version is this");
ABSL_FLAG(int64_t, count, 0, "watch, elect, services --watch: stop after this many events");
ABSL_FLAG(absl::Duration, wait, absl::InfiniteDuration(),
          "lock, elect: give up if not acquired / elected within this time");
ABSL_FLAG(std::string, id, "", "elect: participant id (default: <hostname>-<pid>)");
ABSL_FLAG(bool, watch, false, "services: print changes until interrupted");

namespace zk::cli {
namespace {

absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The flags every subcommand accepts.
constexpr std::string_view kGlobalFlags[] = {"connect",       "timeout",     "session_timeout",
                                             "json",          "verbose",     "tls_ca_file",
                                             "tls_cert_file", "tls_key_file", "sasl_mechanism",
                                             "sasl_user",     "sasl_password_file"};
// The subcommand-specific flags; a subcommand accepts those its CommandSpec lists.
constexpr std::string_view kCommandFlags[] = {
    "recursive",        "ephemeral", "sequential", "container", "parents", "stdin",
    "expected_version", "count",     "wait",       "id",        "watch"};

// Returns zkcpp's flag called `name`, or nullptr: Abseil's own flags (--flagfile, --fromenv,
// ...) and those of linked libraries are not zkcpp's and stay unknown.
absl::CommandLineFlag* FindZkcppFlag(std::string_view name) {
  bool known = false;
  for (std::string_view flag : kGlobalFlags) known = known || flag == name;
  for (std::string_view flag : kCommandFlags) known = known || flag == name;
  return known ? absl::FindCommandLineFlag(AsAbsl(name)) : nullptr;
}

// One flag as written on the command line: --name, --name=value, or --name value.
struct FlagArgument {
  std::string text;  // as written, for messages
  std::string name;
  std::optional<std::string> value;
};

bool IsHelpArgument(std::string_view arg) {
  return arg == "-h" || arg == "--h" || arg.starts_with("--help") || arg.starts_with("-help");
}

// Returns InvalidArgument if a flag that `spec` does not accept was given a non-default value.
absl::Status CheckFlagsApply(const CommandSpec& spec) {
  for (std::string_view name : kCommandFlags) {
    bool accepted = false;
    for (std::string_view allowed : spec.flags) accepted = accepted || allowed == name;
    if (accepted) continue;
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(AsAbsl(name));
    if (flag != nullptr && flag->CurrentValue() != flag->DefaultValue()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", AsAbsl(name), " does not apply to '", AsAbsl(spec.name), "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::chrono::milliseconds> PositiveDuration(std::string_view flag,
                                                           absl::Duration value) {
  if (value <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", AsAbsl(flag), " must be positive, got ", absl::FormatDuration(value)));
  }
  return absl::ToChronoMilliseconds(value);
}

absl::StatusOr<GlobalOptions> ReadGlobalOptions() {
  GlobalOptions global;
  global.connect = absl::GetFlag(FLAGS_connect);
  if (global.connect.empty()) return absl::InvalidArgumentError("--connect must not be empty");
  absl::StatusOr<std::chrono::milliseconds> timeout =
      PositiveDuration("timeout", absl::GetFlag(FLAGS_timeout));
  if (!timeout.ok()) return timeout.status();
  global.timeout = *timeout;
  absl::StatusOr<std::chrono::milliseconds> session_timeout =
      PositiveDuration("session_timeout", absl::GetFlag(FLAGS_session_timeout));
  if (!session_timeout.ok()) return session_timeout.status();
  global.session_timeout = *session_timeout;
  global.json = absl::GetFlag(FLAGS_json);
  global.verbose = absl::GetFlag(FLAGS_verbose);
  global.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  global.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  global.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  global.sasl_mechanism = absl::GetFlag(FLAGS_sasl_mechanism);
  global.sasl_user = absl::GetFlag(FLAGS_sasl_user);
  const std::string password_file = absl::GetFlag(FLAGS_sasl_password_file);
  if (!password_file.empty()) {
    if (global.sasl_user.empty()) {
      return absl::InvalidArgumentError("--sasl-password-file needs --sasl-user");
    }
    std::ifstream in(password_file, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("--sasl-password-file ", password_file, ": cannot be read"));
    }
    global.sasl_password = contents.str();
    if (!global.sasl_password.empty() && global.sasl_password.back() == '\n') {
      global.sasl_password.pop_back();
      if (!global.sasl_password.empty() && global.sasl_password.back() == '\r') {
        global.sasl_password.pop_back();
      }
    }
  }
  return global;
}

absl::StatusOr<CommandOptions> ReadCommandOptions() {
  CommandOptions options;
  options.recursive = absl::GetFlag(FLAGS_recursive);
  options.ephemeral = absl::GetFlag(FLAGS_ephemeral);
  options.sequential = absl::GetFlag(FLAGS_sequential);
  options.container = absl::GetFlag(FLAGS_container);
  options.parents = absl::GetFlag(FLAGS_parents);
  options.read_stdin = absl::GetFlag(FLAGS_stdin);
  options.expected_version = absl::GetFlag(FLAGS_expected_version);
  if (options.expected_version && *options.expected_version < 0) {
    return absl::InvalidArgumentError("--expected_version must not be negative");
  }
  options.count = absl::GetFlag(FLAGS_count);
  if (options.count < 0) return absl::InvalidArgumentError("--count must not be negative");
  if (const absl::Duration wait = absl::GetFlag(FLAGS_wait); wait != absl::InfiniteDuration()) {
    absl::StatusOr<std::chrono::milliseconds> ms = PositiveDuration("wait", wait);
    if (!ms.ok()) return ms.status();
    options.wait = *ms;
  }
  options.id = absl::GetFlag(FLAGS_id);
  options.watch = absl::GetFlag(FLAGS_watch);
  return options;
}

}  // namespace

absl::StatusOr<Invocation> ParseInvocation(int argc, char** argv) {
  Invocation invocation;
  // Everything after the first "--" is the command to run (or more ordinary arguments).
  int flag_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      flag_argc = i;
      break;
    }
  }
  std::vector<std::string> after_dashes(argv + std::min(flag_argc + 1, argc), argv + argc);

  // The flags are parsed here rather than by absl::ParseCommandLine, which prints its own
  // messages and exits: every problem is reported as "<op> <path>: <problem>", so the
  // positional arguments (op and path) are found first and the flags applied after.
  std::vector<std::string> positional;
  std::vector<FlagArgument> flags;
  for (int i = 1; i < flag_argc; ++i) {
    const std::string_view arg = argv[i];
    if (IsHelpArgument(arg)) {
      invocation.help = true;
      return invocation;
    }
    if (arg == "--version" || arg == "-version") {
      invocation.version = true;
      return invocation;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    std::string_view body = arg.substr(arg.starts_with("--") ? 2 : 1);
    FlagArgument flag{.text = std::string(arg)};
    if (const size_t equals = body.find('='); equals != std::string_view::npos) {
      flag.name = std::string(body.substr(0, equals));
      flag.value = std::string(body.substr(equals + 1));
    } else {
      flag.name = std::string(body);
    }
    // --tls-ca-file and --tls_ca_file are the same flag.
    std::replace(flag.name.begin(), flag.name.end(), '-', '_');
    if (!flag.value) {
      // As Abseil: a flag that is not boolean takes the next argument as its value.
      const absl::CommandLineFlag* known = FindZkcppFlag(flag.name);
      if (known != nullptr && !known->IsOfType<bool>() && i + 1 < flag_argc) {
        flag.value = argv[++i];
      }
    }
    flags.push_back(std::move(flag));
  }

  if (!positional.empty()) invocation.command = positional[0];
  // Every subcommand's first argument is a znode path: with the command, it places a problem.
  std::string context;
  if (positional.size() >= 2) {
    context = absl::StrCat(positional[0], " ", positional[1], ": ");
  } else if (!positional.empty()) {
    context = absl::StrCat(positional[0], ": ");
  }
  const auto usage_error = [&context](absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat(context, problem));
  };

  for (const FlagArgument& flag : flags) {
    absl::CommandLineFlag* target = FindZkcppFlag(flag.name);
    std::string value = flag.value.value_or("true");
    // --noname sets a boolean flag to false.
    if (target == nullptr && !flag.value && flag.name.starts_with("no")) {
      target = FindZkcppFlag(std::string_view(flag.name).substr(2));
      if (target != nullptr && !target->IsOfType<bool>()) target = nullptr;
      value = "false";
    }
    if (target == nullptr) return usage_error(absl::StrCat("unknown flag --", flag.name));
    if (!flag.value && !target->IsOfType<bool>()) {
      return usage_error(absl::StrCat("flag ", flag.text, " needs a value"));
    }
    std::string error;
    if (!target->ParseFrom(value, &error)) {
      return usage_error(absl::StrCat(
          "bad value '", value, "' for --", target->Name(),
          target->IsOfType<absl::Duration>() ? " (a duration, e.g. 250ms, 10s, inf)" : ""));
    }
  }

  if (positional.empty()) return usage_error("no command given");
  if (invocation.command == "help") {
    invocation.help = true;
    return invocation;
  }
  const CommandSpec* spec = FindCommand(invocation.command);
  if (spec == nullptr) return usage_error("unknown command");
  invocation.args.assign(positional.begin() + 1, positional.end());
  if (spec->child_command == ChildCommandUse::kNone) {
    invocation.args.insert(invocation.args.end(), after_dashes.begin(), after_dashes.end());
  } else {
    invocation.child_argv = std::move(after_dashes);
  }
  const int arg_count = static_cast<int>(invocation.args.size());
  if (arg_count < spec->min_args || arg_count > spec->max_args) {
    return usage_error(absl::StrCat("wrong number of arguments (got ", arg_count,
                                    "); usage: zkcpp ", AsAbsl(spec->name), " ",
                                    AsAbsl(spec->arguments)));
  }
  if (spec->child_command == ChildCommandUse::kRequired && invocation.child_argv.empty()) {
    return usage_error(absl::StrCat("needs a command after \"--\"; usage: zkcpp ",
                                    AsAbsl(spec->name), " ", AsAbsl(spec->arguments)));
  }
  if (absl::Status s = CheckFlagsApply(*spec); !s.ok()) return usage_error(s.message());
  // The first argument of every subcommand that takes one is a znode path: check it before
  // connecting.
  const bool sequential = absl::GetFlag(FLAGS_sequential);
  if (absl::Status s = invocation.args.empty()
                           ? absl::OkStatus()
                           : ValidatePath(spec->name, invocation.args[0],
                                          sequential ? PathUse::kSequentialCreate : PathUse::kNode);
      !s.ok()) {
    return s;  // already "<op> <path>: <problem>"
  }

  absl::StatusOr<GlobalOptions> global = ReadGlobalOptions();
  if (!global.ok()) return usage_error(global.status().message());
  invocation.global = *std::move(global);
  absl::StatusOr<CommandOptions> options = ReadCommandOptions();
  if (!options.ok()) return usage_error(options.status().message());
  invocation.options = *std::move(options);
  return invocation;
}

std::string UsageText() {
  return R"usage(zkcpp — a command-line client for Apache ZooKeeper (built on zkcpp).

Usage: zkcpp [flags] <command> <arguments> [flags] [-- <command to run>]

Commands:
  ls <path>             List the children of <path>, sorted, one name per line.
      --recursive         every node of the subtree instead, as full paths, <path> first
  get <path>            Write the data of <path> to stdout as is. On a terminal, control
                        characters and bytes that are not UTF-8 are escaped (\x1b) and a
                        newline is added (so `zkcpp get /a > file` still copies the bytes).
  set <path> [<data>]   Replace the data of <path> (no output).
      --expected_version=N  only if the node's version is N
      --stdin               read the data from standard input instead of <data>
  create <path> [<data>]
                        Create <path> (empty without <data>); prints the created path.
      --ephemeral --sequential --container
                          the node's mode (an ephemeral node ends with this process)
      --parents           create missing ancestors too (as empty persistent nodes)
      --stdin             read the data from standard input
  rm <path>             Delete <path> (no output). The reserved nodes /zookeeper,
                        /zookeeper/quota and /zookeeper/config are refused (exit 2).
      --recursive         with its whole subtree (zk::Client::DeleteRecursive)
      --expected_version=N  only if the node's version is N
  stat <path>           Print the node's Stat.
  watch <path>          Print the events of <path> until interrupted: created, deleted,
                        data-changed, children-changed (one per line: "<event> <path>").
                        "zkcpp: watching <path>" on stderr says the watch is in place.
      --recursive         the whole subtree: created, deleted, data-changed of every node
      --count=N           exit after N events
  lock <path> -- <command> [<arg>...]
                        Run <command> while holding the lock at <path> (Curator
                        InterProcessMutex layout) and exit with its exit code. The command gets
                        ZKCPP_LOCK_NODE and ZKCPP_FENCING_TOKEN in its environment, and SIGTERM
                        as soon as the lock may be lost (connection suspended, session lost).
      --wait=DURATION     give up (exit 1) if not acquired within DURATION (default: forever)
  elect <path> [-- <command> [<arg>...]]
                        Join the leader election at <path> (Curator LeaderLatch layout).
                        Without a command: print every change of leadership ("leader <path>
                        <id> epoch=<n>" / "not-leader <path> <id> (<reason>)") until
                        interrupted. With one: run it once elected and exit with its exit code;
                        it gets ZKCPP_LEADER_EPOCH, and SIGTERM as soon as leadership is lost.
      --id=ID             participant id (default: <hostname>-<pid>)
      --wait=DURATION     with a command: give up (exit 1) if not elected within DURATION
      --count=N           without a command: exit after N changes of leadership
  services <base_path> [<service>]
                        List the services registered under <base_path> (Curator
                        ServiceDiscovery layout) and their instances ("  <id> <address>:<port>").
      --watch             print instance changes ("added|removed|updated <service>/<id> ...",
                          the instances present at start as "added") until interrupted
      --count=N           with --watch: exit after N changes
  whoami                Print the identities the server holds for zkcpp's session, one per
                        line ("<scheme> <user>", e.g. "ip 127.0.0.1"). Always uses zkcpp's
                        native engine: ZooKeeper 3.6+'s whoAmI, which the C library lacks.

Global flags:
  --connect=HOSTS       host:port[,host:port...][/chroot] (default 127.0.0.1:2181)
  --timeout=DURATION    wait at most this long for the session, and for each operation
                        (default 10s)
  --session_timeout=DURATION  requested session timeout (default 10s)
  --json                print one JSON object per line for each result or event
  --verbose             show the ZooKeeper C library's log on stderr
  --tls-ca-file=FILE    connect over TLS (native engine), trusting the CAs in this PEM file
  --tls-cert-file=FILE  with --tls-key-file: the client certificate (PEM) for servers that ask
  --tls-key-file=FILE   for one; either TLS flag alone (without --tls-ca-file) turns TLS on with
                        the system's trust store
  --sasl-user=USER      authenticate every connection with SASL (native engine) as USER
  --sasl-password-file=FILE  the password of --sasl-user, read from FILE (a trailing newline
                        is ignored)
  --sasl-mechanism=MECH the SASL mechanism (default DIGEST-MD5, as ZooKeeper's DigestLoginModule
                        checks); a wrong password fails with "SASL authentication ... failed"
  --version             print the version

Flags may stand anywhere before "--". After "--" nothing is a flag: `zkcpp set /a -- -1` sets
data that starts with '-'. Durations: 250ms, 10s, 5m, inf. Boolean flags: --json, --nojson.

Output: results go to stdout, messages and errors to stderr, an error as "zkcpp: <op> <path>:
<problem>"; control characters in messages (and in results shown on a terminal) are escaped.
With a chroot in --connect (host:port/app) that does not exist, the error says so. lock, and
elect with a command, write their own lines to stderr: stdout is the command's. With --json,
get prints {"path","data","stat"} (bytes that are not valid UTF-8 become U+FFFD, and on a
terminal all but ASCII is written as \uXXXX: use plain get for binary data); stat prints
{"path","stat"}; ls {"path","children"} per listed node; create, set {"path","stat"}; rm
{"path","deleted"}; watch {"event","path"}; elect {"event","path","id","epoch","reason"};
services {"service","instances"}, with --watch {"event","service","instance"}.

Exit codes:
  0    success (watch, elect without a command and services --watch also end with 0 when
       interrupted by SIGINT or SIGTERM)
  1    the operation failed: node does not exist, bad version, node exists, not empty, lock
       or leadership not obtained within --wait or interrupted while waiting, ...
  2    usage error: unknown command or flag, wrong arguments, invalid path
  3    connection or session failure: no session within --timeout, connection lost,
       operation timed out, session expired
  lock, and elect with a command: the command's exit code (128+N if signal N killed it, 127
  if it could not be started).
  A signal that arrives while no command is prepared for it (or a second one) ends zkcpp at
  once with 128+signal.
)usage";
}

}  // namespace zk::cli
