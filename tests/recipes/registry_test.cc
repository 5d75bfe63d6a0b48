// Tests of zk::recipes::ServiceRegistry, ServiceCache, ServiceProvider and ChildrenCache on every
// backend.

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipe_test.h"
#include "testing/backend_test.h"
#include "zk/client.h"
#include "zk/internal/sync.h"
#include "zk/path.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "zk/recipes/children_cache.h"
#include "zk/recipes/node_cache.h"
#include "zk/recipes/service_cache.h"
#include "zk/recipes/service_provider.h"
#include "zk/recipes/service_registry.h"

namespace zk::recipes {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using zk::testing::IsOk;
using zk::testing::StatusIs;
using zk::testing::WaitFor;

constexpr auto kLoad = std::chrono::seconds(10);

ServiceInstance Instance(std::string name, std::string id, int32_t port = 8080) {
  return {.name = std::move(name), .id = std::move(id), .address = "10.0.0.1", .port = port};
}

std::set<std::string> Ids(const ServiceCache& cache) {
  std::set<std::string> ids;
  for (const ServiceInstance& instance : *cache.Instances()) ids.insert(instance.id);
  return ids;
}

class RegistryTest : public testing::RecipeTest {
 protected:
  std::string Base() const { return JoinPath(Root(), "services"); }
  std::unique_ptr<ServiceRegistry> NewRegistry(Client& client) {
    auto registry = ServiceRegistry::Create(client, Base());
    EXPECT_THAT(registry.status(), IsOk());
    return *std::move(registry);
  }
  std::unique_ptr<ServiceCache> NewCache(Client& client, std::string name,
                                         ServiceCacheOptions options = {}) {
    auto cache = ServiceCache::Create(client, Base(), name, std::move(options));
    EXPECT_THAT(cache.status(), IsOk());
    EXPECT_THAT((*cache)->Start(), IsOk());
    EXPECT_THAT((*cache)->WaitUntilLoaded(kLoad), IsOk());
    return *std::move(cache);
  }
};

TEST_P(RegistryTest, RegisterUpdateUnregisterSeenByCache) {
  auto writer = NewClient();
  auto reader = NewClient();
  auto registry = NewRegistry(*writer);
  auto cache = NewCache(*reader, "billing");  // before the service exists
  EXPECT_TRUE(cache->Instances()->empty());
  EXPECT_TRUE(cache->status().loaded);
  EXPECT_TRUE(cache->status().connected);
  std::mutex mu;
  std::vector<ServiceDelta> deltas;
  Subscription sub = cache->AddListener([&](const ServiceDelta& d) {
    std::lock_guard<std::mutex> lock(mu);
    deltas.push_back(d);
  });

  ServiceInstance b1 = Instance("billing", "b-1");
  b1.tls_port = 8443;
  b1.metadata = {{"zone", "eu-1"}};
  auto registration = registry->Register(b1);
  ASSERT_THAT(registration.status(), IsOk());
  // The node: ephemeral, Curator's JSON.
  auto node = writer->Get(registry->InstancePath("billing", "b-1"));
  ASSERT_THAT(node.status(), IsOk());
  EXPECT_EQ(node->stat.ephemeral_owner, writer->session_id());
  EXPECT_THAT(node->data, HasSubstr("\"serviceType\":\"DYNAMIC\""));
  EXPECT_THAT(node->data, HasSubstr("\"sslPort\":8443"));
  EXPECT_THAT(node->data, HasSubstr("\"registrationTimeUTC\":"));
  EXPECT_THAT(node->data, HasSubstr("\"payload\":{\"zone\":\"eu-1\"}"));

  ASSERT_TRUE(WaitFor([&] { return cache->Instances()->size() == 1; }, absl::Seconds(10)));
  ServiceInstance seen = cache->Instances()->front();
  EXPECT_EQ(seen.address, "10.0.0.1");
  EXPECT_EQ(seen.port, 8080);
  EXPECT_EQ(seen.tls_port, 8443);
  EXPECT_EQ(seen.metadata.at("zone"), "eu-1");
  EXPECT_GT(seen.registration_time_ms, 0);

  ServiceInstance moved = (*registration)->instance();
  moved.port = 9090;
  ASSERT_THAT((*registration)->Update(moved), IsOk());
  ASSERT_TRUE(WaitFor([&] { return cache->Instances()->front().port == 9090; },
                      absl::Seconds(10)));

  auto names = registry->ServiceNames();
  ASSERT_THAT(names.status(), IsOk());
  EXPECT_THAT(*names, ElementsAre("billing"));

  registration->reset();
  ASSERT_TRUE(WaitFor([&] { return cache->Instances()->empty(); }, absl::Seconds(10)));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return deltas.size() >= 3;
  }, absl::Seconds(10)));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(deltas.size(), 3u);
  ASSERT_EQ(deltas[0].added.size(), 1u);
  EXPECT_EQ(deltas[0].added[0].id, "b-1");
  ASSERT_EQ(deltas[1].updated.size(), 1u);
  EXPECT_EQ(deltas[1].updated[0].first.port, 8080);
  EXPECT_EQ(deltas[1].updated[0].second.port, 9090);
  ASSERT_EQ(deltas[2].removed.size(), 1u);
  EXPECT_EQ(deltas[2].removed[0].port, 9090);
}

TEST_P(RegistryTest, HundredInstancesAcrossTenServicesConvergeEverywhere) {
  constexpr int kClients = 4;
  constexpr int kServices = 10;
  constexpr int kPerService = 10;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<ServiceRegistry>> registries;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(NewClient());
    registries.push_back(NewRegistry(*clients.back()));
  }
  // Caches on every client, started before the registrations (they see them arrive).
  std::vector<std::unique_ptr<ServiceCache>> caches;
  for (int c = 0; c < kClients; ++c) {
    for (int s = 0; s < kServices; ++s) {
      caches.push_back(NewCache(*clients[c], absl::StrCat("svc-", s)));
    }
  }
  auto names_cache = registries[0]->WatchServiceNames();
  ASSERT_THAT(names_cache.status(), IsOk());
  std::vector<std::unique_ptr<ServiceRegistry::Registration>> registrations;
  for (int s = 0; s < kServices; ++s) {
    for (int i = 0; i < kPerService; ++i) {
      auto r = registries[(s + i) % kClients]->Register(
          Instance(absl::StrCat("svc-", s), absl::StrCat("i-", i), 1000 + i));
      ASSERT_THAT(r.status(), IsOk());
      registrations.push_back(*std::move(r));
    }
  }
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& cache : caches) {
      if (cache->Instances()->size() != kPerService) return false;
    }
    return true;
  }, absl::Seconds(20)));
  for (const auto& cache : caches) {
    int i = 0;
    for (const ServiceInstance& instance : *cache->Instances()) {
      EXPECT_EQ(instance.name, cache->name());
      EXPECT_EQ(instance.port, 1000 + std::stoi(instance.id.substr(2)));
      ++i;
    }
  }
  ASSERT_TRUE(WaitFor([&] { return (*names_cache)->Snapshot()->size() == kServices; },
                      absl::Seconds(10)));
  // A late cache loads everything at once.
  auto late = NewCache(*clients[0], "svc-3");
  EXPECT_EQ(late->Instances()->size(), static_cast<size_t>(kPerService));
  registrations.clear();
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& cache : caches) {
      if (!cache->Instances()->empty()) return false;
    }
    return true;
  }, absl::Seconds(20)));
}

TEST_P(RegistryTest, SessionExpiryRemovesInstancesAndReconnectRestoresThem) {
  const auto session_timeout = std::chrono::milliseconds(2000);
  auto writer = NewClient(session_timeout);
  auto readers = std::vector<std::unique_ptr<Client>>{};
  readers.push_back(NewClient());
  readers.push_back(NewClient());
  auto registry = NewRegistry(*writer);
  std::vector<std::unique_ptr<ServiceCache>> caches;
  for (auto& reader : readers) caches.push_back(NewCache(*reader, "api"));
  std::vector<std::unique_ptr<ServiceRegistry::Registration>> registrations;
  for (int i = 0; i < 5; ++i) {
    auto r = registry->Register(Instance("api", absl::StrCat("a-", i)));
    ASSERT_THAT(r.status(), IsOk());
    registrations.push_back(*std::move(r));
  }
  auto all_have = [&](size_t n) {
    for (const auto& cache : caches) {
      if (cache->Instances()->size() != n) return false;
    }
    return true;
  };
  ASSERT_TRUE(WaitFor([&] { return all_have(5); }, absl::Seconds(10)));
  const int64_t old_session = writer->session_id();
  std::atomic<int> removed{0};
  Subscription sub = caches[0]->AddListener([&](const ServiceDelta& d) {
    removed += static_cast<int>(d.removed.size());
  });
  ASSERT_THAT(backend().ExpireSession(old_session, writer->session_password()), IsOk());
  // Gone from every cache within the session timeout plus a watch round.
  ASSERT_TRUE(WaitFor([&] { return removed.load() >= 5 || all_have(0); },
                      absl::FromChrono(session_timeout) + absl::Seconds(5)));
  // The writer learns of the expiry, opens a new session, and the registry restores them.
  ASSERT_TRUE(WaitFor([&] { return all_have(5); }, absl::Seconds(20)));
  EXPECT_NE(writer->session_id(), old_session);
  for (const auto& registration : registrations) {
    auto node = readers[0]->Get(registration->path());
    ASSERT_THAT(node.status(), IsOk());
    EXPECT_EQ(node->stat.ephemeral_owner, writer->session_id());
  }
}

TEST_P(RegistryTest, RegisterUnregisterCyclesLeaveNoPhantom) {
  auto writer = NewClient();
  auto reader = NewClient();
  auto registry = NewRegistry(*writer);
  auto cache = NewCache(*reader, "churn");
  std::atomic<int> added{0};
  Subscription sub = cache->AddListener([&](const ServiceDelta& d) {
    added += static_cast<int>(d.added.size());
  });
  auto keeper = registry->Register(Instance("churn", "keeper"));
  ASSERT_THAT(keeper.status(), IsOk());
  for (int i = 0; i < 100; ++i) {
    auto r = registry->Register(Instance("churn", absl::StrCat("c-", i % 7)));
    ASSERT_THAT(r.status(), IsOk());
    if (i % 2 == 0) {
      ASSERT_THAT((*r)->Unregister(), IsOk());
    }
  }  // odd ones unregister in the destructor
  ASSERT_TRUE(WaitFor([&] { return Ids(*cache) == std::set<std::string>{"keeper"}; },
                      absl::Seconds(10)));
  auto children = reader->GetChildren(registry->ServicePath("churn"));
  ASSERT_THAT(children.status(), IsOk());
  EXPECT_THAT(children->children, ElementsAre("keeper"));
  EXPECT_GE(added.load(), 1);
}

// Destroying a Registration where blocking is not allowed (an inline callback, on the client's
// event-loop thread) still unregisters: the delete goes on in the background.
TEST_P(RegistryTest, RegistrationDroppedInAnInlineCallbackIsRemoved) {
  auto client = Client::Connect({.connect_string = connect_string(),
                                 .session_timeout = std::chrono::milliseconds(4000),
                                 .callback_execution = CallbackExecution::kInline});
  ASSERT_THAT(client.status(), IsOk());
  ASSERT_THAT((*client)->WaitUntilConnected(std::chrono::seconds(10)), IsOk());
  auto registry = NewRegistry(**client);
  auto registration = registry->Register(Instance("inline", "i-1"));
  ASSERT_THAT(registration.status(), IsOk());
  const std::string path = (*registration)->path();
  std::unique_ptr<ServiceRegistry::Registration> dropped = *std::move(registration);
  zk::internal::Notification done;
  (*client)->AsyncSync("/", [&](absl::Status) {
    dropped.reset();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  auto reader = NewClient();
  EXPECT_TRUE(WaitFor([&] {
    absl::StatusOr<std::optional<Stat>> node = reader->Exists(path);
    return node.ok() && !node->has_value();
  }, absl::Seconds(10))) << path << " is still registered";
}

TEST_P(RegistryTest, MalformedPayloadIsSkippedWithAWarning) {
  auto writer = NewClient();
  auto registry = NewRegistry(*writer);
  auto good = registry->Register(Instance("mixed", "good"));
  ASSERT_THAT(good.status(), IsOk());
  const std::string bad_path = registry->InstancePath("mixed", "bad");
  ASSERT_THAT(writer->Create(bad_path, "{not json").status(), IsOk());
  ASSERT_THAT(writer->Create(registry->InstancePath("mixed", "wrong-type"),
                             R"({"name":"mixed","id":"wrong-type","address":7,"port":"x"})")
                  .status(),
              IsOk());
  std::mutex mu;
  std::vector<std::string> warnings;
  auto cache = NewCache(*writer, "mixed", {.on_warning = [&](std::string_view message) {
                                             std::lock_guard<std::mutex> lock(mu);
                                             warnings.emplace_back(message);
                                           }});
  EXPECT_EQ(Ids(*cache), std::set<std::string>{"good"});
  EXPECT_EQ(Ids(*cache), std::set<std::string>{"good"});  // warned once per node version
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(warnings.size(), 2u);
    EXPECT_THAT(warnings[0], HasSubstr("malformed JSON"));
    EXPECT_THAT(warnings[0], HasSubstr(bad_path));
  }
  // Fixing the payload makes the instance appear (an update from malformed is an addition).
  std::atomic<int> added{0};
  Subscription sub = cache->AddListener([&](const ServiceDelta& d) {
    added += static_cast<int>(d.added.size());
  });
  ASSERT_THAT(writer->Set(bad_path, ServiceInstanceToJson(Instance("mixed", "bad"))).status(),
              IsOk());
  ASSERT_TRUE(WaitFor([&] { return Ids(*cache).count("bad") == 1; }, absl::Seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return added.load() == 1; }, absl::Seconds(10)));
  // Parsing never throws on garbage.
  for (std::string_view garbage : {"", "null", "[]", "{}", "\xff\xfe", "{\"name\":1}",
                                   R"({"name":"a","id":"b","address":"c","port":1e9})",
                                   R"({"name":"a","id":"b","address":"c","port":99999999999999999999})"}) {
    EXPECT_THAT(ParseServiceInstance(garbage).status(),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST_P(RegistryTest, InvalidInputIsRejectedBeforeAnyIo) {
  auto client = NewClient();
  auto registry = NewRegistry(*client);
  EXPECT_THAT(registry->Register(Instance("", "x")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "service name is empty"));
  EXPECT_THAT(registry->Register(Instance("a/b", "x")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "must not contain '/'"));
  EXPECT_THAT(registry->Register(Instance("ok", "..")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "service id \"..\""));
  EXPECT_THAT(registry->Register(Instance("ok", "bad\x01id")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "service id"));
  EXPECT_THAT(registry->Register(Instance("ok", "x", 70000)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "port 70000"));
  ServiceInstance typed = Instance("ok", "x");
  typed.metadata = {{"@class", "java.util.HashMap"}};
  EXPECT_THAT(registry->Register(typed).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "\"@class\" is reserved"));
  ServiceInstance no_address = Instance("ok", "x");
  no_address.address.clear();
  EXPECT_THAT(registry->Register(no_address).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "address is empty"));
  EXPECT_THAT(ServiceRegistry::Create(*client, "no-slash").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ServiceCache::Create(*client, Base(), "a/b").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Nothing was written.
  EXPECT_THAT(client->Exists(Base()), zk::testing::IsOkAndHolds(std::nullopt));

  auto registration = registry->Register(Instance("ok", "x"));
  ASSERT_THAT(registration.status(), IsOk());
  EXPECT_THAT(registry->Register(Instance("ok", "x")).status(),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT((*registration)->Update(Instance("ok", "y")),
              StatusIs(absl::StatusCode::kInvalidArgument, "must not change"));
  ASSERT_THAT((*registration)->Unregister(), IsOk());
  EXPECT_THAT((*registration)->Update(Instance("ok", "x")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(RegistryTest, StaleNodeOfAnotherSessionIsReplaced) {
  auto old_owner = NewClient();
  auto client = NewClient();
  auto registry = NewRegistry(*client);
  const std::string path = registry->InstancePath("svc", "one");
  ASSERT_THAT(old_owner->Create(path, "stale", {.mode = CreateMode::kEphemeral,
                                                .create_parents = true})
                  .status(),
              IsOk());
  auto registration = registry->Register(Instance("svc", "one"));
  ASSERT_THAT(registration.status(), IsOk());
  auto node = client->Get(path);
  ASSERT_THAT(node.status(), IsOk());
  EXPECT_EQ(node->stat.ephemeral_owner, client->session_id());
  EXPECT_THAT(ParseServiceInstance(node->data).status(), IsOk());
}

TEST_P(RegistryTest, ProviderStrategiesAndDownPolicy) {
  auto client = NewClient();
  auto registry = NewRegistry(*client);
  std::vector<std::unique_ptr<ServiceRegistry::Registration>> registrations;
  auto cache = NewCache(*client, "pick");
  auto empty = ServiceProvider::Create(*cache, {});
  ASSERT_THAT(empty.status(), IsOk());
  EXPECT_THAT((*empty)->Next().status(), StatusIs(absl::StatusCode::kNotFound));
  for (const char* id : {"a", "b", "c"}) {
    auto r = registry->Register(Instance("pick", id));
    ASSERT_THAT(r.status(), IsOk());
    registrations.push_back(*std::move(r));
  }
  ASSERT_TRUE(WaitFor([&] { return cache->Instances()->size() == 3; }, absl::Seconds(10)));

  absl::Time now = absl::FromUnixSeconds(1000);
  auto round_robin = *ServiceProvider::Create(
      *cache, {.failures_to_mark_down = 2, .down_duration = std::chrono::seconds(30),
               .clock = [&] { return now; }});
  std::multiset<std::string> picked;
  for (int i = 0; i < 6; ++i) picked.insert(round_robin->Next()->id);
  EXPECT_EQ(picked, (std::multiset<std::string>{"a", "a", "b", "b", "c", "c"}));
  const ServiceInstance b = cache->Instances()->at(1);
  round_robin->ReportFailure(b);
  EXPECT_FALSE(round_robin->IsDown(b));
  round_robin->ReportFailure(b);
  EXPECT_TRUE(round_robin->IsDown(b));
  for (int i = 0; i < 6; ++i) EXPECT_NE(round_robin->Next()->id, "b");
  now += absl::Seconds(31);
  EXPECT_FALSE(round_robin->IsDown(b));
  picked.clear();
  for (int i = 0; i < 3; ++i) picked.insert(round_robin->Next()->id);
  EXPECT_EQ(picked.count("b"), 1u);
  for (const ServiceInstance& instance : *cache->Instances()) {
    round_robin->ReportFailure(instance);
    round_robin->ReportFailure(instance);
  }
  EXPECT_THAT(round_robin->Next().status(), StatusIs(absl::StatusCode::kUnavailable));

  auto sticky = *ServiceProvider::Create(*cache, {.strategy = ProviderStrategy::kSticky});
  const std::string first = sticky->Next()->id;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(sticky->Next()->id, first);
  auto random = *ServiceProvider::Create(*cache, {.strategy = ProviderStrategy::kRandom});
  std::set<std::string> seen;
  for (int i = 0; i < 200 && seen.size() < 3; ++i) seen.insert(random->Next()->id);
  EXPECT_EQ(seen.size(), 3u);
  // Sticky moves on when its instance leaves.
  for (auto& registration : registrations) {
    if (registration->instance().id == first) registration.reset();
  }
  ASSERT_TRUE(WaitFor([&] { return cache->Instances()->size() == 2; }, absl::Seconds(10)));
  const std::string second = sticky->Next()->id;
  EXPECT_NE(second, first);
  EXPECT_EQ(sticky->Next()->id, second);
  EXPECT_THAT(ServiceProvider::Create(*cache, {.failures_to_mark_down = 0}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(RegistryTest, ChildrenCacheTracksRecreateByCzxid) {
  auto client = NewClient();
  const std::string dir = JoinPath(Root(), "dir");
  auto cache = *ChildrenCache::Create(*client, dir);
  std::mutex mu;
  std::vector<ChildrenDelta> deltas;
  Subscription sub = cache->AddListener([&](const ChildrenDelta& d) {
    std::lock_guard<std::mutex> lock(mu);
    deltas.push_back(d);
  });
  ASSERT_THAT(cache->Start(), IsOk());
  ASSERT_THAT(cache->WaitUntilLoaded(kLoad), IsOk());
  ASSERT_THAT(client->Create(JoinPath(dir, "x"), "1", {.create_parents = true}).status(), IsOk());
  ASSERT_TRUE(WaitFor([&] { return cache->Snapshot()->count("x") == 1; }, absl::Seconds(10)));
  const int64_t czxid = cache->Snapshot()->at("x").stat.czxid;
  // Delete and re-create in one transaction: same name and data, a new node.
  ASSERT_THAT(client->Multi({op::Delete{.path = JoinPath(dir, "x")},
                             op::Create{.path = JoinPath(dir, "x"), .data = "1"}})
                  .status(),
              IsOk());
  ASSERT_TRUE(WaitFor([&] {
    auto snapshot = cache->Snapshot();
    return snapshot->count("x") == 1 && snapshot->at("x").stat.czxid > czxid;
  }, absl::Seconds(10)));
  // The listener hears it after the snapshot changed: wait for the delta, then check them all.
  auto count = [&](bool removed) {
    std::lock_guard<std::mutex> lock(mu);
    int n = 0;
    for (const ChildrenDelta& d : deltas) n += static_cast<int>((removed ? d.removed : d.added).size());
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return count(true) >= 1 && count(false) >= 2; }, absl::Seconds(10)));
  EXPECT_EQ(count(true), 1);
  EXPECT_EQ(count(false), 2);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_GT(deltas.back().added.at(0).stat.czxid, czxid);
  EXPECT_TRUE(deltas.back().updated.empty());
}

// NextShared() hands out the instance inside the cache's snapshot: it stays valid after the
// instance leaves the cache. Round robin turns per thread: each thread sees every instance.
TEST_P(RegistryTest, NextSharedOutlivesTheListAndRoundRobinTurnsPerThread) {
  auto client = NewClient();
  auto registry = NewRegistry(*client);
  std::vector<std::unique_ptr<ServiceRegistry::Registration>> registrations;
  for (const char* id : {"a", "b", "c"}) {
    auto r = registry->Register(Instance("shared", id));
    ASSERT_THAT(r.status(), IsOk());
    registrations.push_back(*std::move(r));
  }
  auto cache = NewCache(*client, "shared");
  ASSERT_TRUE(WaitFor([&] { return cache->Instances()->size() == 3; }, absl::Seconds(10)));
  auto provider = *ServiceProvider::Create(*cache, {});
  std::multiset<std::string> per_thread[2];
  std::vector<std::thread> threads;
  for (auto& picked : per_thread) {
    threads.emplace_back([&provider, &picked] {
      for (int i = 0; i < 30; ++i) {
        absl::StatusOr<std::shared_ptr<const ServiceInstance>> one = provider->NextShared();
        if (one.ok()) picked.insert((*one)->id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& picked : per_thread) {
    EXPECT_EQ(picked.count("a"), 10u);
    EXPECT_EQ(picked.count("b"), 10u);
    EXPECT_EQ(picked.count("c"), 10u);
  }
  absl::StatusOr<std::shared_ptr<const ServiceInstance>> kept = provider->NextShared();
  ASSERT_THAT(kept.status(), IsOk());
  const std::string id = (*kept)->id;
  for (auto& registration : registrations) {
    if (registration->instance().id == id) registration.reset();
  }
  ASSERT_TRUE(WaitFor([&] { return cache->Instances()->size() == 2; }, absl::Seconds(10)));
  EXPECT_EQ(Ids(*cache).count(id), 0u);
  EXPECT_EQ((*kept)->id, id);
  EXPECT_EQ((*kept)->name, "shared");
  EXPECT_EQ((*kept)->address, "10.0.0.1");
}

// Readers on several threads hammer every cache's read path (which keeps a per-thread copy of
// the last snapshot) while the caches update: every read must be self-consistent, never older
// than the previous read on that thread, and every thread must end on the final state.
TEST_P(RegistryTest, ConcurrentReadersSeeConsistentNewerSnapshots) {
  constexpr int kSteps = 40;
  constexpr int kReaders = 3;
  auto client = NewClient();
  auto registry = NewRegistry(*client);
  const std::string node = JoinPath(Root(), "counter");
  ASSERT_THAT(client->Create(node, "0", {.create_parents = true}).status(), IsOk());
  auto node_cache = *NodeCache::Create(*client, node);
  ASSERT_THAT(node_cache->Start(), IsOk());
  ASSERT_THAT(node_cache->WaitUntilLoaded(kLoad), IsOk());
  auto children = *ChildrenCache::Create(*client, JoinPath(Base(), "hammer"));
  ASSERT_THAT(children->Start(), IsOk());
  ASSERT_THAT(children->WaitUntilLoaded(kLoad), IsOk());
  auto cache = NewCache(*client, "hammer");
  auto provider = *ServiceProvider::Create(*cache, {});
  auto id_of = [](int i) { return absl::StrFormat("i%03d", i); };

  std::mutex mu;
  std::vector<std::string> problems;
  auto problem = [&](std::string what) {
    std::lock_guard<std::mutex> lock(mu);
    if (problems.size() < 20) problems.push_back(std::move(what));
  };
  std::atomic<bool> stop{false};
  auto reader = [&](int r) {
    int32_t last_version = -1;
    std::set<std::string> last_ids;
    size_t last_children = 0;
    int64_t reads = 0;
    bool final_seen = false;
    while (!stop.load()) {
      std::shared_ptr<const NodeData> now = node_cache->Current();
      if (!now->exists || now->data != std::to_string(now->stat.version)) {
        problem(absl::StrCat("reader ", r, ": node data '", now->data, "' at version ",
                             now->stat.version));
      }
      if (now->stat.version < last_version) {
        problem(absl::StrCat("reader ", r, ": node version ", now->stat.version, " after ",
                             last_version));
      }
      last_version = now->stat.version;
      std::shared_ptr<const ServiceInstances> instances = cache->Instances();
      std::set<std::string> ids;
      for (const ServiceInstance& instance : *instances) {
        if (instance.id != id_of(instance.port)) {
          problem(absl::StrCat("reader ", r, ": instance ", instance.id, " port ", instance.port));
        }
        ids.insert(instance.id);
      }
      if (ids.size() != instances->size() ||
          !std::includes(ids.begin(), ids.end(), last_ids.begin(), last_ids.end())) {
        problem(absl::StrCat("reader ", r, ": ", instances->size(), " instances after ",
                             last_ids.size(), " (went back or duplicated)"));
      }
      last_ids = std::move(ids);
      std::shared_ptr<const ChildrenSnapshot> listed = children->Snapshot();
      if (listed->size() < last_children) {
        problem(absl::StrCat("reader ", r, ": ", listed->size(), " children after ",
                             last_children));
      }
      last_children = listed->size();
      if (!instances->empty()) {
        absl::StatusOr<std::shared_ptr<const ServiceInstance>> picked = provider->NextShared();
        if (!picked.ok() || (*picked)->id != id_of((*picked)->port)) {
          problem(absl::StrCat("reader ", r, ": NextShared ", picked.status().ToString()));
        }
      }
      ++reads;
      final_seen = last_version == kSteps && last_ids.size() == kSteps && last_children == kSteps;
      if (final_seen && stop.load()) break;
    }
    if (!final_seen) {
      problem(absl::StrCat("reader ", r, " ended on version ", last_version, ", ",
                           last_ids.size(), " instances, ", last_children, " children after ",
                           reads, " reads"));
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) readers.emplace_back(reader, r);
  std::vector<std::unique_ptr<ServiceRegistry::Registration>> registrations;
  for (int i = 1; i <= kSteps; ++i) {
    ASSERT_THAT(client->Set(node, std::to_string(i)).status(), IsOk());
    auto r = registry->Register({.name = "hammer", .id = id_of(i), .address = "10.0.0.1",
                                 .port = i});
    ASSERT_THAT(r.status(), IsOk());
    registrations.push_back(*std::move(r));
  }
  // Every cache reaches the final state (seen from this thread), then the readers must too.
  EXPECT_TRUE(WaitFor([&] {
    return node_cache->Current()->stat.version == kSteps &&
           cache->Instances()->size() == kSteps && children->Snapshot()->size() == kSteps;
  }, absl::Seconds(20)));
  absl::SleepFor(absl::Milliseconds(200));  // the readers read again after the last change
  stop.store(true);
  for (std::thread& t : readers) t.join();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_THAT(problems, ::testing::IsEmpty());
}

ZK_INSTANTIATE_BACKEND_TEST(RegistryTest);

}  // namespace
}  // namespace zk::recipes
