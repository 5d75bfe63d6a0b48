// zkcpp recipes — a znode that stays in place: re-created after a session loss or a delete by
// someone else, with the data last set (Curator's PersistentNode).
//
// Overview. Start() creates the node (ephemeral by default; persistent, sequential, protected
// sequential or TTL on request) and from then on the recipe keeps it existing: an exists watch
// on the node notices a delete, and every reconnect (kReconnected, also after a new session)
// checks it, so that a node lost with its session or deleted by another client is created again
// with the data last given to SetData(). A node found at the path that belongs to another
// session (a stale ephemeral of our previous session, or another client's) is deleted and
// replaced, so that the node lives and dies with this client's current session.
//
// Paths. For the non-sequential modes the node is always `path`. For a sequential mode the
// server appends a counter (and with `protect` the last segment also gets Curator's
// "_c_<uuid>-" prefix), so ActualPath() tells where the node is now. An unprotected
// sequential node is re-created at the path it first got; a protected one gets a new
// sequential path at each re-create (Curator's behaviour), and the old one, if it lingers with
// its old session, is deleted.
//
// Data. SetData() remembers the data at once (the next create uses it) and writes it to the
// node. Changes that other clients make to the data are not undone; a node found in place when
// the recipe first adopts it is given our data.
//
//   ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::PersistentNode> node,
//                       zk::recipes::PersistentNode::Create(*client, "/app/workers/w1", "up",
//                                                           {.mode = zk::CreateMode::kEphemeral}));
//   zk::Subscription sub = node->AddListener([](const zk::recipes::PersistentNodeEvent& e) {
//     if (e.type == zk::recipes::PersistentNodeEventType::kCreated) { /* e.path is ours */ }
//   });
//   ZK_RETURN_IF_ERROR(node->Start());
//   ZK_RETURN_IF_ERROR(node->WaitForInitialCreate(std::chrono::seconds(5)));
//   ZK_RETURN_IF_ERROR(node->SetData("busy"));
//
// Thread-safety: thread-safe. Lifetime: must not outlive the Client; the destructor closes the
// recipe (see Close()), and no listener runs after it returns.

#ifndef ZK_RECIPES_PERSISTENT_NODE_H_
#define ZK_RECIPES_PERSISTENT_NODE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "zk/client.h"

namespace zk::recipes {

// Options of PersistentNode::Create. Designated initializers: `{.mode = CreateMode::kPersistent}`.
struct PersistentNodeOptions {
  // kEphemeral, kPersistent, kEphemeralSequential, kPersistentSequential, kPersistentWithTtl or
  // kPersistentSequentialWithTtl (not kContainer).
  CreateMode mode = CreateMode::kEphemeral;
  // Curator's protected create (CreateOptions::protect): sequential modes only.
  bool protect = false;
  // Required for the *WithTtl modes, forbidden otherwise (as CreateOptions::ttl).
  std::optional<std::chrono::milliseconds> ttl;
  AclList acl = OpenAclUnsafe();
  // Creates missing ancestors (as persistent nodes).
  bool create_parents = true;
  // Bound of the blocking calls SetData() and Close(). Default: the client's negotiated
  // session timeout, at least 5 s.
  std::optional<std::chrono::milliseconds> timeout;
};

enum class PersistentNodeEventType {
  kCreated,  // the recipe created the node (first time or again); `path` is where it is
  kDeleted,  // the node was found missing (deleted by someone, or gone with a session); it is
             // being created again
  kError,    // a create, check or write failed with a non-transient error (`status`); it is
             // tried again in a second
};

struct PersistentNodeEvent {
  PersistentNodeEventType type;
  std::string path;      // the node's actual path (for kError: the path tried)
  absl::Status status;   // OK but for kError
  bool recreated = false;  // kCreated: not the first create
};

// A node kept in existence. Thread-safe.
class PersistentNode {
 public:
  using Listener = std::function<void(const PersistentNodeEvent& event)>;

  // Creates the recipe; no I/O. `path` is the node's path (for sequential modes, the prefix the
  // counter is appended to).
  // Errors: InvalidArgument naming "persistent_node <path>" and the problem (bad path, "/",
  // data over 1 MB, kContainer, `protect` without a sequential mode, a TTL missing, forbidden
  // or out of range, a non-positive timeout).
  static absl::StatusOr<std::unique_ptr<PersistentNode>> Create(Client& client,
                                                                std::string_view path,
                                                                std::string_view data,
                                                                PersistentNodeOptions options = {});
  // Closes (see Close()).
  ~PersistentNode();
  PersistentNode(const PersistentNode&) = delete;
  PersistentNode& operator=(const PersistentNode&) = delete;

  // Starts creating the node and keeping it; returns at once.
  // Errors: FailedPrecondition ("already started", "closed"), Cancelled (client closed).
  absl::Status Start();

  // Waits until the node was created (or adopted) once, at most `timeout`.
  // Errors: DeadlineExceeded (its message ends with the last error seen, if any),
  // FailedPrecondition (not started; on an inline callback thread), Cancelled (closed).
  absl::Status WaitForInitialCreate(std::chrono::milliseconds timeout);

  // Remembers `data` for every later create and writes it to the node; returns once the node
  // holds it. Before the node exists, or while the connection is away, the data is written
  // (or used by the create) as soon as possible.
  // Errors: InvalidArgument (over 1 MB), DeadlineExceeded (not written within the timeout;
  // the data stays remembered and is written later), FailedPrecondition (not started; on an
  // inline callback thread: use AsyncSetData), Cancelled (closed before it was written).
  absl::Status SetData(std::string_view data);
  // The async form: `done` runs once, on the client's callback executor, when the node holds
  // the data (or with Cancelled on Close); no timeout.
  void AsyncSetData(std::string_view data, StatusCallback done);

  // Returns the data last given (to Create or SetData). Any thread.
  std::string GetData() const;
  // Returns the node's path as last created or adopted; nullopt before the first create.
  // For sequential modes it changes when a protected node is re-created. Any thread.
  std::optional<std::string> ActualPath() const;

  // Stops keeping the node and deletes it (best effort: only the node this recipe created or
  // adopted, checked by its creation zxid; a delete that cannot be sent within the timeout is
  // dropped, and an ephemeral goes with the session anyway). Idempotent; pending waits end
  // with Cancelled. No listener runs after it returns. From an inline callback thread it does
  // not wait: the delete goes on in the background.
  // Errors: DeadlineExceeded (the delete did not complete), the client's errors from the
  // delete; OK if the node was already gone or never created.
  absl::Status Close();

  // Calls `listener` on the client's callback executor with every event, in order, until the
  // subscription is destroyed or the recipe closed.
  Subscription AddListener(Listener listener);

  // Counts, for tests and metrics. Any thread.
  uint64_t creates() const;  // successful creates of the node (the first included)

  // Returns the path given to Create (for sequential modes, the prefix).
  const std::string& path() const;

  struct Impl;  // internal

 private:
  explicit PersistentNode(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace zk::recipes

#endif  // ZK_RECIPES_PERSISTENT_NODE_H_
