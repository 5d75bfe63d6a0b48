// zkcpp recipes — a double barrier: N members enter together, and leave together.
//
// Overview. Enter() creates an ephemeral member node "<path>/<uuid>" and returns once
// `member_count` members are present: the member that counts them all creates "<path>/ready",
// which the others watch. Leave() removes the member node and returns once every member's node
// is gone: the lowest member (by name) waits for the highest to go, the others remove their own
// node and wait for the lowest to go, which it does last; the last one out removes "ready" (the
// leave protocol of ZooKeeper's recipe notes and kazoo's DoubleBarrier). The node layout and
// the enter protocol are Curator's DistributedDoubleBarrier's, so Java services using Curator
// and C++ services using zkcpp meet at one barrier; in a mixed group a zkcpp member still
// leaves only once every member node is gone (Curator's own Leave may return while one is
// left).
//
// Reuse: one path serves one round (Curator's barrier does not reset either): a member entering
// after the round filled passes at once while "ready" exists. Use a path per round
// ("/jobs/step-17").
//
// Sessions. Membership lives in an ephemeral node: if the session is lost while entering or
// waiting to leave, the call fails with Aborted (the others may already have counted the lost
// member). Connection losses are ridden out: member nodes have unique names, so a create or a
// delete of unknown outcome is simply sent again and judged by what is found.
//
//   ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::DoubleBarrier> barrier,
//                       zk::recipes::DoubleBarrier::Create(*client, "/jobs/step-17", 4));
//   ZK_RETURN_IF_ERROR(barrier->Enter(std::chrono::seconds(30)));
//   // ... all 4 members compute ...
//   ZK_RETURN_IF_ERROR(barrier->Leave(std::chrono::seconds(30)));
//
// Thread-safety: thread-safe, but one Enter or Leave at a time per object (one object is one
// member). Lifetime: must not outlive the Client; destroying it ends a pending call with
// Cancelled and removes the member node in the background.

#ifndef ZK_RECIPES_DOUBLE_BARRIER_H_
#define ZK_RECIPES_DOUBLE_BARRIER_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/client.h"

namespace zk::recipes {

// One member of a double barrier on `path`. Thread-safe.
class DoubleBarrier {
 public:
  // Creates the member; no I/O. Errors: InvalidArgument (bad path, "/", member_count < 1).
  static absl::StatusOr<std::unique_ptr<DoubleBarrier>> Create(Client& client,
                                                               std::string_view path,
                                                               int member_count);
  ~DoubleBarrier();
  DoubleBarrier(const DoubleBarrier&) = delete;
  DoubleBarrier& operator=(const DoubleBarrier&) = delete;

  // Joins and waits until `member_count` members have joined (or the round has filled), at most
  // `timeout` (> 0). On failure the member node is removed again.
  // Errors: DeadlineExceeded, Aborted (the session was lost: the member node is gone),
  // FailedPrecondition (already entered, or another call in progress; blocking form on an
  // inline callback thread), Cancelled (object destroyed or client closed), InvalidArgument
  // (timeout), the client's errors.
  absl::Status Enter(std::chrono::milliseconds timeout);
  // Removes the member node and waits until every member's node is gone, at most `timeout`.
  // Errors: DeadlineExceeded (the member node may already be removed), Aborted (the session
  // was lost before this member left), FailedPrecondition (not entered, or another call in
  // progress), Cancelled, InvalidArgument, the client's errors.
  absl::Status Leave(std::chrono::milliseconds timeout);
  // The async forms: `done` runs once on the client's callback executor.
  void AsyncEnter(std::chrono::milliseconds timeout, StatusCallback done);
  void AsyncLeave(std::chrono::milliseconds timeout, StatusCallback done);

  // This member's node ("<path>/<uuid>"), fixed at Create.
  const std::string& member_path() const;
  const std::string& path() const;

  struct Impl;  // internal

 private:
  explicit DoubleBarrier(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_DOUBLE_BARRIER_H_
