// zkcpp recipes — configuration push: one znode's value, delivered to every subscriber.
//
// Overview. ConfigWatcher keeps the value of a config node (through NodeCache: the read and
// the watch are armed in one call) and serves Current() from memory. Listeners get every new
// value in strictly increasing mzxid order: anything not newer than the last value delivered
// is ignored, so values never go backwards, also across reconnects and session losses (after
// which it re-reads). Deleting the node is delivered as a value with exists == false, and a
// re-created node as a new value. Typed access decodes the bytes with a hook of yours.
// Publish() writes a value; given the version it last read, it is a compare-and-set.
//
//   ZK_ASSIGN_OR_RETURN(auto config, zk::recipes::ConfigWatcher::Create(*client, "/app/limits"));
//   zk::Subscription sub = config->AddListener([](const zk::recipes::ConfigValue& v) {
//     if (v.exists) Apply(v.data);
//   });
//   ZK_RETURN_IF_ERROR(config->Start());
//   ...
//   // elsewhere, the writer:
//   ZK_RETURN_IF_ERROR(zk::recipes::ConfigWatcher::Publish(*client, "/app/limits", "rps=200",
//                                                           /*expected_version=*/4).status());
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client; no listener runs after
// the destructor returns.

#ifndef ZK_RECIPES_CONFIG_WATCHER_H_
#define ZK_RECIPES_CONFIG_WATCHER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "zk/client.h"
#include "zk/recipes/node_cache.h"

namespace zk::recipes {

// A config value: data, version() and mzxid(); exists == false while the node is missing.
using ConfigValue = NodeData;

// Decodes a config value's bytes into a T.
template <typename T>
using ConfigDecoder = std::function<absl::StatusOr<T>(std::string_view data)>;

// Watches one config node. Thread-safe.
class ConfigWatcher {
 public:
  using Listener = std::function<void(const ConfigValue& value)>;

  // Creates the watcher; no I/O. Errors: InvalidArgument (bad path).
  static absl::StatusOr<std::unique_ptr<ConfigWatcher>> Create(Client& client,
                                                               std::string_view path,
                                                               NodeCacheOptions options = {});
  ~ConfigWatcher();

  // Starts watching (returns at once). Errors: as NodeCache::Start.
  absl::Status Start();
  // Waits for the initial read. Errors: as NodeCache::WaitUntilLoaded.
  absl::Status WaitUntilLoaded(std::chrono::milliseconds timeout);

  // Returns the current value (never null); no round trip.
  std::shared_ptr<const ConfigValue> Current() const { return cache_->Current(); }
  CacheStatus status() const { return cache_->status(); }
  // Calls `listener` on the client's callback executor with every new value (strictly
  // increasing mzxid while the node exists).
  Subscription AddListener(Listener listener) { return cache_->AddListener(std::move(listener)); }

  // Returns the current value decoded by `decode`.
  // Errors: NotFound (missing or not loaded), the decoder's error.
  template <typename T>
  absl::StatusOr<T> CurrentAs(const ConfigDecoder<T>& decode) const {
    std::shared_ptr<const ConfigValue> value = Current();
    if (!value->exists) return NotFound();
    return decode(value->data);
  }
  // Calls `listener` with every new value decoded by `decode` (a decoding error or a deletion
  // arrives as the error status, with the raw value).
  template <typename T>
  Subscription AddTypedListener(
      ConfigDecoder<T> decode,
      std::function<void(const absl::StatusOr<T>& decoded, const ConfigValue& raw)> listener) {
    return AddListener([this, decode = std::move(decode),
                        listener = std::move(listener)](const ConfigValue& value) {
      if (!value.exists) return listener(absl::StatusOr<T>(NotFound()), value);
      listener(decode(value.data), value);
    });
  }

  // Writes `data` to `path`. With `expected_version`, compare-and-set: only if the node's
  // version is that (Aborted otherwise, NotFound if missing). Without it, unconditionally,
  // creating the node (and its parents) if missing. Returns the node's new Stat.
  // Errors: Aborted (BADVERSION: re-read and retry), NotFound, InvalidArgument, the client's
  // errors (Unavailable: outcome unknown).
  static absl::StatusOr<Stat> Publish(Client& client, std::string_view path,
                                      std::string_view data,
                                      std::optional<int32_t> expected_version = std::nullopt);

  const std::string& path() const { return cache_->path(); }

 private:
  explicit ConfigWatcher(std::unique_ptr<NodeCache> cache) : cache_(std::move(cache)) {}
  absl::Status NotFound() const;

  std::unique_ptr<NodeCache> cache_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_CONFIG_WATCHER_H_
