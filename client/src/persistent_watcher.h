// PersistentWatcher: Client::AddPersistentWatch, emulated on one-shot watches (libzookeeper 3.8
// has no addWatch). Every trigger — a one-shot watch firing, a reconnect, a new session — leads
// to a resync: the node is read again (re-arming its watches) and the difference from what was
// last reported is reported as events. Changes between two re-arms may coalesce, but the final
// state is never missed.

#ifndef ZK_CLIENT_SRC_PERSISTENT_WATCHER_H_
#define ZK_CLIENT_SRC_PERSISTENT_WATCHER_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include "engine.h"

namespace zk::internal {

// Lives on the loop thread; owned by its in-flight continuations, its session listener and the
// user's Watch handle (through the cancel hook). Not thread-safe by itself.
class PersistentWatcher : public std::enable_shared_from_this<PersistentWatcher> {
 public:
  // Starts watching `path` (its subtree with `recursive`); `done` gets the Watch handle once the
  // root has been read and armed, or the error. Thread-safe (hops to the loop).
  static void Start(std::shared_ptr<Engine> engine, std::string path, bool recursive,
                    WatchCallback on_event, Callback<Watch> done);

  PersistentWatcher(std::shared_ptr<Engine> engine, std::string path, bool recursive);

 private:
  struct Node {
    bool exists = false;
    int64_t czxid = 0;
    int64_t mzxid = 0;
    int64_t pzxid = 0;
    std::set<std::string> children;  // names (recursive mode only)
    bool known = false;              // read at least once
    bool refreshing = false;
    bool dirty = false;  // triggered again while a refresh was in flight
    Watch data_watch;
    Watch child_watch;
  };

  void Begin(std::shared_ptr<CallbackSlot> user_slot, Callback<Watch> done);
  void Refresh(const std::string& path, bool silent);
  void OnExists(const std::string& path, bool silent, absl::StatusOr<Watched<std::optional<Stat>>> r);
  void OnChildren(const std::string& path, bool silent, std::optional<Stat> stat,
                  absl::StatusOr<Watched<ChildrenResult>> r);
  void OnReadFailed(Node& node, const std::string& path, absl::Status status);
  void Apply(const std::string& path, bool silent, std::optional<Stat> stat,
             std::set<std::string> children);
  void Forget(const std::string& path, bool silent);
  void Emit(WatchEventType type, const std::string& path);
  void Fail(absl::Status status);
  void Stop();
  WatchCallback Trigger(const std::string& path);
  bool InScope(const std::string& path) const;

  const std::shared_ptr<Engine> engine_;
  const std::string root_;
  const bool recursive_;
  std::shared_ptr<CallbackSlot> user_slot_;
  Callback<Watch> start_done_;  // until the root's first read completes
  std::map<std::string, Node> nodes_;
  uint64_t listener_id_ = 0;
  bool stopped_ = false;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_PERSISTENT_WATCHER_H_
