#include "zk/recipes/service_provider.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "thread_snapshot.h"
#include "zk/internal/sync.h"

namespace zk::recipes {

using zk::internal::MutexLock;

struct ServiceProvider::State {
  State(const ServiceCache& cache, ServiceProviderOptions options)
      : cache(cache), options(std::move(options)) {}
  struct Health {
    int failures = 0;
    absl::Time down_until = absl::InfinitePast();
  };
  absl::Time Now() const { return options.clock ? options.clock() : absl::Now(); }
  // True when no instance can be marked down now (none ever was, or every mark has expired):
  // the health table need not be read. No mutex.
  bool NoneDown() const {
    const int64_t latest = down_until_latest.load(std::memory_order_relaxed);
    return latest == kNeverDown || absl::ToUnixNanos(Now()) >= latest;
  }
  // The calling thread's round-robin cursor for this provider; a thread's first one (or one
  // after another provider took its slot) starts where the previous start left off.
  uint64_t& Cursor() {
    struct Slot {
      uint64_t provider = 0;
      uint64_t cursor = 0;
    };
    thread_local std::array<Slot, 8> slots;
    Slot& slot = slots[id % slots.size()];
    if (slot.provider != id) {
      slot.provider = id;
      slot.cursor = first_cursor.fetch_add(1, std::memory_order_relaxed);
    }
    return slot.cursor;
  }

  static constexpr int64_t kNeverDown = std::numeric_limits<int64_t>::min();
  const ServiceCache& cache;
  const ServiceProviderOptions options;
  const uint64_t id = internal::NewPublisherId();  // keys the threads' cursors; never reused
  std::atomic<uint64_t> first_cursor{0};
  // The latest down_until ever set (Unix ns), or kNeverDown; written under mu.
  std::atomic<int64_t> down_until_latest{kNeverDown};
  zk::internal::Mutex mu;
  uint64_t next ABSL_GUARDED_BY(mu) = 0;  // kSticky's cursor
  std::string sticky_id ABSL_GUARDED_BY(mu);
  std::mt19937_64 random ABSL_GUARDED_BY(mu){std::random_device{}()};
  std::map<std::string, Health> health ABSL_GUARDED_BY(mu);  // by id
};

absl::StatusOr<std::unique_ptr<ServiceProvider>> ServiceProvider::Create(
    const ServiceCache& cache, ServiceProviderOptions options) {
  if (options.failures_to_mark_down < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "service_provider ", cache.name(), ": failures_to_mark_down must be at least 1 (got ",
        options.failures_to_mark_down, ")"));
  }
  if (options.down_duration < std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError(
        absl::StrCat("service_provider ", cache.name(), ": down_duration is negative"));
  }
  return std::unique_ptr<ServiceProvider>(
      new ServiceProvider(std::make_unique<State>(cache, std::move(options))));
}

ServiceProvider::ServiceProvider(std::unique_ptr<State> state) : state_(std::move(state)) {}
ServiceProvider::~ServiceProvider() = default;

absl::StatusOr<ServiceInstance> ServiceProvider::Next() {
  ZK_ASSIGN_OR_RETURN(std::shared_ptr<const ServiceInstance> picked, NextShared());
  return *picked;
}

absl::StatusOr<std::shared_ptr<const ServiceInstance>> ServiceProvider::NextShared() {
  State& s = *state_;
  std::shared_ptr<const ServiceInstances> all = s.cache.Instances();
  if (all->empty()) {
    return absl::NotFoundError(
        absl::StrCat("service_provider ", s.cache.name(), ": no instance is registered"));
  }
  const ServiceInstance* picked = nullptr;
  if (s.options.strategy == ProviderStrategy::kRoundRobin && s.NoneDown()) {
    // The common case: no lock, no allocation, no write another thread reads.
    picked = &(*all)[s.Cursor()++ % all->size()];
    return std::shared_ptr<const ServiceInstance>(std::move(all), picked);
  }
  const absl::Time now = s.Now();
  MutexLock lock(&s.mu);
  std::vector<const ServiceInstance*> up;
  for (const ServiceInstance& instance : *all) {
    auto it = s.health.find(instance.id);
    if (it == s.health.end() || it->second.down_until <= now) up.push_back(&instance);
  }
  if (up.empty()) {
    return absl::UnavailableError(absl::StrCat("service_provider ", s.cache.name(), ": all ",
                                               all->size(), " instances are marked down"));
  }
  switch (s.options.strategy) {
    case ProviderStrategy::kRandom:
      picked = up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(s.random)];
      break;
    case ProviderStrategy::kSticky:
      for (const ServiceInstance* instance : up) {
        if (instance->id == s.sticky_id) picked = instance;
      }
      if (picked == nullptr) {
        picked = up[s.next++ % up.size()];
        s.sticky_id = picked->id;
      }
      break;
    case ProviderStrategy::kRoundRobin:
      picked = up[s.Cursor()++ % up.size()];
      break;
  }
  return std::shared_ptr<const ServiceInstance>(std::move(all), picked);
}

void ServiceProvider::ReportFailure(const ServiceInstance& instance) {
  State& s = *state_;
  const absl::Time now = s.Now();
  MutexLock lock(&s.mu);
  State::Health& health = s.health[instance.id];
  if (++health.failures >= s.options.failures_to_mark_down) {
    health.failures = 0;
    health.down_until = now + absl::FromChrono(s.options.down_duration);
    const int64_t until = absl::ToUnixNanos(health.down_until);
    if (until > s.down_until_latest.load(std::memory_order_relaxed)) {
      s.down_until_latest.store(until, std::memory_order_relaxed);
    }
  }
}

void ServiceProvider::ReportSuccess(const ServiceInstance& instance) {
  State& s = *state_;
  MutexLock lock(&s.mu);
  if (auto it = s.health.find(instance.id); it != s.health.end()) it->second.failures = 0;
}

bool ServiceProvider::IsDown(const ServiceInstance& instance) {
  State& s = *state_;
  const absl::Time now = s.Now();
  MutexLock lock(&s.mu);
  auto it = s.health.find(instance.id);
  return it != s.health.end() && it->second.down_until > now;
}

}  // namespace zk::recipes
