#include "zk/testing/real_zookeeper.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "harness/net.h"
#include "harness/raw_session.h"
#include "harness/zookeeper_process.h"

namespace zk::testing {

absl::StatusOr<std::unique_ptr<RealZooKeeper>> RealZooKeeper::Start(
    RealZooKeeperOptions options) {
  absl::Status last = absl::InternalError("start ZooKeeper: no attempt made");
  for (int attempt = 0; attempt < std::max(1, options.start_attempts); ++attempt) {
    absl::StatusOr<std::vector<int>> ports = PickFreeLoopbackPorts(options.tls ? 2 : 1);
    if (!ports.ok()) return ports.status();
    absl::StatusOr<std::string> dir = MakeTempDir("zkcpp-real-zk-");
    if (!dir.ok()) return dir.status();
    const int port = (*ports)[0];
    const int secure_port = options.tls ? (*ports)[1] : -1;
    ZooKeeperJvmOptions jvm = options.jvm;
    std::map<std::string, std::string> config = DefaultZooKeeperConfig(jvm, port);
    if (options.tls) AddTlsServerSettings(*options.tls, secure_port, jvm, config);
    if (!options.sasl_users.empty()) {
      if (absl::Status sasl = AddSaslServerSettings(options.sasl_users, *dir, jvm); !sasl.ok()) {
        RemoveTempDir(*dir);
        return sasl;
      }
    }
    auto process =
        std::make_unique<ZooKeeperProcess>(*dir, port, std::move(config), /*myid=*/0,
                                           std::move(jvm), std::vector<std::string>{"standalone"});
    last = process->Start();
    if (last.ok()) {
      return std::unique_ptr<RealZooKeeper>(
          new RealZooKeeper(*dir, std::move(process), secure_port));
    }
    const bool collision = process->LogShowsBindCollision();
    process.reset();
    RemoveTempDir(*dir);
    // Only a port taken by someone else is worth another try; anything else would repeat.
    if (!collision) break;
  }
  return last;
}

RealZooKeeper::RealZooKeeper(std::string directory, std::unique_ptr<ZooKeeperProcess> process,
                             int secure_port)
    : directory_(std::move(directory)), secure_port_(secure_port), process_(std::move(process)) {}

RealZooKeeper::~RealZooKeeper() {
  {
    absl::MutexLock lock(&mutex_);
    (void)process_->Kill();
  }
  RemoveTempDir(directory_);
}

std::string RealZooKeeper::connect_string() const {
  // The port and directory never change: no lock needed, but keep the analysis happy.
  absl::MutexLock lock(&mutex_);
  return process_->host_port();
}

int RealZooKeeper::port() const {
  absl::MutexLock lock(&mutex_);
  return process_->client_port();
}

std::string RealZooKeeper::secure_connect_string() const {
  return secure_port_ < 0 ? "" : absl::StrCat("127.0.0.1:", secure_port_);
}

int RealZooKeeper::secure_port() const { return secure_port_; }

std::string RealZooKeeper::directory() const { return directory_; }

pid_t RealZooKeeper::pid() const {
  absl::MutexLock lock(&mutex_);
  return process_->pid();
}

bool RealZooKeeper::running() const {
  absl::MutexLock lock(&mutex_);
  return process_->running();
}

absl::Status RealZooKeeper::Stop() {
  absl::MutexLock lock(&mutex_);
  return process_->Stop();
}

absl::Status RealZooKeeper::Kill() {
  absl::MutexLock lock(&mutex_);
  return process_->Kill();
}

absl::Status RealZooKeeper::Restart() {
  absl::MutexLock lock(&mutex_);
  if (process_->running()) (void)process_->Kill();
  return process_->Start();
}

absl::Status RealZooKeeper::Pause() {
  absl::MutexLock lock(&mutex_);
  return process_->Pause();
}

absl::Status RealZooKeeper::Resume() {
  absl::MutexLock lock(&mutex_);
  return process_->Resume();
}

absl::Status RealZooKeeper::ExpireSession(int64_t session_id, std::string_view password) {
  // Not under the lock: the expiry talks to the server, which must not block a Pause/Kill.
  return ForceExpireSession(connect_string(), session_id, password);
}

std::string RealZooKeeper::LogTail(size_t max_bytes) const {
  absl::MutexLock lock(&mutex_);
  return process_->LogTail(max_bytes);
}

}  // namespace zk::testing
