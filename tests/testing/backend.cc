#include "testing/backend.h"

#include <stdlib.h>

#include <cstdio>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#if ZKCPP_HAVE_EMBEDDED_SERVER
#include "zk/testing/embedded_server.h"
#endif

namespace zk::testing {
namespace {

// A real standalone server. Thread-safe (RealZooKeeper is).
class RealServerBackend final : public Backend {
 public:
  explicit RealServerBackend(std::unique_ptr<RealZooKeeper> server)
      : server_(std::move(server)) {}

  BackendKind kind() const override { return BackendKind::kReal; }
  std::string connect_string() const override { return server_->connect_string(); }
  absl::Status ExpireSession(int64_t session_id, std::string_view password) override {
    return server_->ExpireSession(session_id, password);
  }
  absl::Status Restart() override { return server_->Restart(); }
  absl::Status Pause() override { return server_->Pause(); }
  absl::Status Resume() override { return server_->Resume(); }
  absl::Status EnsureServing() override {
    if (!server_->running()) return server_->Restart();
    // Resume fails only when not paused, which is what we want here.
    (void)server_->Resume();
    return absl::OkStatus();
  }

  RealZooKeeper* server() { return server_.get(); }

 private:
  const std::unique_ptr<RealZooKeeper> server_;
};

// A real ensemble. Thread-safe (RealEnsemble is).
class RealEnsembleBackend final : public Backend {
 public:
  explicit RealEnsembleBackend(std::unique_ptr<RealEnsemble> ensemble)
      : ensemble_(std::move(ensemble)) {}

  BackendKind kind() const override { return BackendKind::kReal; }
  std::string connect_string() const override { return ensemble_->connect_string(); }
  absl::Status ExpireSession(int64_t session_id, std::string_view password) override {
    return ensemble_->ExpireSession(session_id, password);
  }
  absl::Status Restart() override { return ensemble_->RestartAll(); }
  absl::Status Pause() override {
    for (int i = 0; i < ensemble_->size(); ++i) {
      if (!ensemble_->member_running(i)) continue;
      if (absl::Status s = ensemble_->PauseMember(i); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  absl::Status Resume() override {
    for (int i = 0; i < ensemble_->size(); ++i) {
      if (!ensemble_->member_running(i)) continue;
      if (absl::Status s = ensemble_->ResumeMember(i); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  absl::Status EnsureServing() override { return ensemble_->ReviveAll(); }

  RealEnsemble* ensemble() { return ensemble_.get(); }

 private:
  const std::unique_ptr<RealEnsemble> ensemble_;
};

#if ZKCPP_HAVE_EMBEDDED_SERVER
// Turns the result of an EmbeddedServer call into a status whether it returns one or not.
template <typename Call>
absl::Status CallToStatus(Call&& call) {
  if constexpr (std::is_void_v<decltype(call())>) {
    call();
    return absl::OkStatus();
  } else {
    return call();
  }
}

// The in-process embedded server. Thread-safe: the pause flag is guarded; the server's own
// calls are thread-safe by its contract.
class EmbeddedBackend final : public Backend {
 public:
  explicit EmbeddedBackend(std::unique_ptr<EmbeddedServer> server) : server_(std::move(server)) {}

  BackendKind kind() const override { return BackendKind::kEmbedded; }
  std::string connect_string() const override { return std::string(server_->connect_string()); }
  absl::Status ExpireSession(int64_t session_id, std::string_view password) override {
    // The embedded server knows its sessions; the password only matters on the real one.
    absl::Status expired = CallToStatus([&] { return server_->ExpireSession(session_id); });
    // Same code as the real backend for an unknown session, so tests read alike.
    if (absl::IsNotFound(expired)) return absl::AbortedError(expired.message());
    return expired;
  }
  absl::Status Restart() override {
    absl::MutexLock lock(&mutex_);
    // A real server that restarts serves again; a paused embedded one must be resumed too.
    if (paused_) server_->Resume();
    paused_ = false;
    return CallToStatus([&] { return server_->Restart(); });
  }
  absl::Status Pause() override {
    absl::MutexLock lock(&mutex_);
    if (paused_) return absl::FailedPreconditionError("pause embedded server: already paused");
    absl::Status s = CallToStatus([&] { return server_->Pause(); });
    if (s.ok()) paused_ = true;
    return s;
  }
  absl::Status Resume() override {
    absl::MutexLock lock(&mutex_);
    if (!paused_) return absl::FailedPreconditionError("resume embedded server: not paused");
    absl::Status s = CallToStatus([&] { return server_->Resume(); });
    if (s.ok()) paused_ = false;
    return s;
  }
  EmbeddedServer* server() { return server_.get(); }

  absl::Status EnsureServing() override {
    absl::MutexLock lock(&mutex_);
    if (!paused_) return absl::OkStatus();
    absl::Status s = CallToStatus([&] { return server_->Resume(); });
    if (s.ok()) paused_ = false;
    return s;
  }

 private:
  const std::unique_ptr<EmbeddedServer> server_;
  absl::Mutex mutex_;
  bool paused_ ABSL_GUARDED_BY(mutex_) = false;
};
#endif  // ZKCPP_HAVE_EMBEDDED_SERVER

std::vector<BackendKind> CompiledInBackends() {
  std::vector<BackendKind> kinds;
#if ZKCPP_HAVE_EMBEDDED_SERVER
  kinds.push_back(BackendKind::kEmbedded);
#endif
  kinds.push_back(BackendKind::kReal);
  return kinds;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> StartRealBackend(RealZooKeeperOptions options) {
  absl::StatusOr<std::unique_ptr<RealZooKeeper>> server = RealZooKeeper::Start(std::move(options));
  if (!server.ok()) return server.status();
  return std::make_unique<RealServerBackend>(std::move(*server));
}

absl::StatusOr<std::unique_ptr<Backend>> StartRealEnsembleBackend(RealEnsembleOptions options) {
  absl::StatusOr<std::unique_ptr<RealEnsemble>> ensemble =
      RealEnsemble::Start(std::move(options));
  if (!ensemble.ok()) return ensemble.status();
  return std::make_unique<RealEnsembleBackend>(std::move(*ensemble));
}

absl::StatusOr<std::unique_ptr<Backend>> StartBackend(BackendKind kind) {
  switch (kind) {
    case BackendKind::kReal:
      return StartRealBackend({});
    case BackendKind::kEmbedded: {
#if ZKCPP_HAVE_EMBEDDED_SERVER
      absl::StatusOr<std::unique_ptr<EmbeddedServer>> server =
          EmbeddedServer::Start(EmbeddedServerOptions{
              // As the real backend: "super" with password "test".
              .super_digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
              // As the real backend (maxClientCnxns=0): tests may open many sessions.
              .max_client_connections = 0,
          });
      if (!server.ok()) return server.status();
      return std::make_unique<EmbeddedBackend>(std::move(*server));
#else
      return absl::UnimplementedError(
          "start embedded backend: zkcpp_test_support was built without the embedded server "
          "(CMake target zkcpp_testing missing)");
#endif
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("start backend: unknown kind ", static_cast<int>(kind)));
}

std::string BackendName(BackendKind kind) {
  switch (kind) {
    case BackendKind::kEmbedded:
      return "Embedded";
    case BackendKind::kReal:
      return "Real";
  }
  return absl::StrCat("Kind", static_cast<int>(kind));
}

void PrintTo(BackendKind kind, std::ostream* os) { *os << BackendName(kind); }

std::vector<BackendKind> AvailableBackends() {
  const std::vector<BackendKind> compiled = CompiledInBackends();
  const char* env = ::getenv("ZKCPP_BACKENDS");
  if (env == nullptr || *env == '\0') return compiled;
  bool want_embedded = false;
  bool want_real = false;
  for (absl::string_view name : absl::StrSplit(env, ',', absl::SkipWhitespace())) {
    const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
    if (lower == "embedded") {
      want_embedded = true;
    } else if (lower == "real") {
      want_real = true;
    } else {
      std::fprintf(stderr, "zkcpp test support: ZKCPP_BACKENDS: unknown backend \"%s\"\n",
                   lower.c_str());
    }
  }
  std::vector<BackendKind> kinds;
  for (BackendKind kind : compiled) {
    if ((kind == BackendKind::kEmbedded && want_embedded) ||
        (kind == BackendKind::kReal && want_real)) {
      kinds.push_back(kind);
    }
  }
  return kinds;
}

RealZooKeeper* AsRealZooKeeper(Backend& backend) {
  auto* real = dynamic_cast<RealServerBackend*>(&backend);
  return real != nullptr ? real->server() : nullptr;
}

RealEnsemble* AsRealEnsemble(Backend& backend) {
  auto* real = dynamic_cast<RealEnsembleBackend*>(&backend);
  return real != nullptr ? real->ensemble() : nullptr;
}

#if ZKCPP_HAVE_EMBEDDED_SERVER
EmbeddedServer* AsEmbeddedServer(Backend& backend) {
  auto* embedded = dynamic_cast<EmbeddedBackend*>(&backend);
  return embedded != nullptr ? embedded->server() : nullptr;
}
#endif

}  // namespace zk::testing
