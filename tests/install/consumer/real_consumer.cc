// Uses the installed real-ZooKeeper harness from outside the source tree: starts Debian's
// ZooKeeper as a standalone server, connects a client, writes and reads a node, expires the
// session on the server and checks that the client reports the loss and opens a new session.
// Exits 0 and prints "real consumer ok" when all of that worked, 77 (the automake "skipped"
// code) when Debian's zookeeper package is not installed, 1 otherwise.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "zk/client.h"
#include "zk/testing/real_zookeeper.h"

namespace {

constexpr int kSkipped = 77;

// Collects the client's session events so that the main thread can wait for one.
class SessionEvents {
 public:
  void Add(const zk::SessionEvent& event) {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(event);
    changed_.notify_all();
  }

  // Waits until an event with `state` (and, for kReconnected, new_session) arrived.
  absl::Status WaitFor(zk::SessionState state, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool seen = changed_.wait_for(lock, timeout, [&] {
      for (const zk::SessionEvent& event : events_) {
        if (event.state != state) continue;
        if (state == zk::SessionState::kReconnected && !event.new_session) continue;
        return true;
      }
      return false;
    });
    if (seen) return absl::OkStatus();
    return absl::DeadlineExceededError(
        absl::StrCat("wait for session event ", std::string(zk::SessionStateName(state)),
                     ": none within the timeout"));
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<zk::SessionEvent> events_;
};

absl::Status Run(zk::testing::RealZooKeeper& server) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client,
                      zk::Client::Connect({.connect_string = server.connect_string()}));
  SessionEvents events;
  zk::Subscription subscription =
      client->SubscribeSessionEvents([&](const zk::SessionEvent& event) { events.Add(event); });
  ZK_RETURN_IF_ERROR(client->WaitUntilConnected(std::chrono::seconds(10)));
  ZK_RETURN_IF_ERROR(client->Create("/real-consumer", "installed").status());
  ZK_ASSIGN_OR_RETURN(zk::GetResult got, client->Get("/real-consumer"));
  if (got.data != "installed") return absl::InternalError("read back other data");

  const int64_t old_session = client->session_id();
  ZK_RETURN_IF_ERROR(server.ExpireSession(old_session, client->session_password()));
  ZK_RETURN_IF_ERROR(events.WaitFor(zk::SessionState::kLost, std::chrono::seconds(30)));
  ZK_RETURN_IF_ERROR(events.WaitFor(zk::SessionState::kReconnected, std::chrono::seconds(30)));
  if (client->session_id() == old_session) {
    return absl::InternalError("the client reported a new session but kept the old id");
  }
  // The new session serves: the persistent node outlived the expired session.
  ZK_ASSIGN_OR_RETURN(zk::GetResult again, client->Get("/real-consumer"));
  if (again.data != "installed") return absl::InternalError("read back other data after expiry");
  std::printf("session %llx expired, new session %llx\n",
              static_cast<unsigned long long>(old_session),
              static_cast<unsigned long long>(client->session_id()));
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::StatusOr<std::unique_ptr<zk::testing::RealZooKeeper>> server =
      zk::testing::RealZooKeeper::Start();
  if (absl::IsFailedPrecondition(server.status())) {
    // The only expected reason: the jars of Debian's zookeeper package are absent.
    std::printf("real consumer skipped: %s\n", server.status().ToString().c_str());
    return kSkipped;
  }
  if (!server.ok()) {
    std::fprintf(stderr, "real consumer failed: %s\n", server.status().ToString().c_str());
    return 1;
  }
  if (absl::Status status = Run(**server); !status.ok()) {
    std::fprintf(stderr, "real consumer failed: %s\nserver log:\n%s\n",
                 status.ToString().c_str(), (*server)->LogTail().c_str());
    return 1;
  }
  std::printf("real consumer ok\n");
  return 0;
}
