#include "zk/testing/real_ensemble.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "harness/net.h"
#include "harness/raw_session.h"
#include "harness/zookeeper_process.h"

namespace zk::testing {
namespace {

std::vector<std::string> ReadyModes(bool read_only_mode) {
  std::vector<std::string> modes = {"leader", "follower"};
  if (read_only_mode) modes.push_back("read-only");
  return modes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RealEnsemble>> RealEnsemble::Start(RealEnsembleOptions options) {
  if (options.size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("start ensemble: size ", options.size, " < 1"));
  }
  if (options.read_only_mode) options.jvm.jvm_properties["readonlymode.enabled"] = "true";
  absl::Status last = absl::InternalError("start ensemble: no attempt made");
  for (int attempt = 0; attempt < std::max(1, options.start_attempts); ++attempt) {
    // Client, quorum, election (and TLS) port per member, all distinct.
    const int ports_per_member = options.tls ? 4 : 3;
    absl::StatusOr<std::vector<int>> ports =
        PickFreeLoopbackPorts(ports_per_member * options.size);
    if (!ports.ok()) return ports.status();
    std::vector<std::string> directories;
    std::vector<std::unique_ptr<ZooKeeperProcess>> members;
    auto cleanup = [&] {
      members.clear();  // Kills the JVMs.
      for (const std::string& dir : directories) RemoveTempDir(dir);
    };
    std::vector<int> secure_ports;
    std::map<std::string, std::string> servers;
    for (int i = 0; i < options.size; ++i) {
      const int client = (*ports)[ports_per_member * i];
      const int quorum = (*ports)[ports_per_member * i + 1];
      const int election = (*ports)[ports_per_member * i + 2];
      servers[absl::StrCat("server.", i + 1)] =
          absl::StrCat("127.0.0.1:", quorum, ":", election, ";127.0.0.1:", client);
    }
    absl::Status created = absl::OkStatus();
    for (int i = 0; i < options.size && created.ok(); ++i) {
      absl::StatusOr<std::string> dir = MakeTempDir(absl::StrCat("zkcpp-real-ens", i + 1, "-"));
      if (!dir.ok()) {
        created = dir.status();
        break;
      }
      directories.push_back(*dir);
      const int client = (*ports)[ports_per_member * i];
      ZooKeeperJvmOptions jvm = options.jvm;
      std::map<std::string, std::string> config = DefaultZooKeeperConfig(jvm, client);
      if (options.tls) {
        secure_ports.push_back((*ports)[ports_per_member * i + 3]);
        AddTlsServerSettings(*options.tls, secure_ports.back(), jvm, config);
      }
      // Even a one-member ensemble runs the quorum code (leader), like the larger ones.
      config.emplace("standaloneEnabled", "false");
      for (const auto& [key, value] : servers) config[key] = value;
      members.push_back(std::make_unique<ZooKeeperProcess>(
          *dir, client, std::move(config), /*myid=*/i + 1, std::move(jvm),
          ReadyModes(options.read_only_mode)));
    }
    if (!created.ok()) {
      cleanup();
      return created;
    }
    // Launch all first: no member can serve before a quorum runs.
    for (auto& member : members) {
      if (created = member->Launch(); !created.ok()) break;
    }
    const absl::Time deadline = absl::Now() + options.jvm.start_timeout;
    for (auto& member : members) {
      if (!created.ok()) break;
      created = member->WaitUntilServing(deadline);
    }
    if (created.ok()) {
      auto ensemble = std::unique_ptr<RealEnsemble>(
          new RealEnsemble(std::move(directories), std::move(members), std::move(secure_ports),
                           options.jvm.start_timeout));
      absl::Status quorum;
      {
        absl::ReaderMutexLock lock(&ensemble->mutex_);
        quorum = ensemble->WaitForQuorumLocked(deadline);
      }
      if (quorum.ok()) return ensemble;
      return quorum;  // The destructor cleans up.
    }
    bool collision = false;
    for (auto& member : members) collision = collision || member->LogShowsBindCollision();
    last = created;
    cleanup();
    if (!collision) break;
  }
  return last;
}

RealEnsemble::RealEnsemble(std::vector<std::string> directories,
                           std::vector<std::unique_ptr<ZooKeeperProcess>> members,
                           std::vector<int> secure_ports, absl::Duration start_timeout)
    : size_(static_cast<int>(members.size())),
      start_timeout_(start_timeout),
      directories_(std::move(directories)),
      secure_ports_(std::move(secure_ports)),
      members_(std::move(members)) {}

RealEnsemble::~RealEnsemble() {
  {
    absl::MutexLock lock(&mutex_);
    for (const auto& member : members_) (void)member->Kill();
  }
  for (const std::string& dir : directories_) RemoveTempDir(dir);
}

absl::Status RealEnsemble::CheckIndex(int i, std::string_view op) const {
  if (i < 0 || i >= size_) {
    return absl::OutOfRangeError(
        absl::StrCat(AsAbsl(op), ": member index ", i, " not in [0, ", size_, ")"));
  }
  return absl::OkStatus();
}

absl::Status RealEnsemble::ExpireSession(int64_t session_id, std::string_view password) {
  // Any serving member can close the session (the request goes through the leader). The
  // addresses are read under the lock, the network is talked to without it.
  std::vector<std::string> running;
  {
    absl::ReaderMutexLock lock(&mutex_);
    for (const auto& member : members_) {
      if (member->running()) running.push_back(member->host_port());
    }
  }
  absl::Status last = absl::UnavailableError("expire session: no member is running");
  for (const std::string& host_port : running) {
    last = ForceExpireSession(host_port, session_id, password);
    // Aborted is the server's answer about the session: another member would say the same.
    if (last.ok() || absl::IsAborted(last)) return last;
  }
  return last;
}

std::string RealEnsemble::connect_string() const {
  absl::ReaderMutexLock lock(&mutex_);
  std::vector<std::string> hosts;
  for (const auto& member : members_) hosts.push_back(member->host_port());
  return absl::StrJoin(hosts, ",");
}

std::string RealEnsemble::member_connect_string(int i) const {
  absl::ReaderMutexLock lock(&mutex_);
  return members_.at(i)->host_port();
}

std::string RealEnsemble::secure_connect_string() const {
  std::vector<std::string> hosts;
  for (int port : secure_ports_) hosts.push_back(absl::StrCat("127.0.0.1:", port));
  return absl::StrJoin(hosts, ",");
}

std::string RealEnsemble::member_secure_connect_string(int i) const {
  const int port = member_secure_port(i);
  return port < 0 ? "" : absl::StrCat("127.0.0.1:", port);
}

int RealEnsemble::member_secure_port(int i) const {
  (void)directories_.at(i);  // Range check, as the other per-member accessors.
  return secure_ports_.empty() ? -1 : secure_ports_[i];
}

std::string RealEnsemble::member_directory(int i) const { return directories_.at(i); }

bool RealEnsemble::member_running(int i) const {
  absl::ReaderMutexLock lock(&mutex_);
  return members_.at(i)->running();
}

absl::Status RealEnsemble::KillMember(int i) {
  if (absl::Status s = CheckIndex(i, "kill member"); !s.ok()) return s;
  absl::MutexLock lock(&mutex_);
  return members_[i]->Kill();
}

absl::Status RealEnsemble::StopMember(int i) {
  if (absl::Status s = CheckIndex(i, "stop member"); !s.ok()) return s;
  absl::MutexLock lock(&mutex_);
  return members_[i]->Stop();
}

absl::Status RealEnsemble::ReviveMember(int i) {
  if (absl::Status s = CheckIndex(i, "revive member"); !s.ok()) return s;
  absl::MutexLock lock(&mutex_);
  return members_[i]->Start();
}

absl::Status RealEnsemble::PauseMember(int i) {
  if (absl::Status s = CheckIndex(i, "pause member"); !s.ok()) return s;
  absl::MutexLock lock(&mutex_);
  return members_[i]->Pause();
}

absl::Status RealEnsemble::ResumeMember(int i) {
  if (absl::Status s = CheckIndex(i, "resume member"); !s.ok()) return s;
  absl::MutexLock lock(&mutex_);
  return members_[i]->Resume();
}

absl::Status RealEnsemble::ReviveAll() {
  absl::MutexLock lock(&mutex_);
  return ReviveAllLocked();
}

absl::Status RealEnsemble::RestartAll() {
  absl::MutexLock lock(&mutex_);
  for (const auto& member : members_) {
    if (member->running()) (void)member->Kill();
  }
  return ReviveAllLocked();
}

absl::Status RealEnsemble::ReviveAllLocked() {
  const absl::Time deadline = absl::Now() + start_timeout_;
  for (const auto& member : members_) {
    if (member->paused()) {
      if (absl::Status s = member->Resume(); !s.ok()) return s;
    }
    if (!member->running()) {
      if (absl::Status s = member->Launch(); !s.ok()) return s;
    }
  }
  for (const auto& member : members_) {
    if (absl::Status s = member->WaitUntilServing(deadline); !s.ok()) return s;
  }
  return WaitForQuorumLocked(deadline);
}

absl::StatusOr<std::string> RealEnsemble::MemberMode(int i) const {
  if (absl::Status s = CheckIndex(i, "member mode"); !s.ok()) return s;
  absl::ReaderMutexLock lock(&mutex_);
  return members_[i]->Mode();
}

std::string RealEnsemble::MemberLogTail(int i, size_t max_bytes) const {
  absl::ReaderMutexLock lock(&mutex_);
  return members_.at(i)->LogTail(max_bytes);
}

absl::StatusOr<int> RealEnsemble::LeaderIndex() const {
  absl::ReaderMutexLock lock(&mutex_);
  return LeaderIndexLocked();
}

absl::StatusOr<int> RealEnsemble::LeaderIndexLocked() const {
  int leader = -1;
  for (int i = 0; i < size_; ++i) {
    if (!members_[i]->running() || members_[i]->paused()) continue;
    absl::StatusOr<std::string> mode = members_[i]->Mode();
    if (!mode.ok() || *mode != "leader") continue;
    if (leader >= 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("leader: members ", leader, " and ", i, " both claim to lead"));
    }
    leader = i;
  }
  if (leader < 0) return absl::NotFoundError("leader: no member is leading right now");
  return leader;
}

absl::Status RealEnsemble::WaitForQuorum(absl::Time deadline) const {
  absl::ReaderMutexLock lock(&mutex_);
  return WaitForQuorumLocked(deadline);
}

absl::Status RealEnsemble::WaitForQuorumLocked(absl::Time deadline) const {
  std::vector<std::string> modes(size_);
  for (;;) {
    int leaders = 0;
    bool all_serving = true;
    for (int i = 0; i < size_; ++i) {
      if (!members_[i]->running()) {
        modes[i] = "(down)";
        continue;
      }
      if (members_[i]->paused()) {
        modes[i] = "(paused)";
        continue;
      }
      absl::StatusOr<std::string> mode = members_[i]->Mode();
      modes[i] = mode.ok() ? *mode : std::string(mode.status().message());
      if (modes[i] == "leader") {
        ++leaders;
      } else if (modes[i] != "follower") {
        all_serving = false;
      }
    }
    if (all_serving && leaders == 1) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      std::string message = "ensemble: no quorum at the deadline; member modes:";
      for (int i = 0; i < size_; ++i) absl::StrAppend(&message, " [", i, "] ", modes[i]);
      for (int i = 0; i < size_; ++i) {
        absl::StrAppend(&message, "\n---- member ", i, " log tail (",
                        members_[i]->log_path(), "):\n", members_[i]->LogTail(1500));
      }
      return absl::DeadlineExceededError(message);
    }
    absl::SleepFor(absl::Milliseconds(20));  // Poll interval (elections take ~0.5 s).
  }
}

}  // namespace zk::testing
