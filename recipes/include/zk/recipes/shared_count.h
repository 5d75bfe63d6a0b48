// zkcpp recipes — a shared 32-bit count in one znode, cached and watched, with compare-and-set.
//
// Overview. Start() creates the node with the seed value if it is missing and loads it; from
// then on a NodeCache keeps the value in memory (a watch, read again at every change and after
// every reconnect), so GetVersionedCount() costs no round trip and listeners hear every change
// in order (quick successive changes may be coalesced into the last). TrySetCount() writes only
// if the node still has the version the caller read: the classic versioned compare-and-set.
//
// Encoding. 4 bytes, big-endian: Curator's SharedCount layout, so Java services using Curator
// and C++ services using zkcpp share one count on the same path.
//
// Connection. While the connection is suspended the cached value may be stale (others may
// change it meanwhile) and listeners hear kSuspended; after a reconnect (kReconnected) or a new
// session (kLost, then kReconnected) the node is read again and a change found is reported as
// kCountChanged. The value is persistent: a session loss loses no count.
//
//   ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::SharedCount> count,
//                       zk::recipes::SharedCount::Create(*client, "/app/workers", 0));
//   ZK_RETURN_IF_ERROR(count->Start(std::chrono::seconds(5)));
//   ZK_ASSIGN_OR_RETURN(zk::recipes::VersionedCount seen, count->GetVersionedCount());
//   ZK_ASSIGN_OR_RETURN(bool won, count->TrySetCount(seen.value + 1, seen));
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client; after the destructor
// returns no listener runs.

#ifndef ZK_RECIPES_SHARED_COUNT_H_
#define ZK_RECIPES_SHARED_COUNT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/client.h"

namespace zk::recipes {

// A value with the node version it was read at (Curator's VersionedValue<Integer>).
struct VersionedCount {
  int32_t value = 0;
  int32_t version = 0;
};

enum class SharedCountEventType {
  kCountChanged,  // `count` is the new value
  kSuspended,     // connection lost: the value may be stale until kReconnected
  kReconnected,   // connected again (same or new session); the value is being read again
  kLost,          // the session expired; a new one follows (kReconnected)
};

struct SharedCountEvent {
  SharedCountEventType type;
  VersionedCount count;  // the value known when the event was queued
};

// Encodes / decodes the node data (4 bytes, big-endian). Decode errors: DataLoss naming `path`.
std::string EncodeSharedCount(int32_t value);
absl::StatusOr<int32_t> DecodeSharedCount(std::string_view path, std::string_view data);

// A shared count on `path`. Thread-safe.
class SharedCount {
 public:
  using Listener = std::function<void(const SharedCountEvent& event)>;

  // Creates the recipe; no I/O. `seed` is the value the node is created with by Start().
  // Errors: InvalidArgument (bad path, "/").
  static absl::StatusOr<std::unique_ptr<SharedCount>> Create(Client& client, std::string_view path,
                                                             int32_t seed);
  ~SharedCount();
  SharedCount(const SharedCount&) = delete;
  SharedCount& operator=(const SharedCount&) = delete;

  // Creates the node with the seed if it is missing (and its parents), starts the cache and
  // waits until the value is loaded, at most `timeout`. Blocking; not on an inline callback.
  // Errors: FailedPrecondition (already started; inline callback thread), DeadlineExceeded,
  // the client's errors (from the create).
  absl::Status Start(std::chrono::milliseconds timeout);

  // Returns the value known now, from memory (the cache, or a newer value this object wrote or
  // read). Errors: FailedPrecondition (not started), NotFound (the node was deleted),
  // DataLoss (the node does not hold 4 bytes).
  absl::StatusOr<VersionedCount> GetVersionedCount() const;
  absl::StatusOr<int32_t> GetCount() const;

  // Writes `new_value` if the node's version is still `expected.version`: true if it did,
  // false if another writer got in first (the known value is then refreshed with a read, so
  // that GetVersionedCount() returns the newer one).
  // Errors: Unavailable / DeadlineExceeded marked IsUnknownOutcome() (connection lost during
  // the write: it may have been applied; read and compare), NotFound (node deleted), the
  // client's other errors; FailedPrecondition (blocking form on an inline callback thread).
  absl::StatusOr<bool> TrySetCount(int32_t new_value, VersionedCount expected);
  // Writes `new_value` whatever the version. Errors: as TrySetCount.
  absl::Status SetCount(int32_t new_value);
  // The async forms: `done` runs once on the client's callback executor.
  void AsyncTrySetCount(int32_t new_value, VersionedCount expected, Callback<bool> done);
  void AsyncSetCount(int32_t new_value, StatusCallback done);

  // Calls `listener` on the client's callback executor with each change of the count and each
  // connection state change, until the subscription is destroyed.
  Subscription AddListener(Listener listener);

  const std::string& path() const;

  struct Impl;  // internal

 private:
  explicit SharedCount(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_SHARED_COUNT_H_
