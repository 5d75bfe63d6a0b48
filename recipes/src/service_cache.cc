#include "zk/recipes/service_cache.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "zk/internal/sync.h"
#include "thread_snapshot.h"
#include "zk/path.h"

namespace zk::recipes {

using zk::internal::MutexLock;

struct ServiceCache::State {
  State(std::unique_ptr<ChildrenCache> children, std::string name,
        std::function<void(std::string_view)> on_warning)
      : name(std::move(name)), on_warning(std::move(on_warning)), children(std::move(children)) {}
  // Parses `child`, or warns (once per node version) and returns nullopt.
  std::optional<ServiceInstance> Parse(const ChildData& child, bool warn);
  // Returns the instances of the children cache's current snapshot (converted once per
  // snapshot, by the first reader that needs it) and stores in `*at` a generation of the
  // children cache at most that of the snapshot converted.
  std::shared_ptr<const ServiceInstances> Convert(uint64_t* at);

  const std::string name;
  const std::function<void(std::string_view)> on_warning;
  std::unique_ptr<ChildrenCache> children;
  const uint64_t publisher_id = internal::NewPublisherId();  // for Instances()' thread copies
  zk::internal::Mutex mu;
  std::shared_ptr<const ChildrenSnapshot> converted_from ABSL_GUARDED_BY(mu);
  uint64_t converted_at ABSL_GUARDED_BY(mu) = 0;  // children generation read before it
  std::shared_ptr<const ServiceInstances> instances ABSL_GUARDED_BY(mu);
  std::map<std::string, int64_t> warned ABSL_GUARDED_BY(mu);  // path → mzxid
};

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
  return std::unique_ptr<ServiceCache>(new ServiceCache(
      std::make_unique<State>(std::move(children), std::string(name), std::move(on_warning))));
}

ServiceCache::ServiceCache(std::unique_ptr<State> state) : state_(std::move(state)) {}

// The children cache goes first: its listeners (AddListener's) use the rest of the state.
ServiceCache::~ServiceCache() { state_->children.reset(); }

const std::string& ServiceCache::name() const { return state_->name; }

absl::Status ServiceCache::Start() { return state_->children->Start(); }

absl::Status ServiceCache::WaitUntilLoaded(std::chrono::milliseconds timeout) {
  return state_->children->WaitUntilLoaded(timeout);
}

CacheStatus ServiceCache::status() const { return state_->children->status(); }

CacheMetrics ServiceCache::Metrics() const {
  CacheMetrics metrics = state_->children->Metrics();
  metrics.entries = Instances()->size();
  return metrics;
}

std::optional<ServiceInstance> ServiceCache::State::Parse(const ChildData& child, bool warn) {
  absl::StatusOr<ServiceInstance> parsed = ParseServiceInstance(child.data);
  std::string problem;
  if (!parsed.ok()) {
    problem = std::string(parsed.status().message());
  } else if (parsed->id != child.name || parsed->name != name) {
    problem = absl::StrCat("names ", parsed->name, "/", parsed->id, ", not its own path");
  }
  if (problem.empty()) return *std::move(parsed);
  if (warn) {
    bool first;
    {
      MutexLock lock(&mu);
      auto [it, inserted] = warned.emplace(child.path, child.stat.mzxid);
      first = inserted || it->second != child.stat.mzxid;
      it->second = child.stat.mzxid;
    }
    if (first) {
      on_warning(absl::StrCat("skipping instance ", child.path, " (mzxid ", child.stat.mzxid,
                               "): ", problem));
    }
  }
  return std::nullopt;
}

std::shared_ptr<const ServiceInstances> ServiceCache::State::Convert(uint64_t* at) {
  // The generation first: the snapshot read after it is that one or newer.
  *at = children->generation();
  std::shared_ptr<const ChildrenSnapshot> snapshot = children->Snapshot();
  {
    MutexLock lock(&mu);
    if (snapshot == converted_from && instances) return instances;
  }
  // Convert outside the lock (warnings call user code); the snapshot is immutable.
  auto converted = std::make_shared<ServiceInstances>();
  for (const auto& [child_name, child] : *snapshot) {
    if (std::optional<ServiceInstance> instance = Parse(child, /*warn=*/true)) {
      converted->push_back(*std::move(instance));
    }
  }
  std::shared_ptr<const ServiceInstances> result = std::move(converted);
  MutexLock lock(&mu);
  if (*at >= converted_at) {  // else a newer conversion was stored meanwhile: keep it
    converted_from = std::move(snapshot);
    converted_at = *at;
    instances = result;
  }
  return result;
}

std::shared_ptr<const ServiceInstances> ServiceCache::Instances() const {
  State& s = *state_;
  return internal::ReadThreadSnapshot<ServiceInstances>(
      s.publisher_id, s.children->generation(), [&s](uint64_t* at) { return s.Convert(at); });
}

Subscription ServiceCache::AddListener(Listener listener) {
  State* s = state_.get();
  return s->children->AddListener([s, listener = std::move(listener)](const ChildrenDelta& d) {
    ServiceDelta delta;
    for (const ChildData& child : d.added) {
      if (auto instance = s->Parse(child, false)) delta.added.push_back(*std::move(instance));
    }
    for (const ChildData& child : d.removed) {
      if (auto instance = s->Parse(child, false)) delta.removed.push_back(*std::move(instance));
    }
    for (const auto& [before_child, after_child] : d.updated) {
      std::optional<ServiceInstance> before = s->Parse(before_child, false);
      std::optional<ServiceInstance> after = s->Parse(after_child, false);
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
