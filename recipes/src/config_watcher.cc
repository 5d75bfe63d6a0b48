#include "zk/recipes/config_watcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "zk/path.h"

namespace zk::recipes {

absl::StatusOr<std::unique_ptr<ConfigWatcher>> ConfigWatcher::Create(Client& client,
                                                                     std::string_view path,
                                                                     NodeCacheOptions options) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<NodeCache> cache, NodeCache::Create(client, path, options));
  return std::unique_ptr<ConfigWatcher>(new ConfigWatcher(std::move(cache)));
}

ConfigWatcher::~ConfigWatcher() = default;

absl::Status ConfigWatcher::Start() { return cache_->Start(); }

absl::Status ConfigWatcher::WaitUntilLoaded(std::chrono::milliseconds timeout) {
  return cache_->WaitUntilLoaded(timeout);
}

absl::Status ConfigWatcher::NotFound() const {
  return absl::NotFoundError(absl::StrCat("config ", cache_->path(), ": no value"));
}

absl::StatusOr<Stat> ConfigWatcher::Publish(Client& client, std::string_view path,
                                            std::string_view data,
                                            std::optional<int32_t> expected_version) {
  ZK_RETURN_IF_ERROR(ValidatePath("publish", path));
  if (expected_version) return client.Set(path, data, expected_version);
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<Stat> set = client.Set(path, data);
    if (!IsNoNode(set.status()) || attempt >= 3) return set;
    absl::StatusOr<CreateResult> created = client.Create(path, data, {.create_parents = true});
    if (created.ok()) return created->stat;
    if (!IsNodeExists(created.status())) return created.status();
    // Created concurrently: set it.
  }
}

}  // namespace zk::recipes
