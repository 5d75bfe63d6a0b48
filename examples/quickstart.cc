// zkcpp quickstart: a short tour of zk::Client against a ZooKeeper server.
//
// By default it starts zkcpp's embedded server in-process (no Java needed); with
// --connect=host:port,... it talks to a real ensemble instead. It creates nodes, reads them,
// watches a change, runs a multi, and shows what happens to an ephemeral node when its session
// is expired on the server.

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "zk/client.h"
#include "zk/testing/embedded_server.h"

ABSL_FLAG(std::string, connect, "",
          "ZooKeeper connect string; empty = start an embedded server in-process");

namespace {

void Step(const char* what) { std::printf("\n== %s\n", what); }

// "NOT_FOUND: get /x: node does not exist (NONODE)": the code and the message, without the
// payloads (ZooKeeper's code is already in the message).
std::string Describe(const absl::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
}

template <typename T>
void Show(const char* what, const absl::StatusOr<T>& result) {
  std::printf("  %-34s %s\n", what, result.ok() ? "OK" : Describe(result.status()).c_str());
}

absl::Status Tour(const std::string& connect,
                  zk::testing::EmbeddedServer* server /* null for an external ensemble */) {
  Step("connect");
  ZK_ASSIGN_OR_RETURN(
      std::unique_ptr<zk::Client> client,
      zk::Client::Connect({.connect_string = connect,
                           .session_timeout = std::chrono::seconds(4),
                           // The C library logs a lost connection or an expiry as an error; show
                           // those lines short and attributed instead of raw on stderr.
                           .log_sink = [](zk::LogLevel, std::string_view line) {
                             const size_t at = line.find(": ", line.find('@'));
                             if (at != std::string_view::npos) line.remove_prefix(at + 2);
                             std::printf("  [libzookeeper] %.*s\n",
                                         static_cast<int>(line.size()), line.data());
                           }}));
  zk::Subscription states = client->SubscribeSessionEvents([](const zk::SessionEvent& e) {
    std::printf("  [session] %s (session 0x%llx%s)\n",
                std::string(zk::SessionStateName(e.state)).c_str(),
                static_cast<unsigned long long>(e.session_id), e.new_session ? ", new" : "");
  });
  ZK_RETURN_IF_ERROR(client->WaitUntilConnected(std::chrono::seconds(10)));
  ZK_RETURN_IF_ERROR(client->DeleteRecursive("/quickstart"));

  Step("create, read, compare-and-set");
  ZK_ASSIGN_OR_RETURN(zk::CreateResult config,
                      client->Create("/quickstart/config", "color=blue", {.create_parents = true}));
  std::printf("  created %s (czxid %lld)\n", config.path.c_str(),
              static_cast<long long>(config.stat.czxid));
  ZK_ASSIGN_OR_RETURN(zk::GetResult got, client->Get("/quickstart/config"));
  std::printf("  read \"%s\" at version %d\n", got.data.c_str(), got.stat.version);
  Show("set with the version just read:", client->Set("/quickstart/config", "color=green",
                                                      got.stat.version));
  Show("set with a stale version:", client->Set("/quickstart/config", "color=red",
                                                got.stat.version));
  Show("get of a missing node:", client->Get("/quickstart/missing"));
  Show("create with a bad path:", client->Create("/quickstart//x", ""));

  Step("watch a change");
  absl::Notification changed;
  ZK_ASSIGN_OR_RETURN(zk::Watched<zk::GetResult> watched,
                      client->GetAndWatch("/quickstart/config", [&](const zk::WatchEvent& e) {
                        std::printf("  [watch] %s %s\n",
                                    std::string(zk::WatchEventTypeName(e.type)).c_str(),
                                    e.path.c_str());
                        changed.Notify();
                      }));
  ZK_RETURN_IF_ERROR(client->Set("/quickstart/config", "color=orange").status());
  changed.WaitForNotificationWithTimeout(absl::Seconds(5));

  Step("multi: all or nothing");
  absl::StatusOr<zk::MultiResult> multi = client->Multi(
      {zk::op::Create{.path = "/quickstart/a"}, zk::op::Create{.path = "/quickstart/config"},
       zk::op::Create{.path = "/quickstart/b"}});
  Show("multi with a clashing create:", multi);
  std::printf("  failed op index: %zu; /quickstart/a exists: %s\n",
              zk::FailedOpIndex(multi.status()).value_or(99),
              client->Exists("/quickstart/a").value_or(std::nullopt) ? "yes" : "no");

  Step("sequential + ephemeral nodes");
  for (int i = 0; i < 3; ++i) {
    ZK_ASSIGN_OR_RETURN(zk::CreateResult item,
                        client->Create("/quickstart/queue/item-", "",
                                       {.mode = zk::CreateMode::kEphemeralSequential,
                                        .create_parents = true}));
    std::printf("  %s\n", item.path.c_str());
  }

  if (server != nullptr) {
    Step("the server expires our session");
    ZK_RETURN_IF_ERROR(server->ExpireSession(client->session_id()));
    ZK_RETURN_IF_ERROR(client->WaitUntilConnected(std::chrono::seconds(10)));
    // The new session reconnects by itself; the ephemerals of the old one are gone.
    ZK_ASSIGN_OR_RETURN(zk::ChildrenResult queue, client->GetChildren("/quickstart/queue"));
    std::printf("  ephemerals left after expiry: %zu\n", queue.children.size());
  }
  ZK_RETURN_IF_ERROR(client->DeleteRecursive("/quickstart"));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::string connect = absl::GetFlag(FLAGS_connect);
  std::unique_ptr<zk::testing::EmbeddedServer> server;
  if (connect.empty()) {
    absl::StatusOr<std::unique_ptr<zk::testing::EmbeddedServer>> started =
        zk::testing::EmbeddedServer::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start the embedded server: %s\n",
                   started.status().ToString().c_str());
      return 1;
    }
    server = *std::move(started);
    connect = server->connect_string();
    std::printf("embedded ZooKeeper-compatible server at %s\n", connect.c_str());
  }
  absl::Status status = Tour(connect, server.get());
  if (!status.ok()) {
    std::fprintf(stderr, "quickstart failed: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("\ndone.\n");
  return 0;
}
