#include "zookeeper_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace zkbench {
namespace {

constexpr char kClasspath[] =
    "/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:"
    "/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar";

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Asks the kernel for a free loopback port. Another process may take it before the JVM binds it;
// Start() retries with a new port when the JVM dies early.
absl::StatusOr<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    absl::Status status = Errno("bind");
    close(fd);
    return status;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

// Forks and execs the server with stdout/stderr into `log_path`. Everything the child does between
// fork and exec is async-signal-safe (the parent may have threads).
absl::StatusOr<pid_t> SpawnServer(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Errno("open " + log_path);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    absl::Status status = Errno("fork");
    close(log_fd);
    return status;
  }
  if (pid == 0) {
    // Dies with the benchmark, even if it is SIGKILLed or crashes.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  return pid;
}

void KillAndReap(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

absl::StatusOr<std::string> FourLetterWord(int port, const std::string& word) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  timeval timeout{.tv_sec = 2, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    absl::Status status = absl::UnavailableError(absl::StrCat("connect: ", std::strerror(errno)));
    close(fd);
    return status;
  }
  std::string reply;
  if (send(fd, word.data(), word.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(word.size())) {
    char buffer[4096];
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) reply.append(buffer, n);
  }
  close(fd);
  return reply;
}

absl::StatusOr<std::unique_ptr<ZooKeeperServer>> ZooKeeperServer::Start(
    ZooKeeperServerOptions options) {
  char dir_template[] = "/tmp/zkcpp-bench-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return Errno("mkdtemp");
  const std::string dir = dir_template;
  std::error_code ec;
  std::filesystem::create_directories(dir + "/data", ec);
  auto cleanup_dir = [&] {
    if (!options.keep_directory) std::filesystem::remove_all(dir, ec);
  };

  absl::Status last_error = absl::UnavailableError("not started");
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<int> port = PickFreePort();
    if (!port.ok()) {
      cleanup_dir();
      return port.status();
    }
    const std::string cfg_path = dir + "/zoo.cfg";
    {
      std::ofstream cfg(cfg_path, std::ios::trunc);
      cfg << "tickTime=" << options.tick_time_ms << "\n"
          << "initLimit=10\nsyncLimit=5\n"
          << "dataDir=" << dir << "/data\n"
          << "clientPort=" << *port << "\n"
          << "clientPortAddress=127.0.0.1\n"
          << "maxClientCnxns=0\n"
          << "admin.enableServer=false\n"
          << "4lw.commands.whitelist=srvr,ruok,stat,mntr\n"
          << "forceSync=" << (options.force_sync ? "yes" : "no") << "\n";
      if (!cfg) {
        cleanup_dir();
        return Errno("write " + cfg_path);
      }
    }
    const std::string log_path = dir + "/server.log";
    std::vector<std::string> args =
        {options.java, absl::StrCat("-Xms", options.heap), absl::StrCat("-Xmx", options.max_heap),
         "-Dzookeeper.admin.enableServer=false", "-cp", kClasspath,
         "org.apache.zookeeper.server.ZooKeeperServerMain", cfg_path};
    if (!options.embedded_binary.empty()) {
      // As the JVM's zoo.cfg above (maxClientCnxns=0): no per-IP connection limit.
      args = {options.embedded_binary, absl::StrCat("--port=", *port),
              absl::StrCat("--tick_time_ms=", options.tick_time_ms), "--max_client_cnxns=0"};
    }
    absl::StatusOr<pid_t> pid = SpawnServer(args, log_path);
    if (!pid.ok()) {
      cleanup_dir();
      return pid.status();
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options.start_timeout_seconds);
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(*pid, nullptr, WNOHANG) == *pid) {
        exited = true;
        break;
      }
      absl::StatusOr<std::string> reply = FourLetterWord(*port, "srvr");
      if (reply.ok() && reply->find("Mode: standalone") != std::string::npos) {
        return std::unique_ptr<ZooKeeperServer>(
            new ZooKeeperServer(dir, *port, *pid, options.keep_directory));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(options.ready_poll_ms));
    }
    if (!exited) KillAndReap(*pid);
    last_error = absl::UnavailableError(
        absl::StrCat(exited ? "the server exited during start" : "the server did not serve in time",
                     "; log tail:\n", FileTail(log_path, 2000)));
    // Only an early exit (typically a port taken meanwhile) is worth another attempt.
    if (!exited) break;
  }
  cleanup_dir();
  return last_error;
}

ZooKeeperServer::~ZooKeeperServer() {
  KillAndReap(pid_);
  if (!keep_) {
    std::error_code ec;
    std::filesystem::remove_all(directory_, ec);
  }
}

std::string ZooKeeperServer::connect_string() const { return absl::StrCat("127.0.0.1:", port_); }

}  // namespace zkbench
