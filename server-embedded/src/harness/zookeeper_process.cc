#include "harness/zookeeper_process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "harness/net.h"

namespace zk::testing {
namespace {

constexpr char kDebianClasspath[] =
    "/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:"
    "/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar";

constexpr char kNettyJars[] =
    ":/usr/share/java/netty-buffer.jar:/usr/share/java/netty-codec.jar:"
    "/usr/share/java/netty-common.jar:/usr/share/java/netty-handler.jar:"
    "/usr/share/java/netty-resolver.jar:/usr/share/java/netty-transport.jar:"
    "/usr/share/java/netty-transport-native-unix-common.jar:"
    "/usr/share/java/netty-transport-native-epoll.jar";

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("write ", path, ": failed"));
  return absl::OkStatus();
}

}  // namespace

namespace {

constexpr char kOwnerFile[] = "/zkcpp-owner-pid";

std::string TempRoot() {
  const char* tmp = ::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

// True if `pid` exists and is not a zombie (a killed process whose parent has not reaped it
// still answers kill(pid, 0)).
bool ProcessAlive(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat, line)) return true;  // Cannot tell: assume alive.
  // "pid (comm) S ...": the state follows the last ')'.
  const size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

// Removes "zkcpp-*" test directories whose owning test process is gone: a test binary killed
// by SIGKILL (a ctest timeout) runs no destructors. Its JVMs died with it (PDEATHSIG).
void SweepStaleTempDirs() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(TempRoot(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("zkcpp-", 0) != 0) continue;
    std::ifstream owner(entry.path().string() + kOwnerFile);
    pid_t pid = 0;
    if (!(owner >> pid) || pid <= 0) continue;  // Not ours, or being created.
    if (ProcessAlive(pid)) continue;
    std::error_code ignored;
    std::filesystem::remove_all(entry.path(), ignored);
  }
}

}  // namespace

absl::StatusOr<std::string> MakeTempDir(const std::string& prefix) {
  static std::once_flag swept;
  std::call_once(swept, SweepStaleTempDirs);
  std::string templ = absl::StrCat(TempRoot(), "/", prefix, "XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", templ, ": ", std::strerror(errno)));
  }
  if (absl::Status s = WriteFile(templ + kOwnerFile, absl::StrCat(::getpid(), "\n")); !s.ok()) {
    return s;
  }
  return templ;
}

void RemoveTempDir(const std::string& dir) {
  if (dir.empty() || ::getenv("ZKCPP_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

std::string DebianClasspath(bool with_netty) {
  return with_netty ? absl::StrCat(kDebianClasspath, kNettyJars) : kDebianClasspath;
}

std::map<std::string, std::string> DefaultZooKeeperConfig(const ZooKeeperJvmOptions& options,
                                                          int client_port) {
  std::map<std::string, std::string> config = {
      {"tickTime", absl::StrCat(absl::ToInt64Milliseconds(options.tick_time))},
      {"initLimit", "10"},
      {"syncLimit", "5"},
      {"clientPort", absl::StrCat(client_port)},
      {"clientPortAddress", "127.0.0.1"},
      {"maxClientCnxns", "0"},
      {"admin.enableServer", "false"},
      {"4lw.commands.whitelist", "*"},
      // Tests only: no fsync per commit. A SIGKILLed JVM still keeps its acknowledged writes
      // (they are in the page cache); only a machine crash would lose them.
      {"forceSync", "no"},
  };
  for (const auto& [key, value] : options.config) config[key] = value;
  return config;
}

void AddTlsServerSettings(const RealZooKeeperTls& tls, int secure_port, ZooKeeperJvmOptions& jvm,
                          std::map<std::string, std::string>& config) {
  config["secureClientPort"] = absl::StrCat(secure_port);
  config["secureClientPortAddress"] = "127.0.0.1";
  auto& properties = jvm.jvm_properties;
  properties["zookeeper.serverCnxnFactory"] = "org.apache.zookeeper.server.NettyServerCnxnFactory";
  properties["zookeeper.ssl.keyStore.location"] = tls.key_store;
  properties["zookeeper.ssl.keyStore.password"] = tls.key_store_password;
  properties["zookeeper.ssl.trustStore.location"] = tls.trust_store;
  properties["zookeeper.ssl.trustStore.password"] = tls.trust_store_password;
  properties["zookeeper.ssl.clientAuth"] = tls.client_auth == TlsClientAuth::kNeed   ? "need"
                                           : tls.client_auth == TlsClientAuth::kWant ? "want"
                                                                                     : "none";
  if (jvm.classpath.empty()) jvm.classpath = DebianClasspath(/*with_netty=*/true);
}

absl::Status AddSaslServerSettings(const std::map<std::string, std::string>& users,
                                   const std::string& dir, ZooKeeperJvmOptions& jvm) {
  std::string jaas = "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required";
  for (const auto& [user, password] : users) {
    const bool name_ok =
        !user.empty() && std::all_of(user.begin(), user.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '_' || c == '-';
        });
    if (!name_ok || password.find_first_of("\"\\\n") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("sasl_users: user \"", user, "\" or its password cannot be written to JAAS"));
    }
    absl::StrAppend(&jaas, "\n  user_", user, "=\"", password, "\"");
  }
  jaas += ";\n};\n";
  const std::string path = absl::StrCat(dir, "/jaas.conf");
  std::ofstream out(path);
  out << jaas;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("sasl_users: cannot write ", path));
  jvm.jvm_properties["java.security.auth.login.config"] = path;
  jvm.jvm_properties["zookeeper.authProvider.1"] =
      "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
  return absl::OkStatus();
}

ZooKeeperProcess::ZooKeeperProcess(std::string dir, int client_port,
                                   std::map<std::string, std::string> config, int myid,
                                   ZooKeeperJvmOptions options,
                                   std::vector<std::string> ready_modes)
    : dir_(std::move(dir)),
      data_dir_(absl::StrCat(dir_, "/data")),
      config_path_(absl::StrCat(dir_, "/zoo.cfg")),
      log_path_(absl::StrCat(dir_, "/server.log")),
      client_port_(client_port),
      config_(std::move(config)),
      myid_(myid),
      options_(std::move(options)),
      ready_modes_(std::move(ready_modes)) {}

ZooKeeperProcess::~ZooKeeperProcess() { process_.KillAndReap(); }

std::string ZooKeeperProcess::host_port() const {
  return absl::StrCat("127.0.0.1:", client_port_);
}

std::vector<std::string> ZooKeeperProcess::BuildArgv() const {
  std::string java = options_.java;
  if (java.empty()) {
    const char* env = ::getenv("ZKCPP_JAVA");
    java = env != nullptr && *env != '\0' ? env : "java";
  }
  std::vector<std::string> argv = {
      java,
      // Fast start and a small footprint: tests run several JVMs side by side.
      "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
      "-Djava.awt.headless=true",
      absl::StrCat("-Djava.io.tmpdir=", dir_),
      "-Dzookeeper.admin.enableServer=false",
      "-Dzookeeper.extendedTypesEnabled=true",
      "-Dzookeeper.4lw.commands.whitelist=*",
      absl::StrCat("-Dzookeeper.DigestAuthenticationProvider.superDigest=",
                   options_.super_digest),
      absl::StrCat("-Dznode.container.checkIntervalMs=",
                   absl::ToInt64Milliseconds(options_.container_check_interval)),
      // Each log line names its thread and time: handy when a test fails.
      "-Dorg.slf4j.simpleLogger.showDateTime=true",
      "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
  };
  for (const auto& [key, value] : options_.jvm_properties) {
    argv.push_back(absl::StrCat("-D", key, "=", value));
  }
  argv.push_back("-cp");
  argv.push_back(options_.classpath.empty() ? kDebianClasspath : options_.classpath);
  argv.push_back("org.apache.zookeeper.server.quorum.QuorumPeerMain");
  argv.push_back(config_path_);
  return argv;
}

absl::Status ZooKeeperProcess::Launch() {
  if (process_.running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("start ZooKeeper ", host_port(), ": already running"));
  }
  // Without its jars the JVM would start and die with a ClassNotFoundException in its log;
  // naming the missing file lets a user's test skip or explain itself.
  const std::string classpath = options_.classpath.empty() ? kDebianClasspath : options_.classpath;
  for (absl::string_view jar : absl::StrSplit(classpath, ':', absl::SkipEmpty())) {
    if (!std::filesystem::exists(std::string(jar))) {
      return absl::FailedPreconditionError(absl::StrCat(
          "start ZooKeeper ", host_port(), ": ", jar,
          " is missing (the default jars come with Debian's zookeeper package)"));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir_, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("create ", data_dir_, ": ", ec.message()));
  }
  std::string cfg;
  for (const auto& [key, value] : config_) absl::StrAppend(&cfg, key, "=", value, "\n");
  absl::StrAppend(&cfg, "dataDir=", data_dir_, "\n");
  if (absl::Status s = WriteFile(config_path_, cfg); !s.ok()) return s;
  if (myid_ > 0) {
    if (absl::Status s = WriteFile(absl::StrCat(data_dir_, "/myid"), absl::StrCat(myid_, "\n"));
        !s.ok()) {
      return s;
    }
  }
  // A marker line separates the runs of one server in its log.
  if (std::ofstream log(log_path_, std::ios::app); log) {
    log << "==== zkcpp test support: starting ZooKeeper on " << host_port() << "\n";
  }
  absl::StatusOr<ChildProcess> child = ChildProcess::Spawn(BuildArgv(), log_path_);
  if (!child.ok()) return child.status();
  process_ = std::move(*child);
  paused_ = false;
  return absl::OkStatus();
}

absl::Status ZooKeeperProcess::WaitUntilServing(absl::Time deadline) {
  // conf prints dataDir as "<dataDir>/version-2".
  const std::string own_data_dir = absl::StrCat("dataDir=", data_dir_, "/");
  std::string last_mode;
  for (;;) {
    if (std::optional<int> status = process_.TryReap()) {
      return absl::UnavailableError(absl::StrCat(
          "ZooKeeper on ", host_port(), " ", DescribeWaitStatus(*status),
          LogShowsBindCollision() ? " (bind collision: a port was taken)" : "",
          " before serving; log tail (", log_path_, "):\n", LogTail()));
    }
    const absl::Time attempt_deadline =
        std::min(deadline, absl::Now() + absl::Milliseconds(1000));
    absl::StatusOr<std::string> srvr = FourLetterWord(host_port(), "srvr", attempt_deadline);
    if (srvr.ok()) {
      last_mode = ParseSrvrMode(*srvr);
      if (std::find(ready_modes_.begin(), ready_modes_.end(), last_mode) !=
          ready_modes_.end()) {
        absl::StatusOr<std::string> conf =
            FourLetterWord(host_port(), "conf", attempt_deadline);
        if (conf.ok() && absl::StrContains(*conf, own_data_dir)) return absl::OkStatus();
        if (conf.ok()) {
          // Another server answers on our port: ours will fail to bind and exit (above).
          last_mode = absl::StrCat(last_mode, " (but not our server: conf lacks ",
                                   own_data_dir, ")");
        }
      }
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "ZooKeeper on ", host_port(), " not serving at the deadline (last srvr mode: \"",
          last_mode, "\"); log tail (", log_path_, "):\n", LogTail()));
    }
    // Poll interval while the JVM starts (0.3-1.5 s typically).
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::Status ZooKeeperProcess::Start() {
  if (absl::Status launched = Launch(); !launched.ok()) return launched;
  absl::Status serving = WaitUntilServing(absl::Now() + options_.start_timeout);
  if (!serving.ok()) process_.KillAndReap();
  return serving;
}

absl::Status ZooKeeperProcess::Stop() {
  if (!process_.running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("stop ZooKeeper ", host_port(), ": not running"));
  }
  // A stopped JVM cannot handle SIGTERM until continued.
  if (paused_) (void)process_.Signal(SIGCONT);
  paused_ = false;
  if (absl::Status s = process_.Signal(SIGTERM); !s.ok()) return s;
  absl::StatusOr<int> exited = process_.WaitForExit(absl::Now() + options_.stop_timeout);
  if (!exited.ok()) {
    process_.KillAndReap();
    return absl::DeadlineExceededError(absl::StrCat(
        "stop ZooKeeper ", host_port(), ": no exit within ",
        absl::FormatDuration(options_.stop_timeout), " of SIGTERM; killed"));
  }
  return absl::OkStatus();
}

absl::Status ZooKeeperProcess::Kill() {
  if (!process_.running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("kill ZooKeeper ", host_port(), ": not running"));
  }
  process_.KillAndReap();
  paused_ = false;
  return absl::OkStatus();
}

absl::Status ZooKeeperProcess::Pause() {
  if (!process_.running() || paused_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pause ZooKeeper ", host_port(), ": ", paused_ ? "already paused" : "not running"));
  }
  if (absl::Status s = process_.Stop(); !s.ok()) return s;
  paused_ = true;
  return absl::OkStatus();
}

absl::Status ZooKeeperProcess::Resume() {
  if (!process_.running() || !paused_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "resume ZooKeeper ", host_port(), ": ", process_.running() ? "not paused" : "not running"));
  }
  if (absl::Status s = process_.Signal(SIGCONT); !s.ok()) return s;
  paused_ = false;
  return absl::OkStatus();
}

absl::StatusOr<std::string> ZooKeeperProcess::Mode() const {
  absl::StatusOr<std::string> srvr =
      FourLetterWord(host_port(), "srvr", absl::Now() + absl::Milliseconds(1000));
  if (!srvr.ok()) return srvr.status();
  return ParseSrvrMode(*srvr);
}

std::string ZooKeeperProcess::LogTail(size_t max_bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  if (!in) return "(no log)";
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string log = buffer.str();
  if (log.size() > max_bytes) log = absl::StrCat("...", log.substr(log.size() - max_bytes));
  return log;
}

bool ZooKeeperProcess::LogShowsBindCollision() const {
  // Only the current run matters: look after the last start marker.
  const std::string log = LogTail(1 << 20);
  const size_t run = log.rfind("==== zkcpp test support: starting");
  const std::string_view current =
      std::string_view(log).substr(run == std::string::npos ? 0 : run);
  return absl::StrContains(AsAbsl(current), "BindException") ||
         absl::StrContains(AsAbsl(current), "Address already in use");
}

}  // namespace zk::testing
