// zkcpp recipes — a barrier: a node whose presence holds waiters back until it is removed.
//
// Overview. SetBarrier() creates the node "<path>"; WaitOnBarrier() returns once the node does
// not exist (at once if it is not set), watching it meanwhile; RemoveBarrier() deletes it and so
// releases every waiter. Curator's DistributedBarrier (and kazoo's Barrier) do the same on the
// same node, so Java and C++ processes can hold and wait on one barrier.
//
//   ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Barrier> barrier,
//                       zk::recipes::Barrier::Create(*client, "/deploy/hold"));
//   ZK_RETURN_IF_ERROR(barrier->SetBarrier());            // by the coordinator
//   ZK_RETURN_IF_ERROR(barrier->WaitOnBarrier(std::chrono::minutes(5)));  // by the workers
//   ZK_RETURN_IF_ERROR(barrier->RemoveBarrier());         // by the coordinator: all go
//
// Sessions. The node is persistent: it survives the setter's session (remove it explicitly).
// A waiter rides out connection losses and session expiry: it looks again after each.
//
// Thread-safety: thread-safe; any number of threads may wait at once. Lifetime: must not
// outlive the Client; destroying it ends pending waits with Cancelled.

#ifndef ZK_RECIPES_BARRIER_H_
#define ZK_RECIPES_BARRIER_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/client.h"

namespace zk::recipes {

// A barrier on `path`. Thread-safe.
class Barrier {
 public:
  // Creates the recipe; no I/O. Errors: InvalidArgument (bad path, "/").
  static absl::StatusOr<std::unique_ptr<Barrier>> Create(Client& client, std::string_view path);
  ~Barrier();
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Creates the barrier node (and its parents); OK if it is already set.
  // Errors: the client's (Unavailable / DeadlineExceeded: outcome unknown, not retried, since
  // the barrier may have been removed meanwhile by another process).
  absl::Status SetBarrier();
  // Deletes the barrier node; OK if it is not set. Errors: FailedPrecondition (the node has
  // children), the client's (outcome unknown as above).
  absl::Status RemoveBarrier();
  // Waits until the barrier node does not exist, at most `timeout` (> 0).
  // Errors: DeadlineExceeded (still set), InvalidArgument (timeout), Cancelled (destroyed or
  // client closed), FailedPrecondition (blocking form on an inline callback thread), the
  // client's errors other than connection and session losses (which are ridden out).
  absl::Status WaitOnBarrier(std::chrono::milliseconds timeout);
  // As WaitOnBarrier; `done` runs once on the client's callback executor.
  void AsyncWaitOnBarrier(std::chrono::milliseconds timeout, StatusCallback done);

  const std::string& path() const;

  struct Impl;  // internal

 private:
  explicit Barrier(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_BARRIER_H_
