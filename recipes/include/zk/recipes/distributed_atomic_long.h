// zkcpp recipes — a 64-bit counter in one znode, changed by optimistic versioned writes.
//
// Overview. Every change reads the node (data and version), computes the new value and writes
// it with a versioned set: if another writer got in between (BADVERSION) the change is read
// and tried again, with backoff, up to AtomicRetryPolicy::max_attempts; a change that runs out
// of attempts returns `succeeded = false`, not an error (as Curator's AtomicValue does). A
// missing node counts as 0 and is created by the first change.
//
// Encoding. The node holds the value as 8 bytes, big-endian two's complement: Curator's
// DistributedAtomicLong layout (ByteBuffer.putLong), so a Java service using Curator and a C++
// service using zkcpp share one counter on the same path. An empty node reads as 0, as in
// Curator; data of any other length is refused with DataLoss (Curator would read the first 8
// bytes of longer data; it never writes any).
//
// Unknown outcomes. A versioned write (set, or the create of a missing node) that ends in a
// connection loss, a missed deadline or a session expiry may or may not have been applied. It
// is never sent again blindly: first a check through the leader (a one-op multi, ordered after
// anything the leader took before it, the lost write included if it got there), then, in
// session order after it, a read of the node, and
//   - its version still the one the write expected (or, for a create, the node still missing):
//     the write was not applied; the change is tried again as a new attempt (two writes at the
//     same version can apply at most once, so nothing is counted twice);
//   - its version one higher (same node) with data other than ours: another writer's write was
//     applied instead; tried again likewise;
//   - otherwise (the version moved further, or one higher with exactly our data, which another
//     writer starting from the same value would have written too): undecidable; the call
//     fails with Unavailable marked IsUnknownOutcome() and the message says what was seen.
// The 8-byte layout leaves no room for a writer id, so the last case cannot be decided; the
// fault runs here see it 0 to 6 times in runs of about 30 faults.
//
//   ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::DistributedAtomicLong> orders,
//                       zk::recipes::DistributedAtomicLong::Create(*client, "/counters/orders"));
//   ZK_ASSIGN_OR_RETURN(zk::recipes::AtomicResult next, orders->Increment());
//   if (next.succeeded) Use(next.post);  // else: contention outlasted the retry policy
//
// Thread-safety: thread-safe; concurrent changes from threads of one process compete as those
// of separate processes do. Lifetime: must not outlive the Client; destroying it ends pending
// async calls with Cancelled (their callbacks still run once, possibly after it returns).

#ifndef ZK_RECIPES_DISTRIBUTED_ATOMIC_LONG_H_
#define ZK_RECIPES_DISTRIBUTED_ATOMIC_LONG_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/client.h"

namespace zk::recipes {

// The result of one change: whether it was applied, the value it was computed from and the
// value it wrote (both `pre` when not applied).
struct AtomicResult {
  bool succeeded = false;
  int64_t pre = 0;
  int64_t post = 0;
  int attempts = 0;  // versioned writes tried (contention and resolved connection losses)
};

// How often a change is tried again after losing a race (BADVERSION, NODEEXISTS) or a transient
// error (connection loss, session expiry, deadline) whose outcome could be decided.
struct AtomicRetryPolicy {
  int max_attempts = 10;                                 // >= 1
  std::chrono::milliseconds base_backoff{5};             // before the 2nd attempt; >= 0
  std::chrono::milliseconds max_backoff{500};            // cap of the doubling; >= base
  // Each wait is drawn uniformly from [0, min(max_backoff, base_backoff * 2^(n-1))] ("full
  // jitter"), so that writers that collided do not collide again in step.
};

struct DistributedAtomicLongOptions {
  AtomicRetryPolicy retry;
};

// Encodes `value` as the node data Curator's DistributedAtomicLong reads (8 bytes, big-endian).
std::string EncodeAtomicLong(int64_t value);
// Decodes node data: 8 bytes big-endian, or empty (0). Errors: DataLoss naming `path`.
absl::StatusOr<int64_t> DecodeAtomicLong(std::string_view path, std::string_view data);

// A distributed counter on `path`. Thread-safe.
class DistributedAtomicLong {
 public:
  // Creates the recipe; no I/O.
  // Errors: InvalidArgument (bad path, "/", bad retry policy).
  static absl::StatusOr<std::unique_ptr<DistributedAtomicLong>> Create(
      Client& client, std::string_view path, DistributedAtomicLongOptions options = {});
  // Ends pending async calls with Cancelled.
  ~DistributedAtomicLong();
  DistributedAtomicLong(const DistributedAtomicLong&) = delete;
  DistributedAtomicLong& operator=(const DistributedAtomicLong&) = delete;

  // Returns the current value (0 if the node is missing) as `pre` and `post`, succeeded = true.
  // Errors: DataLoss (node data is not a long), the client's errors.
  absl::StatusOr<AtomicResult> Get();
  // Adds `delta` (wrapping on overflow, as Java's long does). Increment / Decrement add 1 / -1.
  // Errors: DataLoss, Unavailable marked IsUnknownOutcome() (see the overview), Cancelled,
  // FailedPrecondition (blocking form on an inline callback thread), the client's other errors.
  absl::StatusOr<AtomicResult> Add(int64_t delta);
  absl::StatusOr<AtomicResult> Increment() { return Add(1); }
  absl::StatusOr<AtomicResult> Decrement() { return Add(-1); }
  // Sets `new_value` if the value is `expected`: succeeded = false (not an error) when it is
  // not, with `pre` the value found. A lost race with a writer that left `expected` in place is
  // tried again. Errors: as Add.
  absl::StatusOr<AtomicResult> CompareAndSet(int64_t expected, int64_t new_value);
  // Sets `new_value` whatever the value is, through the same versioned writes (so it can run
  // out of attempts under contention: succeeded = false). Errors: as Add.
  absl::StatusOr<AtomicResult> TrySet(int64_t new_value);
  // Creates the node with `value` if it is missing: true if this call created it.
  // Errors: as Add.
  absl::StatusOr<bool> Initialize(int64_t value);

  // The async forms: `done` runs once on the client's callback executor.
  void AsyncGet(Callback<AtomicResult> done);
  void AsyncAdd(int64_t delta, Callback<AtomicResult> done);
  void AsyncCompareAndSet(int64_t expected, int64_t new_value, Callback<AtomicResult> done);
  void AsyncTrySet(int64_t new_value, Callback<AtomicResult> done);

  const std::string& path() const;

  struct Impl;  // internal

 private:
  explicit DistributedAtomicLong(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_DISTRIBUTED_ATOMIC_LONG_H_
