// Uses an installed zkcpp from outside the source tree: starts the embedded server, connects a
// client, writes and reads a node, and takes a lock. Exits 0 and prints "consumer ok" when all
// of that worked.

#include <chrono>
#include <cstdio>
#include <memory>

#include "zk/client.h"
#include "zk/recipes/lock.h"
#include "zk/testing/embedded_server.h"

namespace {

absl::Status Run() {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::testing::EmbeddedServer> server,
                      zk::testing::EmbeddedServer::Start());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client,
                      zk::Client::Connect({.connect_string = server->connect_string()}));
  ZK_RETURN_IF_ERROR(client->WaitUntilConnected(std::chrono::seconds(10)));
  ZK_RETURN_IF_ERROR(client->Create("/consumer", "installed").status());
  ZK_ASSIGN_OR_RETURN(zk::GetResult got, client->Get("/consumer"));
  if (got.data != "installed") return absl::InternalError("read back other data");
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Lock> lock,
                      zk::recipes::Lock::Create(*client, "/consumer-lock"));
  ZK_ASSIGN_OR_RETURN(zk::recipes::LockGuard guard, lock->Acquire(std::chrono::seconds(10)));
  std::printf("lock held, fencing token %lld\n", static_cast<long long>(guard.fencing_token()));
  return absl::OkStatus();
}

}  // namespace

int main() {
  if (absl::Status status = Run(); !status.ok()) {
    std::fprintf(stderr, "consumer failed: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("consumer ok\n");
  return 0;
}
