// Reading a published snapshot without contention: what NodeCache::Current(),
// ChildrenCache::Snapshot() and ServiceCache::Instances() do on every call.
//
// A publisher (a cache) keeps its current snapshot (a std::shared_ptr<const T>) under its own
// mutex and a generation counter beside it, bumped (release) under the same mutex whenever the
// snapshot changes. A reader keeps, per thread, the last snapshot it read of that publisher and
// its generation. Each read loads the generation once (acquire; a cache line only the
// publisher writes, so it stays shared between cores) and, when it did not move, returns the
// thread's copy: no mutex and no write to memory another core uses. Only after a change does
// the reader take the publisher's mutex.
//
// The shared_ptr a read returns shares a control block private to the calling thread (the
// aliasing constructor over a per-thread holder of the publisher's shared_ptr), so copying it
// and dropping it bump a counter no other core touches; it keeps the snapshot alive like any
// shared_ptr and may be passed to other threads.
//
// Per thread, reads see snapshots in publication order: a newer read never returns an older
// snapshot. Lifetime: a thread's copy keeps the last snapshot it read of a publisher alive
// until that thread reads a newer one, reads another publisher that takes its slot (kSlots
// per thread, by publisher id), or exits; publishers' ids are never reused, so a slot never
// answers for a publisher that is gone.

#ifndef ZK_RECIPES_SRC_THREAD_SNAPSHOT_H_
#define ZK_RECIPES_SRC_THREAD_SNAPSHOT_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace zk::recipes::internal {

// Returns an id for a new publisher, never returned before in this process. Any thread.
inline uint64_t NewPublisherId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// One thread's copy of one publisher's snapshot (type-erased).
struct ThreadSnapshotSlot {
  uint64_t publisher = 0;  // 0: empty
  uint64_t generation = 0;
  std::shared_ptr<const void> holder;  // owns a std::shared_ptr<const T> of the publisher's
  const void* value = nullptr;         // the T it points to
};

inline constexpr size_t kThreadSnapshotSlots = 8;

// The calling thread's slot for `publisher`.
inline ThreadSnapshotSlot& ThreadSnapshotSlotFor(uint64_t publisher) {
  thread_local std::array<ThreadSnapshotSlot, kThreadSnapshotSlots> slots;
  return slots[publisher % kThreadSnapshotSlots];
}

// Returns the snapshot of `publisher`, whose generation counter the caller just read (acquire)
// as `generation`. `load` is
// called (on this thread) only when this thread's copy is missing or older:
//   std::shared_ptr<const T> load(uint64_t* generation)
// returns the current snapshot (never null) and stores the generation it belongs to, both
// read under the publisher's mutex. It may read other publishers (their slots are updated
// before this one is). Never null.
template <typename T, typename Load>
std::shared_ptr<const T> ReadThreadSnapshot(uint64_t publisher, uint64_t generation,
                                            Load&& load) {
  ThreadSnapshotSlot& slot = ThreadSnapshotSlotFor(publisher);
  if (slot.publisher != publisher || slot.generation != generation) {
    uint64_t loaded_generation = 0;
    std::shared_ptr<const T> fresh = std::forward<Load>(load)(&loaded_generation);
    const T* value = fresh.get();
    slot.holder = std::make_shared<const std::shared_ptr<const T>>(std::move(fresh));
    slot.value = value;
    slot.publisher = publisher;
    slot.generation = loaded_generation;
  }
  return std::shared_ptr<const T>(slot.holder, static_cast<const T*>(slot.value));
}

}  // namespace zk::recipes::internal

#endif  // ZK_RECIPES_SRC_THREAD_SNAPSHOT_H_
