// zkcpp::recipes' side of the recipe workloads (definitions: common/driver_common.h).
//
// lock:    one zk::Client (session) and one Lock per contender, one thread each looping
//          Acquire → LockGuard::Release() (which waits for the delete's reply, like Curator's and
//          kazoo's release) from one common start for a fixed time. lock_scoped: the same, but
//          the guard is dropped (its destructor sends the delete without waiting for it). A contender stops after the
//          cycle that ends past the deadline; the phase lasts until the last one stopped.
// handoff: two sessions take turns: the leader's LeaderElection leads, a fresh LeaderElection on
//          the other session joins (we wait for a children watch to show its node, then 20 ms
//          for its own watch on the leader's node: no API says when that is armed), then the
//          leader's LeaderElection is destroyed (its node is deleted) and we time until the
//          follower's listener hears is_leader.
// discovery_lookup: a ServiceRegistry on one session registers `contenders` instances of a
//          service under `path`; a ServiceCache on another session serves the lookups
//          (Instances(), no round trip); latency per lookup.
// discovery_propagation: per op, a new instance is registered; latency = Register() called →
//          the cache's listener reports it added (then it is unregistered, unmeasured).
// config:  `contenders` subscriber sessions, each with a ConfigWatcher and a listener; a writer
//          session publishes a new value; latency = publish issued → the last listener saw it.

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "loops.h"
#include "workloads.h"
#include "zk/recipes/config_watcher.h"
#include "zk/recipes/leader_election.h"
#include "zk/recipes/lock.h"
#include "zk/recipes/service_cache.h"
#include "zk/recipes/service_registry.h"

namespace zkbench {
namespace {

constexpr auto kWait = std::chrono::seconds(30);

int Fail(const absl::Status& status, const char* what) {
  std::fprintf(stderr, "zkcpp driver: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

// All contenders loop acquire → release from one common start until `seconds` have passed.
Measurement LockPhase(std::vector<std::unique_ptr<zk::recipes::Lock>>& locks, double seconds,
                      bool scoped_release) {
  const int n = static_cast<int>(locks.size());
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  int64_t t0 = 0, deadline = 0;
  std::vector<std::vector<int64_t>> waits(n);
  std::vector<int64_t> cycles(n, 0), errors(n, 0), finished(n, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return go; });
      }
      while (NowNanos() < deadline) {
        const int64_t a = NowNanos();
        absl::StatusOr<zk::recipes::LockGuard> guard = locks[i]->Acquire(kWait);
        const int64_t b = NowNanos();
        if (!guard.ok()) {
          Fail(guard.status(), "acquire");
          ++errors[i];
          continue;
        }
        waits[i].push_back(b - a);
        if (scoped_release) {
          // The guard's destructor: the delete is sent, not awaited; the next Acquire queues
          // behind it on the same session.
          { zk::recipes::LockGuard leaving_scope = *std::move(guard); }
          ++cycles[i];
          continue;
        }
        if (absl::Status s = guard->Release(); !s.ok()) {
          Fail(s, "release");
          ++errors[i];
          continue;
        }
        ++cycles[i];
      }
      finished[i] = NowNanos();
    });
  }
  const CpuTime cpu0 = ProcessCpuTime();
  {
    std::lock_guard<std::mutex> lock(mu);
    t0 = NowNanos();
    deadline = t0 + static_cast<int64_t>(seconds * 1e9);
    go = true;
  }
  cv.notify_all();
  for (std::thread& t : threads) t.join();
  Measurement m;
  m.cpu = ProcessCpuTime() - cpu0;
  m.wall_ns = *std::max_element(finished.begin(), finished.end()) - t0;
  for (int i = 0; i < n; ++i) {
    m.count += cycles[i];
    m.errors += errors[i];
    m.latencies_ns.insert(m.latencies_ns.end(), waits[i].begin(), waits[i].end());
  }
  return m;
}

int RunLock(const DriverConfig& config, bool scoped_release) {
  std::vector<std::unique_ptr<zk::Client>> clients;
  std::vector<std::unique_ptr<zk::recipes::Lock>> locks;
  for (int i = 0; i < config.contenders; ++i) {
    absl::StatusOr<std::unique_ptr<zk::Client>> client = ConnectClient(config);
    if (!client.ok()) return Fail(client.status(), "connect");
    absl::StatusOr<std::unique_ptr<zk::recipes::Lock>> lock =
        zk::recipes::Lock::Create(**client, config.path);
    if (!lock.ok()) return Fail(lock.status(), "lock");
    clients.push_back(*std::move(client));
    locks.push_back(*std::move(lock));
  }
  int64_t warm_errors = 0;
  if (config.warmup_seconds > 0) {
    warm_errors = LockPhase(locks, config.warmup_seconds, scoped_release).errors;
  }
  const int rc = ReportResult(LockPhase(locks, config.seconds, scoped_release), warm_errors);
  locks.clear();
  return rc;
}

// Blocks until `path` has at least `n` children, woken by a children watch.
bool AwaitChildren(zk::Client& client, const std::string& path, size_t n) {
  const int64_t give_up = NowNanos() + 30'000'000'000;
  while (NowNanos() < give_up) {
    Countdown changed;
    changed.Reset(1);
    absl::StatusOr<zk::Watched<zk::ChildrenResult>> r =
        client.GetChildrenAndWatch(path, [&](const zk::WatchEvent&) { changed.Arrive(); });
    if (r.ok() && r->result.children.size() >= n) return true;
    if (r.ok()) changed.Wait(std::chrono::seconds(30));
  }
  return false;
}

int RunHandoff(const DriverConfig& config) {
  std::unique_ptr<zk::Client> clients[2];
  for (auto& client : clients) {
    absl::StatusOr<std::unique_ptr<zk::Client>> c = ConnectClient(config);
    if (!c.ok()) return Fail(c.status(), "connect");
    client = *std::move(c);
  }
  if (absl::Status s = clients[0]->EnsurePath(config.path); !s.ok()) return Fail(s, "ensure");
  std::unique_ptr<zk::recipes::LeaderElection> elections[2];
  zk::Subscription subscriptions[2];
  int seq = 0;
  auto make = [&](int side) -> absl::Status {
    ZK_ASSIGN_OR_RETURN(elections[side],
                        zk::recipes::LeaderElection::Create(
                            *clients[side], config.path,
                            {.participant_id = absl::StrCat("participant-", seq++)}));
    return absl::OkStatus();
  };
  if (absl::Status s = make(0); !s.ok()) return Fail(s, "election");
  if (absl::Status s = elections[0]->Start(); !s.ok()) return Fail(s, "start");
  if (absl::Status s = elections[0]->AwaitLeadership(kWait); !s.ok()) return Fail(s, "lead");
  int leader = 0;
  auto once = [&]() -> int64_t {
    const int follower = 1 - leader;
    auto told = std::make_shared<Countdown>();
    told->Reset(1);
    if (!make(follower).ok()) return -1;
    subscriptions[follower] =
        elections[follower]->AddListener([told](const zk::recipes::LeadershipEvent& event) {
          if (event.is_leader) told->Arrive();
        });
    if (!elections[follower]->Start().ok()) return -1;
    if (!AwaitChildren(*clients[follower], config.path, 2)) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the follower's own watch
    if (elections[follower]->IsLeader()) return -1;
    const int64_t t0 = NowNanos();
    subscriptions[leader] = zk::Subscription();
    elections[leader].reset();  // leaves: deletes its node
    const int64_t t1 = told->Wait(kWait);
    leader = follower;
    return t1 == 0 ? -1 : t1 - t0;
  };
  const int rc = WarmAndMeasure(config, [&](int64_t n) { return TimeEvents(n, once); });
  for (auto& s : subscriptions) s = zk::Subscription();
  for (auto& e : elections) e.reset();
  return rc;
}

int RunConfig(const DriverConfig& config) {
  absl::StatusOr<std::unique_ptr<zk::Client>> writer = ConnectClient(config);
  if (!writer.ok()) return Fail(writer.status(), "connect");
  if (auto s = zk::recipes::ConfigWatcher::Publish(**writer, config.path, "v0"); !s.ok()) {
    return Fail(s.status(), "publish");
  }
  Countdown seen;
  std::mutex mu;
  std::string expected;  // the value being waited for
  std::vector<std::unique_ptr<zk::Client>> clients;
  std::vector<std::unique_ptr<zk::recipes::ConfigWatcher>> watchers;
  std::vector<zk::Subscription> subscriptions;
  for (int i = 0; i < config.contenders; ++i) {
    absl::StatusOr<std::unique_ptr<zk::Client>> client = ConnectClient(config);
    if (!client.ok()) return Fail(client.status(), "connect");
    auto watcher = zk::recipes::ConfigWatcher::Create(**client, config.path);
    if (!watcher.ok()) return Fail(watcher.status(), "watcher");
    subscriptions.push_back((*watcher)->AddListener([&](const zk::recipes::ConfigValue& v) {
      std::lock_guard<std::mutex> lock(mu);
      if (v.exists && v.data == expected) seen.Arrive();
    }));
    if (absl::Status s = (*watcher)->Start(); !s.ok()) return Fail(s, "start");
    if (absl::Status s = (*watcher)->WaitUntilLoaded(kWait); !s.ok()) return Fail(s, "load");
    clients.push_back(*std::move(client));
    watchers.push_back(*std::move(watcher));
  }
  int64_t version = 0;
  auto once = [&]() -> int64_t {
    {
      std::lock_guard<std::mutex> lock(mu);
      expected = absl::StrCat("v", ++version);
      seen.Reset(config.contenders);
    }
    const int64_t t0 = NowNanos();
    if (!zk::recipes::ConfigWatcher::Publish(**writer, config.path, expected).ok()) return -1;
    const int64_t t1 = seen.Wait(kWait);
    return t1 == 0 ? -1 : t1 - t0;
  };
  const int rc = WarmAndMeasure(config, [&](int64_t n) { return TimeEvents(n, once); });
  subscriptions.clear();
  watchers.clear();
  return rc;
}

int RunDiscovery(const DriverConfig& config) {
  absl::StatusOr<std::unique_ptr<zk::Client>> writer = ConnectClient(config);
  absl::StatusOr<std::unique_ptr<zk::Client>> reader = ConnectClient(config);
  if (!writer.ok() || !reader.ok()) return Fail(writer.ok() ? reader.status() : writer.status(), "connect");
  auto registry = zk::recipes::ServiceRegistry::Create(**writer, config.path);
  if (!registry.ok()) return Fail(registry.status(), "registry");
  auto instance = [](const std::string& id) {
    return zk::recipes::ServiceInstance{.name = "svc", .id = id, .address = "10.0.0.1", .port = 80};
  };
  std::vector<std::unique_ptr<zk::recipes::ServiceRegistry::Registration>> registrations;
  for (int i = 0; i < config.contenders; ++i) {
    auto r = (*registry)->Register(instance(absl::StrCat("i", i)));
    if (!r.ok()) return Fail(r.status(), "register");
    registrations.push_back(*std::move(r));
  }
  auto cache = zk::recipes::ServiceCache::Create(**reader, config.path, "svc");
  if (!cache.ok()) return Fail(cache.status(), "cache");
  std::mutex mu;
  std::string awaited;  // the id whose addition or removal is awaited
  Countdown seen;
  zk::Subscription subscription = (*cache)->AddListener([&](const zk::recipes::ServiceDelta& d) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto* list : {&d.added, &d.removed}) {
      for (const zk::recipes::ServiceInstance& i : *list) {
        if (i.id == awaited) seen.Arrive();
      }
    }
  });
  if (absl::Status s = (*cache)->Start(); !s.ok()) return Fail(s, "start");
  if (absl::Status s = (*cache)->WaitUntilLoaded(kWait); !s.ok()) return Fail(s, "load");
  if (config.workload == "discovery_lookup") {
    const size_t expected = static_cast<size_t>(config.contenders);
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] { return (*cache)->Instances()->size() == expected; });
    });
  }
  int64_t next = 0;
  auto await = [&](const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    awaited = id;
    seen.Reset(1);
  };
  const int rc = WarmAndMeasure(config, [&](int64_t n) {
    return TimeEvents(n, [&]() -> int64_t {
      const std::string id = absl::StrCat("p", next++);
      await(id);
      const int64_t t0 = NowNanos();
      auto r = (*registry)->Register(instance(id));
      if (!r.ok()) return -1;
      const int64_t t1 = seen.Wait(kWait);
      await(id);
      r->reset();  // unregisters
      if (seen.Wait(kWait) == 0) return -1;
      return t1 == 0 ? -1 : t1 - t0;
    });
  });
  subscription = zk::Subscription();
  return rc;
}

}  // namespace

int RunRecipeWorkload(const DriverConfig& config) {
  if (config.workload == "lock") return RunLock(config, /*scoped_release=*/false);
  if (config.workload == "lock_scoped") return RunLock(config, /*scoped_release=*/true);
  if (config.workload == "handoff") return RunHandoff(config);
  if (config.workload == "config") return RunConfig(config);
  if (config.workload.rfind("discovery", 0) == 0) return RunDiscovery(config);
  std::fprintf(stderr, "zkcpp driver: unknown workload %s\n", config.workload.c_str());
  return 2;
}

}  // namespace zkbench
