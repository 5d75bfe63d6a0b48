// zkcpp recipes — a counting semaphore: at most N holders of a lease on one path.
//
//   ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Semaphore> semaphore,
//                       zk::recipes::Semaphore::Create(*client, "/semaphores/workers", 4));
//   ZK_ASSIGN_OR_RETURN(zk::recipes::Lease lease, semaphore->Acquire(std::chrono::seconds(5)));
//   // ... at most 4 processes run this at once ...
//   ZK_RETURN_IF_ERROR(lease.Release());
//
// The layout is Curator's InterProcessSemaphoreV2's, so Java services using Curator and C++
// services using zkcpp share the leases of one path. Its waiters queue on a zk::recipes::Lock.

#ifndef ZK_RECIPES_SEMAPHORE_H_
#define ZK_RECIPES_SEMAPHORE_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/client.h"

namespace zk::recipes {

// A lease of a Semaphore. Move-only; destroying it, or assigning over it, returns the lease in
// the background (the delete is sent again after a connection loss, until the node is gone or
// the session ends). Must not outlive the Client.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& other) noexcept : client_(other.client_), node_path_(std::move(other.node_path_)) {
    other.node_path_.clear();
  }
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();
  // Returns the lease now: deletes its node and waits for the reply (the client's operation
  // timeout). OK if already returned or the client is closed. On an inline callback thread it
  // returns OK at once and the lease is returned in the background.
  // Errors: the client's errors; after Unavailable or DeadlineExceeded the delete goes on in
  // the background.
  absl::Status Release();
  const std::string& node_path() const { return node_path_; }

 private:
  friend class Semaphore;
  Lease(Client* client, std::string node_path)
      : client_(client), node_path_(std::move(node_path)) {}
  Client* client_ = nullptr;
  std::string node_path_;
};

// A counting semaphore with `max_leases` leases on `path`, in Curator's InterProcessSemaphoreV2
// layout ("<path>/locks" holds a mutex that orders waiters, "<path>/leases" the lease nodes):
// only the waiter holding the mutex watches the lease count, so a returned lease wakes one
// waiter. All participants must use the same max_leases. Thread-safe: threads sharing one
// Semaphore queue for leases as separate processes do. Must not outlive the Client.
class Semaphore {
 public:
  // Errors: InvalidArgument (bad path, max_leases < 1).
  static absl::StatusOr<std::unique_ptr<Semaphore>> Create(Client& client, std::string_view path,
                                                           int max_leases);
  // Waits for a lease, at most `timeout` (> 0). Blocking; not on an inline callback thread.
  // Errors: DeadlineExceeded, InvalidArgument, FailedPrecondition (on an inline callback
  // thread), the client's errors.
  absl::StatusOr<Lease> Acquire(std::chrono::milliseconds timeout);
  int max_leases() const { return max_leases_; }

 private:
  Semaphore(Client& client, std::string path, int max_leases)
      : client_(client), path_(std::move(path)), max_leases_(max_leases) {}
  Client& client_;
  const std::string path_;
  const int max_leases_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_SEMAPHORE_H_
