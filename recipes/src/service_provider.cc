#include "zk/recipes/service_provider.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace zk::recipes {

using zk::internal::MutexLock;

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
  return std::unique_ptr<ServiceProvider>(new ServiceProvider(cache, std::move(options)));
}

ServiceProvider::ServiceProvider(const ServiceCache& cache, ServiceProviderOptions options)
    : cache_(cache), options_(std::move(options)) {}

absl::StatusOr<ServiceInstance> ServiceProvider::Next() {
  std::shared_ptr<const ServiceInstances> all = cache_.Instances();
  if (all->empty()) {
    return absl::NotFoundError(
        absl::StrCat("service_provider ", cache_.name(), ": no instance is registered"));
  }
  const absl::Time now = Now();
  MutexLock lock(&mu_);
  std::vector<const ServiceInstance*> up;
  for (const ServiceInstance& instance : *all) {
    auto it = health_.find(instance.id);
    if (it == health_.end() || it->second.down_until <= now) up.push_back(&instance);
  }
  if (up.empty()) {
    return absl::UnavailableError(absl::StrCat("service_provider ", cache_.name(), ": all ",
                                               all->size(), " instances are marked down"));
  }
  switch (options_.strategy) {
    case ProviderStrategy::kRandom:
      return *up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(random_)];
    case ProviderStrategy::kSticky:
      for (const ServiceInstance* instance : up) {
        if (instance->id == sticky_id_) return *instance;
      }
      sticky_id_ = up[next_++ % up.size()]->id;
      for (const ServiceInstance* instance : up) {
        if (instance->id == sticky_id_) return *instance;
      }
      break;
    case ProviderStrategy::kRoundRobin:
      break;
  }
  return *up[next_++ % up.size()];
}

void ServiceProvider::ReportFailure(const ServiceInstance& instance) {
  const absl::Time now = Now();
  MutexLock lock(&mu_);
  Health& health = health_[instance.id];
  if (++health.failures >= options_.failures_to_mark_down) {
    health.failures = 0;
    health.down_until = now + absl::FromChrono(options_.down_duration);
  }
}

void ServiceProvider::ReportSuccess(const ServiceInstance& instance) {
  MutexLock lock(&mu_);
  if (auto it = health_.find(instance.id); it != health_.end()) it->second.failures = 0;
}

bool ServiceProvider::IsDown(const ServiceInstance& instance) {
  const absl::Time now = Now();
  MutexLock lock(&mu_);
  auto it = health_.find(instance.id);
  return it != health_.end() && it->second.down_until > now;
}

}  // namespace zk::recipes
