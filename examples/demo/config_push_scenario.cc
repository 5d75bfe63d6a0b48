// zkcpp-demo, scenario 4: config push.
//
// One publisher writes new versions of a service's rate limits to one config node; five
// subscribers (the service's instances, each its own client) keep the value through a
// ConfigWatcher and hear every change from its listener. The demo waits for every subscriber
// to have a version before publishing the next, then checks that each one saw every version,
// in order, with strictly increasing mzxid, and prints how long the last change took to reach
// each of them. A publisher holding a stale version is refused (Publish is compare-and-set).

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "demo/demo.h"
#include "zk/client.h"
#include "zk/recipes/config_watcher.h"

namespace zkcpp_demo {

namespace {

using zk::recipes::ConfigValue;
using zk::recipes::ConfigWatcher;

constexpr int kSubscribers = 5;

// One value as a subscriber's listener received it.
struct Delivery {
  bool exists = false;
  std::string data;
  int64_t mzxid = 0;
  std::chrono::steady_clock::time_point at;
};

// What every subscriber's listener received. Thread-safe.
class Deliveries {
 public:
  void Record(int subscriber, const ConfigValue& value) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_[subscriber].push_back(
          {.exists = value.exists, .data = value.data, .mzxid = value.mzxid(), .at = now});
    }
    changed_.notify_all();
  }
  // Waits until every subscriber received a value at least as new as `mzxid`.
  bool AwaitAll(int64_t mzxid, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] {
      return std::all_of(std::begin(seen_), std::end(seen_), [&](const auto& deliveries) {
        return !deliveries.empty() && deliveries.back().mzxid >= mzxid;
      });
    });
  }
  std::vector<Delivery> Of(int subscriber) {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_[subscriber];
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Delivery> seen_[kSubscribers];  // guarded by mu_
};

// One subscriber: a service instance with its own session. Members go bottom-up.
struct Subscriber {
  std::string name;
  std::unique_ptr<zk::Client> client;
  std::unique_ptr<ConfigWatcher> watcher;
  zk::Subscription listener;
};

struct Published {
  std::string data;
  int64_t mzxid = 0;
  std::chrono::steady_clock::time_point at;  // just before the Publish call
};

}  // namespace

absl::StatusOr<std::string> RunConfigPushScenario(const DemoContext& context) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ScenarioRoot> root, ScenarioRoot::Create(context, "config"));
  const std::string config_path = root->Child("api/limits");
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> publisher, ConnectClient(context, "publisher"));

  // 1. Five instances watch the config node (it does not exist yet).
  Deliveries deliveries;  // outlives the listeners that write to it
  Subscriber subscribers[kSubscribers];
  for (int i = 0; i < kSubscribers; ++i) {
    Subscriber& subscriber = subscribers[i];
    subscriber.name = absl::StrCat("api-", i + 1);
    ZK_ASSIGN_OR_RETURN(subscriber.client, ConnectClient(context, subscriber.name));
    ZK_ASSIGN_OR_RETURN(subscriber.watcher, ConfigWatcher::Create(*subscriber.client, config_path));
    subscriber.listener = subscriber.watcher->AddListener(
        [&deliveries, i](const ConfigValue& value) { deliveries.Record(i, value); });
    ZK_RETURN_IF_ERROR(subscriber.watcher->Start());
    ZK_RETURN_IF_ERROR(subscriber.watcher->WaitUntilLoaded(kWaitTimeout));
  }
  Say("%d subscribers watch %s", kSubscribers, config_path.c_str());

  // 2. The publisher pushes four versions: the first creates the node, the others are
  // compare-and-set on the version it last wrote. Each version reaches every subscriber
  // before the next is published, so each of them must see each version.
  const std::vector<std::string> versions = {"rps=100 burst=20", "rps=200 burst=40",
                                             "rps=400 burst=80", "rps=150 burst=30"};
  std::vector<Published> published;
  std::optional<int32_t> version;
  for (const std::string& data : versions) {
    const auto start = std::chrono::steady_clock::now();
    ZK_ASSIGN_OR_RETURN(zk::Stat stat,
                        ConfigWatcher::Publish(*publisher, config_path, data, version));
    version = stat.version;
    published.push_back({.data = data, .mzxid = stat.mzxid, .at = start});
    if (!deliveries.AwaitAll(stat.mzxid, kWaitTimeout)) {
      return ClaimFailed(absl::StrCat("every subscriber receives \"", data, "\""));
    }
    Say("published \"%s\" (version %d, mzxid %s): all %d subscribers have it", data.c_str(),
        stat.version, Hex(stat.mzxid).c_str(), kSubscribers);
  }

  // 3. A second publisher still holding version 0 is refused: it cannot overwrite newer data.
  absl::StatusOr<zk::Stat> stale = ConfigWatcher::Publish(*publisher, config_path, "rps=999", 0);
  Say("a publish with the stale version 0: %s",
      stale.ok() ? "accepted" : Describe(stale.status()).c_str());
  if (!zk::IsBadVersion(stale.status())) {
    return ClaimFailed("a publish with a stale version is refused (BADVERSION)");
  }

  // 4. Every subscriber saw every version, in order, mzxid strictly increasing.
  for (int i = 0; i < kSubscribers; ++i) {
    const std::vector<Delivery> seen = deliveries.Of(i);
    bool in_order = seen.size() == published.size();
    for (size_t k = 0; in_order && k < seen.size(); ++k) {
      in_order = seen[k].exists && seen[k].data == published[k].data &&
                 seen[k].mzxid == published[k].mzxid &&
                 (k == 0 || seen[k].mzxid > seen[k - 1].mzxid);
    }
    if (!in_order) {
      return ClaimFailed(absl::StrCat(subscribers[i].name, " sees all ", published.size(),
                                      " versions in order; it saw ", seen.size(), " values"));
    }
  }
  Say("every subscriber saw all %zu versions, in order (mzxid strictly increasing)",
      published.size());

  // 5. How long the last change took, from the publish call to each subscriber's listener.
  Say("propagation of the last change (publish call -> listener):");
  double slowest = 0;
  for (int i = 0; i < kSubscribers; ++i) {
    const double ms = Millis(published.back().at, deliveries.Of(i).back().at);
    slowest = std::max(slowest, ms);
    Say("  %-6s %6.1f ms", subscribers[i].name.c_str(), ms);
  }
  Say("ok: %d subscribers, %zu versions each, never an older value", kSubscribers,
      published.size());
  return absl::StrFormat("%d subscribers saw all %d versions in order; last change in <= %.1f ms",
                         kSubscribers, static_cast<int>(published.size()), slowest);
}

}  // namespace zkcpp_demo
