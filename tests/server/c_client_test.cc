// Integration tests: Debian's libzookeeper_st (a foreign client) against the
// embedded server.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "raw_client.h"
#include "st_client.h"
#include "test_util.h"
#include "zk/testing/embedded_server.h"

namespace zk::testing {
namespace {

using namespace std::chrono_literals;

bool Contains(const std::vector<int64_t>& ids, int64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

class CClientTest : public ::testing::Test {
 protected:
  void StartServer(EmbeddedServerOptions options) {
    auto server = EmbeddedServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void SetUp() override { StartServer({.tick_time = 100ms}); }

  std::unique_ptr<StClient> Connect(int timeout_ms = 2000, int flags = 0) {
    auto client = std::make_unique<StClient>(server_->connect_string(), timeout_ms, nullptr, flags);
    EXPECT_TRUE(client->WaitConnected());
    return client;
  }

  std::unique_ptr<EmbeddedServer> server_;
};

TEST_F(CClientTest, CrudStatFieldsAndZxids) {
  auto client = Connect();
  EXPECT_EQ(client->recv_timeout(), 2000);
  Stat stat{};
  std::string created;
  ASSERT_EQ(client->Create2("/a", "hello", 0, &created, &stat), ZOK);
  EXPECT_EQ(created, "/a");
  EXPECT_EQ(stat.czxid, 2);  // zxid 1 was the createSession txn
  EXPECT_EQ(stat.mzxid, 2);
  EXPECT_EQ(stat.pzxid, 2);
  EXPECT_EQ(stat.version, 0);
  EXPECT_EQ(stat.dataLength, 5);
  EXPECT_EQ(stat.ephemeralOwner, 0);
  EXPECT_GT(stat.ctime, 0);

  std::string data;
  ASSERT_EQ(client->Get("/a", false, &data, &stat), ZOK);
  EXPECT_EQ(data, "hello");
  ASSERT_EQ(client->Set("/a", "world", 0, &stat), ZOK);
  EXPECT_EQ(stat.version, 1);
  EXPECT_EQ(stat.mzxid, 3);
  EXPECT_EQ(stat.czxid, 2);
  EXPECT_EQ(client->Set("/a", "x", 0), ZBADVERSION);
  EXPECT_EQ(client->Create("/a", ""), ZNODEEXISTS);
  EXPECT_EQ(client->Create("/x/y", ""), ZNONODE);
  EXPECT_EQ(client->Exists("/nope", false), ZNONODE);
  EXPECT_EQ(client->Delete("/a", 5), ZBADVERSION);
  ASSERT_EQ(client->Create("/a/child", ""), ZOK);
  EXPECT_EQ(client->Delete("/a"), ZNOTEMPTY);
  std::vector<std::string> children;
  ASSERT_EQ(client->GetChildren("/", false, &children, &stat), ZOK);
  EXPECT_EQ(children, (std::vector<std::string>{"a", "zookeeper"}));
  EXPECT_EQ(client->Delete("/a/child"), ZOK);
  EXPECT_EQ(client->Delete("/a"), ZOK);
  EXPECT_EQ(client->Sync("/"), ZOK);
  // Failed writes consume zxids too: 1 session, 2 create, 3 set, 4..7 failures,
  // 8 create child, 9 failed delete, 10, 11 deletes.
  EXPECT_EQ(server_->last_zxid(), 11);
}

TEST_F(CClientTest, SystemNodesAndSpecialPaths) {
  auto client = Connect();
  Stat stat{};
  ASSERT_EQ(client->Exists("/", false, &stat), ZOK);
  EXPECT_EQ(stat.cversion, -1);
  EXPECT_EQ(stat.numChildren, 1);
  ASSERT_EQ(client->Exists("/zookeeper", false, &stat), ZOK);
  EXPECT_EQ(stat.cversion, -2);
  EXPECT_EQ(stat.numChildren, 2);
  std::vector<std::string> acl;
  ASSERT_EQ(client->GetAcl("/zookeeper/config", &acl, &stat), ZOK);
  EXPECT_EQ(acl, (std::vector<std::string>{"1 world:anyone"}));
  EXPECT_EQ(stat.aversion, -1);
  EXPECT_EQ(client->Delete("/zookeeper"), ZBADARGUMENTS);
  EXPECT_EQ(client->Create("/zookeeper/quota/q", ""), ZOK);
}

TEST_F(CClientTest, SequentialNamesFollowStoredCversion) {
  auto client = Connect();
  ASSERT_EQ(client->Create("/p", ""), ZOK);
  std::string created;
  ASSERT_EQ(client->Create("/p/c", "", ZOO_PERSISTENT_SEQUENTIAL, &created), ZOK);
  EXPECT_EQ(created, "/p/c0000000000");
  ASSERT_EQ(client->Delete(created), ZOK);
  Stat stat{};
  ASSERT_EQ(client->Exists("/p", false, &stat), ZOK);
  EXPECT_EQ(stat.cversion, 2);
  EXPECT_EQ(stat.numChildren, 0);
  ASSERT_EQ(client->Create("/p/c", "", ZOO_PERSISTENT_SEQUENTIAL, &created), ZOK);
  EXPECT_EQ(created, "/p/c0000000001");

  ASSERT_EQ(client->Create("/e", "", ZOO_EPHEMERAL), ZOK);
  ASSERT_EQ(client->Exists("/e", false, &stat), ZOK);
  EXPECT_EQ(stat.ephemeralOwner, client->session_id());
  EXPECT_EQ(client->Create("/e/x", ""), ZNOCHILDRENFOREPHEMERALS);
}

TEST_F(CClientTest, WatchesFireOnceAndBeforeLaterReplies) {
  auto watcher = Connect();
  auto writer = Connect();
  ASSERT_EQ(writer->Create("/w", ""), ZOK);
  ASSERT_EQ(watcher->Get("/w", true, nullptr), ZOK);
  ASSERT_EQ(watcher->GetChildren("/w", true, nullptr), ZOK);
  EXPECT_EQ(watcher->Exists("/m", true), ZNONODE);  // still leaves a watch
  ASSERT_EQ(writer->Set("/w", "1"), ZOK);
  ASSERT_EQ(writer->Set("/w", "2"), ZOK);
  ASSERT_EQ(writer->Create("/w/k", ""), ZOK);
  ASSERT_EQ(writer->Create("/m", ""), ZOK);
  // A reply on the watcher's connection comes after every earlier event.
  ASSERT_EQ(watcher->Sync("/"), ZOK);
  EXPECT_EQ(watcher->CountEvents(ZOO_CHANGED_EVENT, "/w"), 1);
  EXPECT_EQ(watcher->CountEvents(ZOO_CHILD_EVENT, "/w"), 1);
  EXPECT_EQ(watcher->CountEvents(ZOO_CREATED_EVENT, "/m"), 1);

  ASSERT_EQ(watcher->Get("/w/k", true, nullptr), ZOK);
  ASSERT_EQ(watcher->GetChildren("/w/k", true, nullptr), ZOK);
  ASSERT_EQ(writer->Delete("/w/k"), ZOK);
  ASSERT_EQ(watcher->Sync("/"), ZOK);
  EXPECT_EQ(watcher->CountEvents(ZOO_DELETED_EVENT, "/w/k"), 1);
  EXPECT_GE(server_->counters().watches_fired, 4);
  EXPECT_GE(server_->counters().watches_set, 5);
}

TEST_F(CClientTest, RemoveWatches) {
  auto client = Connect();
  ASSERT_EQ(client->Create("/rw", ""), ZOK);
  ASSERT_EQ(client->Get("/rw", true, nullptr), ZOK);
  EXPECT_EQ(client->RemoveWatches("/rw", ZWATCHTYPE_DATA, true), ZOK);
  EXPECT_EQ(server_->counters().requests_by_op["removeWatches"], 1);
  ASSERT_EQ(client->Set("/rw", "x"), ZOK);
  EXPECT_EQ(client->CountEvents(ZOO_CHANGED_EVENT, "/rw"), 0);
}

TEST_F(CClientTest, EphemeralsGoAwayOnCloseAndOnExpiry) {
  auto observer = Connect();
  auto owner = Connect();
  ASSERT_EQ(owner->Create("/eph1", "", ZOO_EPHEMERAL), ZOK);
  ASSERT_EQ(observer->Exists("/eph1", true), ZOK);
  owner.reset();  // closeSession
  EXPECT_TRUE(observer->WaitEvent(ZOO_DELETED_EVENT, "/eph1"));

  auto doomed = Connect();
  ASSERT_EQ(doomed->Create("/eph2", "", ZOO_EPHEMERAL), ZOK);
  ASSERT_EQ(observer->Exists("/eph2", true), ZOK);
  int64_t session_id = doomed->session_id();
  ASSERT_TRUE(Contains(server_->ListSessions(), session_id));
  ASSERT_TRUE(server_->ExpireSession(session_id).ok());
  EXPECT_FALSE(Contains(server_->ListSessions(), session_id));
  EXPECT_TRUE(observer->WaitEvent(ZOO_DELETED_EVENT, "/eph2"));
  EXPECT_TRUE(doomed->WaitFor([&] { return doomed->state() == ZOO_EXPIRED_SESSION_STATE; }));
  EXPECT_EQ(doomed->CountEvents(ZOO_DELETED_EVENT, "/eph2"), 0);
  EXPECT_EQ(server_->ExpireSession(session_id).code(), absl::StatusCode::kNotFound);
}

TEST_F(CClientTest, MultiIsAtomicWithPerOpResults) {
  auto client = Connect();
  char buffers[3][64];
  std::vector<zoo_op_t> ops(3);
  zoo_create_op_init(&ops[0], "/m1", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buffers[0], 64);
  zoo_create_op_init(&ops[1], "/m1", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buffers[1], 64);
  zoo_create_op_init(&ops[2], "/m2", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buffers[2], 64);
  std::vector<zoo_op_result_t> results;
  EXPECT_EQ(client->Multi(ops, &results), ZNODEEXISTS);
  EXPECT_EQ(results[0].err, ZOK);
  EXPECT_EQ(results[1].err, ZNODEEXISTS);
  EXPECT_EQ(results[2].err, ZRUNTIMEINCONSISTENCY);
  EXPECT_EQ(client->Exists("/m1", false), ZNONODE);

  Stat stat{};
  std::vector<zoo_op_t> good(4);
  zoo_create_op_init(&good[0], "/m1", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buffers[0], 64);
  zoo_set_op_init(&good[1], "/m1", "v", 1, 0, &stat);
  zoo_check_op_init(&good[2], "/m1", 1);
  zoo_create_op_init(&good[3], "/m1/c", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_SEQUENCE, buffers[1],
                     64);
  ASSERT_EQ(client->Multi(good, &results), ZOK);
  EXPECT_STREQ(buffers[0], "/m1");
  EXPECT_STREQ(buffers[1], "/m1/c0000000000");
  EXPECT_EQ(stat.version, 1);
  Stat m1{};
  ASSERT_EQ(client->Exists("/m1", false, &m1), ZOK);
  EXPECT_EQ(m1.czxid, m1.mzxid);  // one zxid for the whole multi
}

TEST_F(CClientTest, DropConnectionKeepsSessionAndRestoresWatches) {
  auto client = Connect();
  auto writer = Connect();
  ASSERT_EQ(writer->Create("/dw", ""), ZOK);
  ASSERT_EQ(writer->Create("/deph", "", ZOO_EPHEMERAL), ZOK);
  ASSERT_EQ(client->Get("/dw", true, nullptr), ZOK);
  int64_t session_id = client->session_id();
  server_->DropConnection(session_id);
  server_->DropConnection(writer->session_id());
  ASSERT_TRUE(Contains(server_->ListSessions(), session_id));
  // The writer may only notice the drop on this call (ZCONNECTIONLOSS): retry.
  EXPECT_TRUE(writer->WaitFor([&] { return writer->Set("/dw", "changed") == ZOK; }));
  EXPECT_TRUE(client->WaitEvent(ZOO_CHANGED_EVENT, "/dw"));
  EXPECT_EQ(client->session_id(), session_id);
  EXPECT_GE(server_->counters().requests_by_op["setWatches"], 1);
  EXPECT_EQ(client->Exists("/deph", false), ZOK);

  server_->DropAllConnections();
  EXPECT_TRUE(client->WaitFor([&] { return client->Exists("/deph", false) == ZOK; }));
  EXPECT_EQ(client->session_id(), session_id);
}

TEST_F(CClientTest, ResumeWithSamePasswordAndRejectWrongPassword) {
  auto first = Connect();
  clientid_t id = *first->client_id();
  auto second = std::make_unique<StClient>(server_->connect_string(), 2000, &id);
  ASSERT_TRUE(second->WaitConnected());
  EXPECT_EQ(second->session_id(), id.client_id);
  EXPECT_EQ(server_->ListSessions().size(), 1u);

  clientid_t wrong = id;
  wrong.passwd[0] ^= 1;
  auto impostor = std::make_unique<StClient>(server_->connect_string(), 2000, &wrong);
  EXPECT_TRUE(impostor->WaitFor([&] { return impostor->state() == ZOO_EXPIRED_SESSION_STATE; }));
  EXPECT_TRUE(Contains(server_->ListSessions(), id.client_id));
}

TEST_F(CClientTest, StopAndRestartKeepTreeSessionsAndZxid) {
  auto client = Connect();
  ASSERT_EQ(client->Create("/r", "", ZOO_EPHEMERAL), ZOK);
  int64_t session_id = client->session_id();
  int64_t zxid = server_->last_zxid();
  std::string hosts = server_->connect_string();
  ASSERT_TRUE(server_->Stop().ok());
  EXPECT_EQ(server_->Stop().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(server_->running());
  EXPECT_TRUE(client->WaitFor([&] { return client->state() != ZOO_CONNECTED_STATE; }));
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(server_->connect_string(), hosts);
  ASSERT_TRUE(client->WaitConnected(8000));
  EXPECT_EQ(client->session_id(), session_id);
  EXPECT_EQ(client->Exists("/r", false), ZOK);
  EXPECT_GE(server_->last_zxid(), zxid);
}

TEST_F(CClientTest, ResponseDelayKeepsOrder) {
  auto client = Connect();
  server_->SetResponseDelay(30ms);
  ASSERT_EQ(client->Create("/slow", "v"), ZOK);
  std::string data;
  ASSERT_EQ(client->Get("/slow", false, &data), ZOK);
  EXPECT_EQ(data, "v");
  server_->SetResponseDelay(0ms);
  EXPECT_EQ(client->Delete("/slow"), ZOK);
}

TEST_F(CClientTest, HooksAndCounters) {
  std::mutex mutex;
  std::vector<RequestInfo> requests;
  std::vector<EventInfo> events;
  server_->SetRequestHook([&](const RequestInfo& info) {
    std::lock_guard<std::mutex> lock(mutex);
    requests.push_back(info);
  });
  server_->SetEventHook([&](const EventInfo& info) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(info);
  });
  auto client = Connect();
  ASSERT_EQ(client->Exists("/h", true), ZNONODE);
  ASSERT_EQ(client->Create("/h", ""), ZOK);
  ASSERT_TRUE(client->WaitEvent(ZOO_CREATED_EVENT, "/h"));
  server_->SetRequestHook(nullptr);
  server_->SetEventHook(nullptr);
  std::lock_guard<std::mutex> lock(mutex);
  bool saw_create = std::any_of(requests.begin(), requests.end(), [&](const RequestInfo& r) {
    return r.op == "create" && r.path == "/h" && r.session_id == client->session_id();
  });
  EXPECT_TRUE(saw_create);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, 1);
  EXPECT_EQ(events[0].path, "/h");
  EXPECT_EQ(events[0].session_id, client->session_id());
  EXPECT_EQ(server_->counters().requests_by_op["create"], 1);
  EXPECT_EQ(server_->counters().requests_by_op["exists"], 1);
}

TEST_F(CClientTest, HookCanInjectFaultsAfterTheRequest) {
  auto client = Connect();
  int64_t session_id = client->session_id();
  EmbeddedServer* server = server_.get();
  server_->SetRequestHook([server](const RequestInfo& info) {
    if (info.op == "create" && info.path == "/orphan") server->DropConnection(info.session_id);
  });
  int rc = client->Create("/orphan", "");
  EXPECT_TRUE(rc == ZOK || rc == ZCONNECTIONLOSS) << rc;
  server_->SetRequestHook(nullptr);
  // The create was applied although the connection dropped right after it.
  EXPECT_TRUE(client->WaitFor([&] { return client->Exists("/orphan", false) == ZOK; }));
  EXPECT_EQ(client->session_id(), session_id);
}

TEST_F(CClientTest, ContainersAndTtlNodesAreReaped) {
  auto client = Connect();
  Stat stat{};
  ASSERT_EQ(client->Create2("/c", "", ZOO_CONTAINER, nullptr, &stat), ZOK);
  EXPECT_EQ(stat.ephemeralOwner, 0);
  ASSERT_EQ(client->Create2("/never-used", "", ZOO_CONTAINER, nullptr, &stat), ZOK);
  ASSERT_EQ(client->Create("/c/x", ""), ZOK);
  ASSERT_EQ(client->Delete("/c/x"), ZOK);
  EXPECT_TRUE(client->WaitFor([&] { return client->Exists("/c", false) == ZNONODE; }));
  EXPECT_EQ(server_->counters().requests_by_op["createContainer"], 2);

  ASSERT_EQ(client->Create2("/t", "", ZOO_PERSISTENT_WITH_TTL, nullptr, &stat, 50), ZOK);
  EXPECT_EQ(stat.ephemeralOwner, 0);
  EXPECT_TRUE(client->WaitFor([&] { return client->Exists("/t", false) == ZNONODE; }));
  EXPECT_EQ(client->Exists("/never-used", false), ZOK);
  EXPECT_EQ(client->Create2("/bad-ttl", "", ZOO_PERSISTENT_WITH_TTL, nullptr, &stat, 0),
            ZBADARGUMENTS);
}

class CClientAuthTest : public CClientTest {
 protected:
  void SetUp() override {
    StartServer({.tick_time = 100ms, .super_digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="});
  }
};

TEST_F(CClientAuthTest, DigestAuthAclsAndSuperUser) {
  auto owner = Connect();
  auto stranger = Connect();
  auto admin = Connect();
  ASSERT_EQ(owner->AddAuth("digest", "u:p"), ZOK);
  ASSERT_EQ(admin->AddAuth("digest", "super:test"), ZOK);
  ASSERT_EQ(owner->Create("/secret", "s", 0, nullptr, &ZOO_CREATOR_ALL_ACL), ZOK);
  EXPECT_EQ(stranger->Get("/secret", false, nullptr), ZNOAUTH);
  EXPECT_EQ(stranger->Set("/secret", "x"), ZNOAUTH);
  EXPECT_EQ(stranger->Create("/mine", "", 0, nullptr, &ZOO_CREATOR_ALL_ACL), ZINVALIDACL);
  std::string data;
  EXPECT_EQ(owner->Get("/secret", false, &data), ZOK);
  EXPECT_EQ(data, "s");
  EXPECT_EQ(admin->Get("/secret", false, &data), ZOK);
  std::vector<std::string> acl;
  ASSERT_EQ(owner->GetAcl("/secret", &acl), ZOK);
  EXPECT_EQ(acl, (std::vector<std::string>{"31 digest:u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ="}));
  EXPECT_EQ(owner->SetAcl("/secret", 0, &ZOO_READ_ACL_UNSAFE), ZOK);
  EXPECT_EQ(stranger->Get("/secret", false, nullptr), ZOK);
  EXPECT_EQ(stranger->Set("/secret", "x"), ZNOAUTH);
}

class CClientEnsembleTest : public CClientTest {
 protected:
  void SetUp() override { StartServer({.tick_time = 100ms, .members = 3}); }
};

TEST_F(CClientEnsembleTest, FailoverKeepsSessionAndReadOnlyMode) {
  auto client = Connect();
  ASSERT_EQ(client->Create("/f", "", ZOO_EPHEMERAL), ZOK);
  int64_t session_id = client->session_id();
  std::string hosts = server_->connect_string();
  EXPECT_EQ(std::count(hosts.begin(), hosts.end(), ','), 2);
  ASSERT_TRUE(server_->KillMember(0).ok());
  ASSERT_TRUE(server_->KillMember(1).ok());
  EXPECT_EQ(server_->connect_string(), server_->member_connect_string(2));
  EXPECT_EQ(server_->KillMember(1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server_->KillMember(7).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(client->WaitFor([&] { return client->Exists("/f", false) == ZOK; }, 8000));
  EXPECT_EQ(client->session_id(), session_id);
  ASSERT_TRUE(server_->ReviveMember(0).ok());
  ASSERT_TRUE(server_->ReviveMember(1).ok());

  server_->SetReadOnly(true);
  auto reader =
      std::make_unique<StClient>(server_->connect_string(), 2000, nullptr, ZOO_READONLY);
  EXPECT_TRUE(reader->WaitFor([&] { return reader->state() == ZOO_READONLY_STATE; }));
  EXPECT_EQ(reader->Create("/ro", ""), ZNOTREADONLY);
  EXPECT_EQ(reader->Exists("/f", false), ZOK);
  RawClient refused(server_->member_port(2));
  EXPECT_FALSE(refused.Handshake(2000, 0, std::string(16, '\0'), true, false).has_value());
  server_->SetReadOnly(false);
}

TEST_F(CClientTest, ThousandConcurrentSessions) {
  StartServer({.tick_time = 100ms, .max_client_connections = 0});  // all from 127.0.0.1
  std::vector<std::unique_ptr<RawClient>> clients;
  int port = server_->member_port(0);
  for (int i = 0; i < 1000; ++i) {
    clients.push_back(std::make_unique<RawClient>(port));
    ASSERT_TRUE(clients.back()->connected());
    std::optional<std::string> response = clients.back()->Handshake(2000);
    ASSERT_TRUE(response.has_value());
    Cursor cursor(*response);
    cursor.Int();
    ASSERT_EQ(cursor.Int(), 2000);
  }
  EXPECT_EQ(server_->ListSessions().size(), 1000u);
  auto client = Connect();
  EXPECT_EQ(client->Create("/still-serving", ""), ZOK);
}

}  // namespace
}  // namespace zk::testing
