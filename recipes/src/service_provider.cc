#include "zk/recipes/service_provider.h"

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
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

  const ServiceCache& cache;
  const ServiceProviderOptions options;
  zk::internal::Mutex mu;
  uint64_t next ABSL_GUARDED_BY(mu) = 0;
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
  State& s = *state_;
  std::shared_ptr<const ServiceInstances> all = s.cache.Instances();
  if (all->empty()) {
    return absl::NotFoundError(
        absl::StrCat("service_provider ", s.cache.name(), ": no instance is registered"));
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
      return *up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(s.random)];
    case ProviderStrategy::kSticky:
      for (const ServiceInstance* instance : up) {
        if (instance->id == s.sticky_id) return *instance;
      }
      s.sticky_id = up[s.next++ % up.size()]->id;
      for (const ServiceInstance* instance : up) {
        if (instance->id == s.sticky_id) return *instance;
      }
      break;
    case ProviderStrategy::kRoundRobin:
      break;
  }
  return *up[s.next++ % up.size()];
}

void ServiceProvider::ReportFailure(const ServiceInstance& instance) {
  State& s = *state_;
  const absl::Time now = s.Now();
  MutexLock lock(&s.mu);
  State::Health& health = s.health[instance.id];
  if (++health.failures >= s.options.failures_to_mark_down) {
    health.failures = 0;
    health.down_until = now + absl::FromChrono(s.options.down_duration);
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
