// ListenerSet: the listeners of one recipe (lock events, leadership changes), each behind a
// Subscription with zk::Watch's guarantee, delivered on the client's callback executor.

#ifndef ZK_RECIPES_SRC_LISTENER_SET_H_
#define ZK_RECIPES_SRC_LISTENER_SET_H_

#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "zk/client.h"
#include "zk/internal/client_access.h"
#include "zk/internal/sync.h"

namespace zk::recipes::internal {

// Thread-safe.
template <typename Event>
class ListenerSet {
 public:
  using Listener = std::function<void(const Event&)>;

  Subscription Add(Listener listener) {
    zk::internal::ClientAccess::Listener registration = zk::internal::ClientAccess::NewListener();
    zk::internal::MutexLock lock(&mu_);
    PruneLocked();
    entries_.emplace(next_id_++, Entry{registration.slot, std::move(listener)});
    return std::move(registration.handle);
  }

  // The listeners whose subscription is still alive.
  size_t size() {
    zk::internal::MutexLock lock(&mu_);
    PruneLocked();
    return entries_.size();
  }

  // Loop thread: queues `event` for every listener, in order with the client's other callbacks.
  void Notify(Client& client, const Event& event) {
    // Delivered outside the lock: with inline callbacks a listener runs right here, and it may
    // add a listener or destroy the recipe (Close).
    std::vector<Entry> entries;
    {
      zk::internal::MutexLock lock(&mu_);
      PruneLocked();
      entries.reserve(entries_.size());
      for (const auto& [id, entry] : entries_) entries.push_back(entry);
    }
    for (Entry& entry : entries) {
      zk::internal::ClientAccess::DeliverToUser(client, [entry = std::move(entry), event] {
        zk::internal::ClientAccess::RunListener(entry.slot, [&] { entry.listener(event); });
      });
    }
  }

  // Cancels every listener: none runs once this returns (unless called from one of them).
  void Close() {
    std::map<uint64_t, Entry> entries;
    {
      zk::internal::MutexLock lock(&mu_);
      entries.swap(entries_);
    }
    for (auto& [id, entry] : entries) zk::internal::ClientAccess::CancelListener(entry.slot);
  }

 private:
  // Forgets listeners whose subscription was cancelled or destroyed: a recipe that outlives many
  // short-lived subscribers must not keep them all until Close.
  void PruneLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::erase_if(entries_, [](const auto& entry) {
      return zk::internal::ClientAccess::ListenerCancelled(entry.second.slot);
    });
  }
  struct Entry {
    std::shared_ptr<zk::internal::CallbackSlot> slot;
    Listener listener;
  };
  zk::internal::Mutex mu_;
  std::map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace zk::recipes::internal

#endif  // ZK_RECIPES_SRC_LISTENER_SET_H_
