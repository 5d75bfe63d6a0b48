#include "zk/recipes/service_cache.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "zk/path.h"

namespace zk::recipes {

using zk::internal::MutexLock;

namespace {
}  // namespace

absl::StatusOr<std::unique_ptr<ServiceCache>> ServiceCache::Create(Client& client,
                                                                   std::string_view base_path,
                                                                   std::string_view name,
                                                                   ServiceCacheOptions options) {
  ZK_RETURN_IF_ERROR(ValidatePath("service_cache", base_path));
  ZK_RETURN_IF_ERROR(ValidateServiceName("name", name));
  options.cache.cache_data = true;
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ChildrenCache> children,
                      ChildrenCache::Create(client, JoinPath(base_path, name), options.cache));
  std::function<void(std::string_view)> on_warning = std::move(options.on_warning);
  if (!on_warning) {
    on_warning = [](std::string_view message) {
      std::fprintf(stderr, "zkcpp service_cache: %.*s\n", static_cast<int>(message.size()),
                   message.data());
    };
  }
  return std::unique_ptr<ServiceCache>(
      new ServiceCache(std::move(children), std::string(name), std::move(on_warning)));
}

ServiceCache::ServiceCache(std::unique_ptr<ChildrenCache> children, std::string name,
                           std::function<void(std::string_view)> on_warning)
    : name_(std::move(name)), on_warning_(std::move(on_warning)), children_(std::move(children)) {}

ServiceCache::~ServiceCache() { children_.reset(); }

absl::Status ServiceCache::Start() { return children_->Start(); }

absl::Status ServiceCache::WaitUntilLoaded(std::chrono::milliseconds timeout) {
  return children_->WaitUntilLoaded(timeout);
}

CacheStatus ServiceCache::status() const { return children_->status(); }

CacheMetrics ServiceCache::Metrics() const {
  CacheMetrics metrics = children_->Metrics();
  metrics.entries = Instances()->size();
  return metrics;
}

std::optional<ServiceInstance> ServiceCache::Parse(const ChildData& child, bool warn) const {
  absl::StatusOr<ServiceInstance> parsed = ParseServiceInstance(child.data);
  std::string problem;
  if (!parsed.ok()) {
    problem = std::string(parsed.status().message());
  } else if (parsed->id != child.name || parsed->name != name_) {
    problem = absl::StrCat("names ", parsed->name, "/", parsed->id, ", not its own path");
  }
  if (problem.empty()) return *std::move(parsed);
  if (warn) {
    bool first;
    {
      MutexLock lock(&mu_);
      auto [it, inserted] = warned_.emplace(child.path, child.stat.mzxid);
      first = inserted || it->second != child.stat.mzxid;
      it->second = child.stat.mzxid;
    }
    if (first) {
      on_warning_(absl::StrCat("skipping instance ", child.path, " (mzxid ", child.stat.mzxid,
                               "): ", problem));
    }
  }
  return std::nullopt;
}

std::shared_ptr<const ServiceInstances> ServiceCache::Instances() const {
  std::shared_ptr<const ChildrenSnapshot> snapshot = children_->Snapshot();
  {
    MutexLock lock(&mu_);
    if (snapshot == converted_from_ && instances_) return instances_;
  }
  // Convert outside the lock (warnings call user code); the snapshot is immutable.
  auto instances = std::make_shared<ServiceInstances>();
  for (const auto& [name, child] : *snapshot) {
    if (std::optional<ServiceInstance> instance = Parse(child, /*warn=*/true)) {
      instances->push_back(*std::move(instance));
    }
  }
  std::shared_ptr<const ServiceInstances> result = std::move(instances);
  MutexLock lock(&mu_);
  converted_from_ = snapshot;
  instances_ = result;
  return result;
}

Subscription ServiceCache::AddListener(Listener listener) {
  return children_->AddListener([this, listener = std::move(listener)](const ChildrenDelta& d) {
    ServiceDelta delta;
    for (const ChildData& child : d.added) {
      if (auto instance = Parse(child, false)) delta.added.push_back(*std::move(instance));
    }
    for (const ChildData& child : d.removed) {
      if (auto instance = Parse(child, false)) delta.removed.push_back(*std::move(instance));
    }
    for (const auto& [before_child, after_child] : d.updated) {
      std::optional<ServiceInstance> before = Parse(before_child, false);
      std::optional<ServiceInstance> after = Parse(after_child, false);
      if (before && after) {
        delta.updated.emplace_back(*std::move(before), *std::move(after));
      } else if (after) {
        delta.added.push_back(*std::move(after));
      } else if (before) {
        delta.removed.push_back(*std::move(before));
      }
    }
    if (!delta.empty()) listener(delta);
  });
}

}  // namespace zk::recipes
