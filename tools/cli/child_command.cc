#include "cli/child_command.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace zk::cli {

absl::StatusOr<std::unique_ptr<ChildCommand>> ChildCommand::Start(
    const std::vector<std::string>& argv, const Environment& extra_env) {
  if (argv.empty()) return absl::InvalidArgumentError("run: no command given");
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : extra_env) env_strings.push_back(absl::StrCat(name, "=", value));
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    bool replaced = false;
    for (const auto& [name, value] : extra_env) {
      replaced = replaced ||
                 (std::strncmp(*e, name.c_str(), name.size()) == 0 && (*e)[name.size()] == '=');
    }
    if (!replaced) envp.push_back(*e);
  }
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> c_argv;
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  pid_t pid = -1;
  const int error =
      posix_spawnp(&pid, c_argv[0], &actions, &attributes, c_argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) {
    std::string message = absl::StrCat("run ", argv[0], ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    if (error == EACCES) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  return std::unique_ptr<ChildCommand>(new ChildCommand(pid));
}

ChildCommand::~ChildCommand() {
  if (!reaped_) Wait();
}

void ChildCommand::Signal(int signal) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!exited_) ::kill(pid_, signal);
}

int ChildCommand::Wait() {
  // Wait for the exit without reaping, so that Signal never hits a reused pid.
  siginfo_t info;
  while (::waitid(P_PID, pid_, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    exited_ = true;
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace zk::cli
