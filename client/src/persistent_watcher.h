// PersistentWatcher: Client::AddPersistentWatch. Two modes, one model of the watched nodes:
//   - server mode (a transport with addWatch, i.e. the native engine on ZooKeeper 3.6+): one
//     server-side persistent (recursive) watch; every event the server sends is reported as it
//     comes, in order, and updates the model without a read. The server restores the watch
//     after a reconnect but does not replay what changed meanwhile, so a reconnect (or a new
//     session, which re-adds the watch) leads to a resync: every node is read again and what
//     changed after the last zxid the session had seen is reported.
//   - emulated mode (the C library, or a server without addWatch): one-shot watches. Every
//     trigger — a one-shot watch firing, a reconnect, a new session — leads to a resync of that
//     node: it is read again (re-arming its watches) and the difference from what was last
//     reported is reported as events. Changes between two re-arms may coalesce.
// In both, the final state is never missed.

#ifndef ZK_CLIENT_SRC_PERSISTENT_WATCHER_H_
#define ZK_CLIENT_SRC_PERSISTENT_WATCHER_H_

#include <map>
#include <memory>
#include <optional>
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
    // Server mode: the model is current for this node since the last connection loss (an
    // event or a read reported it), so a resync must not report the gap's changes again.
    bool current = false;
    Watch data_watch;
    Watch child_watch;
  };

  void Begin(std::shared_ptr<CallbackSlot> user_slot, Callback<Watch> done);
  void OnSessionEvent(const SessionEvent& event);
  // Server mode: adds the server's watch (addWatch); once it is in place, reads the root (the
  // first time) or resyncs every node.
  void Arm();
  void OnArmed(std::shared_ptr<CallbackSlot> slot, Reply reply);
  void OnServerEvent(WatchEventType type, const std::string& path);
  void ResyncAll();
  void Refresh(const std::string& path, bool silent);
  void OnExists(const std::string& path, bool silent, absl::StatusOr<Watched<std::optional<Stat>>> r);
  void OnChildren(const std::string& path, bool silent, std::optional<Stat> stat,
                  absl::StatusOr<Watched<ChildrenResult>> r);
  void OnReadFailed(Node& node, const std::string& path, absl::Status status);
  void Apply(const std::string& path, bool silent, std::optional<Stat> stat,
             std::set<std::string> children);
  void Forget(const std::string& path, bool silent);
  // Hands the caller its Watch once the first read of every node in scope is done.
  void MaybeFinishStart();
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
  std::set<std::string> loading_;  // nodes whose first read is on its way
  bool server_mode_ = false;
  bool armed_ = false;   // server mode: the server holds our watch
  bool arming_ = false;  // server mode: an addWatch is in flight
  Watch server_watch_;
  // Server mode: the last zxid the session had seen when the connection was lost; changes after
  // it may have been missed. nullopt before the first loss.
  std::optional<int64_t> gap_zxid_;
  bool in_gap_ = false;  // between a loss and the next connection
  uint64_t listener_id_ = 0;
  bool stopped_ = false;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_PERSISTENT_WATCHER_H_
