#include "persistent_watcher.h"

#include <utility>

#include "zk/path.h"

namespace zk::internal {

void PersistentWatcher::Start(std::shared_ptr<Engine> engine, std::string path, bool recursive,
                              WatchCallback on_event, Callback<Watch> done) {
  auto watcher = std::make_shared<PersistentWatcher>(engine, std::move(path), recursive);
  // The user's handle owns the watcher through this cancel hook (everything else refers to it
  // weakly); cancelling the handle releases the hook, and with it the watcher.
  auto user_slot = std::make_shared<CallbackSlot>(
      CallbackSlot::Callback(std::move(on_event)), [watcher, engine] {
        engine->Post([watcher] { watcher->Stop(); });
      });
  auto shared_done = std::make_shared<Callback<Watch>>(std::move(done));
  Task begin = [watcher, user_slot, shared_done]() mutable {
    watcher->Begin(user_slot, std::move(*shared_done));
  };
  if (!engine->TryPost(std::move(begin))) {
    std::move (*shared_done)(absl::CancelledError("add_persistent_watch: client is closed"));
  }
}

PersistentWatcher::PersistentWatcher(std::shared_ptr<Engine> engine, std::string path,
                                     bool recursive)
    : engine_(std::move(engine)), root_(std::move(path)), recursive_(recursive) {}

void PersistentWatcher::Begin(std::shared_ptr<CallbackSlot> user_slot, Callback<Watch> done) {
  user_slot_ = std::move(user_slot);
  start_done_ = std::move(done);
  std::weak_ptr<PersistentWatcher> weak = weak_from_this();
  listener_id_ = engine_->AddLoopSessionListener([weak](const SessionEvent& event) {
    auto self = weak.lock();
    if (self && !self->stopped_) self->OnSessionEvent(event);
  });
  server_mode_ = engine_->HasPersistentWatches();
  if (server_mode_) return Arm();
  Refresh(root_, /*silent=*/true);
}

void PersistentWatcher::OnSessionEvent(const SessionEvent& event) {
  switch (event.state) {
    case SessionState::kClosed:
      return Fail(absl::CancelledError("add_persistent_watch: client closed"));
    case SessionState::kSuspended:
    case SessionState::kLost:
      // Server mode: what changes from now on may reach us only through the resync.
      if (server_mode_ && !in_gap_) {
        in_gap_ = true;
        gap_zxid_ = engine_->LastZxid();
        for (auto& [path, node] : nodes_) node.current = false;
      }
      return;
    case SessionState::kConnected:
    case SessionState::kReconnected:
    case SessionState::kReadOnly:
      in_gap_ = false;
      // A new session lost the server's watch (its kNotWatching said so): add it again first.
      if (server_mode_ && !armed_) return Arm();
      // Resync everything we know: the one-shot watches may have been lost (new session) or
      // events missed while disconnected.
      return ResyncAll();
  }
}

void PersistentWatcher::ResyncAll() {
  std::vector<std::string> paths;
  for (const auto& [path, node] : nodes_) paths.push_back(path);
  for (const std::string& path : paths) Refresh(path, false);
}

void PersistentWatcher::Arm() {
  if (stopped_ || arming_) return;
  arming_ = true;
  const WatchKind kind = recursive_ ? WatchKind::kPersistentRecursive : WatchKind::kPersistent;
  std::weak_ptr<PersistentWatcher> weak = weak_from_this();
  auto request = std::make_unique<Request>();
  request->kind = OpKind::kAddWatch;
  request->path = root_;
  request->watch = kind;
  request->watch_slot = engine_->NewWatchSlot(
      root_, kind,
      [weak](const WatchEvent& event) {
        auto self = weak.lock();
        if (!self || self->stopped_) return;
        // kNotWatching: the session ended and the server's watch with it.
        if (event.type == WatchEventType::kNotWatching) {
          self->armed_ = false;
          self->server_watch_ = Watch();
          return;
        }
        self->OnServerEvent(event.type, event.path);
      },
      /*on_loop=*/true);
  request->complete_on_loop = true;
  request->done = [self = shared_from_this(), slot = request->watch_slot](Reply reply) {
    self->OnArmed(slot, std::move(reply));
  };
  engine_->Submit(std::move(request));
}

void PersistentWatcher::OnArmed(std::shared_ptr<CallbackSlot> slot, Reply reply) {
  arming_ = false;
  if (stopped_) {
    // Stopped while the addWatch was on its way: cancelling the slot removes the server's watch.
    Watch orphan(std::move(slot));
    return;
  }
  const bool first = start_done_ != nullptr;
  if (reply.rc == ZooError::kUnimplemented) {
    // A server without addWatch (before 3.6): emulate on one-shot watches from now on.
    server_mode_ = false;
    if (first) return Refresh(root_, /*silent=*/true);
    return ResyncAll();
  }
  if (reply.rc != ZooError::kOk) {
    absl::Status status =
        MakeZooStatus(reply.rc, "add_persistent_watch", root_, WriteSent::kNo, reply.detail);
    if (first) return Fail(std::move(status));
    // A connection or session loss: the reconnect adds it again. A missed deadline: now.
    if (absl::IsDeadlineExceeded(status)) return Arm();
    if (IsConnectionLoss(status) || IsSessionExpired(status) || absl::IsCancelled(status)) return;
    return Fail(std::move(status));
  }
  armed_ = true;
  server_watch_ = Watch(std::move(slot));
  if (first) return Refresh(root_, /*silent=*/true);
  ResyncAll();
}

bool PersistentWatcher::InScope(const std::string& path) const {
  if (path == root_) return true;
  if (!recursive_) return false;
  return root_ == "/" ? path.size() > 1
                      : path.size() > root_.size() && path.starts_with(root_) &&
                            path[root_.size()] == '/';
}

void PersistentWatcher::OnServerEvent(WatchEventType type, const std::string& path) {
  Emit(type, path);
  // Keep the model as the server's events describe it, for the next resync.
  if (!InScope(path)) return;
  if (type == WatchEventType::kDeleted && path != root_) {
    nodes_.erase(path);
    loading_.erase(path);
    MaybeFinishStart();
    if (auto parent = nodes_.find(std::string(ParentPath(path))); parent != nodes_.end()) {
      parent->second.children.erase(std::string(BaseName(path)));
    }
    return;
  }
  Node& node = nodes_[path];
  node.current = true;
  if (type == WatchEventType::kCreated || type == WatchEventType::kDeleted) {
    node.known = true;
    node.exists = type == WatchEventType::kCreated;
  }
  if (type == WatchEventType::kCreated && recursive_ && path != root_) {
    if (auto parent = nodes_.find(std::string(ParentPath(path))); parent != nodes_.end()) {
      parent->second.children.insert(std::string(BaseName(path)));
    }
  }
}

WatchCallback PersistentWatcher::Trigger(const std::string& path) {
  std::weak_ptr<PersistentWatcher> weak = weak_from_this();
  return [weak, path](const WatchEvent& event) {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    // kNotWatching means the session ended; the reconnect listener resyncs then.
    if (event.type != WatchEventType::kNotWatching) self->Refresh(path, false);
  };
}

void PersistentWatcher::Refresh(const std::string& path, bool silent) {
  if (stopped_) return;
  Node& node = nodes_[path];
  if (node.refreshing) {
    node.dirty = true;
    return;
  }
  if (!server_mode_) {
    if (absl::Status s =
            engine_->CheckWatchBudget("add_persistent_watch", path, WatchKind::kData);
        !s.ok()) {
      return Fail(std::move(s));
    }
  }
  node.refreshing = true;
  if (silent) loading_.insert(path);
  auto request = std::make_unique<Request>();
  request->kind = OpKind::kExists;
  request->path = path;
  if (!server_mode_) {
    request->watch = WatchKind::kData;
    request->watch_slot = engine_->NewWatchSlot(path, WatchKind::kData, Trigger(path), true);
  }
  request->complete_on_loop = true;
  auto slot = request->watch_slot;
  request->done = [self = shared_from_this(), path, silent, slot](Reply reply) {
    absl::StatusOr<Watched<std::optional<Stat>>> result;
    if (reply.rc == ZooError::kOk || reply.rc == ZooError::kNoNode) {
      result = Watched<std::optional<Stat>>{reply.rc == ZooError::kOk ? reply.stat : std::nullopt,
                                            Watch(slot)};
    } else {
      result =
          MakeZooStatus(reply.rc, "add_persistent_watch", path, WriteSent::kNo, reply.detail);
    }
    self->OnExists(path, silent, std::move(result));
  };
  engine_->Submit(std::move(request));
}

void PersistentWatcher::OnExists(const std::string& path, bool silent,
                                 absl::StatusOr<Watched<std::optional<Stat>>> r) {
  auto it = nodes_.find(path);
  if (stopped_ || it == nodes_.end()) return;  // forgotten meanwhile (its parent lost it)
  Node& node = it->second;
  if (!r.ok()) return OnReadFailed(node, path, r.status());
  node.data_watch = std::move(r->watch);
  if (!r->result) return Apply(path, silent, std::nullopt, {});
  auto request = std::make_unique<Request>();
  request->kind = OpKind::kGetChildren;
  request->path = path;
  if (!server_mode_) {
    request->watch = WatchKind::kChild;
    request->watch_slot = engine_->NewWatchSlot(path, WatchKind::kChild, Trigger(path), true);
  }
  request->complete_on_loop = true;
  auto slot = request->watch_slot;
  request->done = [self = shared_from_this(), path, silent, stat = r->result, slot](Reply reply) {
    absl::StatusOr<Watched<ChildrenResult>> result;
    if (reply.rc == ZooError::kOk) {
      result = Watched<ChildrenResult>{
          ChildrenResult{std::move(reply.children), reply.stat.value_or(Stat{})}, Watch(slot)};
    } else {
      result =
          MakeZooStatus(reply.rc, "add_persistent_watch", path, WriteSent::kNo, reply.detail);
    }
    self->OnChildren(path, silent, stat, std::move(result));
  };
  engine_->Submit(std::move(request));
}

void PersistentWatcher::OnReadFailed(Node& node, const std::string& path, absl::Status status) {
  node.refreshing = false;
  node.dirty = false;
  if (start_done_) return Fail(std::move(status));  // the first read: the caller learns why
  // A missed deadline on a live connection brings no reconnect to resync: read again now (the
  // one-shot watch that led here is used up). After a connection or session loss the
  // reconnect listener reads everything again. Anything else ends the watch.
  if (absl::IsDeadlineExceeded(status)) return Refresh(path, false);
  if (IsConnectionLoss(status) || IsSessionExpired(status) || absl::IsCancelled(status)) return;
  Fail(std::move(status));
}

void PersistentWatcher::OnChildren(const std::string& path, bool silent, std::optional<Stat> stat,
                                   absl::StatusOr<Watched<ChildrenResult>> r) {
  auto it = nodes_.find(path);
  if (stopped_ || it == nodes_.end()) return;
  if (!r.ok()) {
    if (IsNoNode(r.status())) return Apply(path, silent, std::nullopt, {});  // deleted meanwhile
    return OnReadFailed(it->second, path, r.status());
  }
  it->second.child_watch = std::move(r->watch);
  std::set<std::string> children(r->result.children.begin(), r->result.children.end());
  Apply(path, silent, r->result.stat, std::move(children));
}

void PersistentWatcher::Apply(const std::string& path, bool silent, std::optional<Stat> stat,
                              std::set<std::string> children) {
  Node& node = nodes_[path];
  const bool was_known = node.known;
  const bool existed = node.exists;
  node.known = true;
  node.refreshing = false;
  if (!stat) {
    if (existed && !silent) Emit(WatchEventType::kDeleted, path);
    node.exists = false;
    node.child_watch = Watch();
    if (recursive_) {
      for (const std::string& child : std::set<std::string>(std::move(node.children))) {
        Forget(JoinPath(path, child), silent);
      }
    }
    nodes_[path].children.clear();
    if (path != root_) {
      // A deleted descendant is watched again through its parent's child watch.
      nodes_.erase(path);
      loading_.erase(path);
      return MaybeFinishStart();
    }
  } else {
    // What changed since the model was last current. In server mode the server's events keep
    // the model current while connected: only what changed after the loss can be news (and
    // not for a node an event or read has reported since).
    const bool stale = !server_mode_ || (!node.current && gap_zxid_.has_value());
    auto changed = [&](int64_t known, int64_t now) {
      return server_mode_ ? now > *gap_zxid_ : now != known;
    };
    if (!existed) {
      if (!silent && (was_known || path != root_)) Emit(WatchEventType::kCreated, path);
    } else if (stale && changed(node.czxid, stat->czxid)) {
      if (!silent) {
        Emit(WatchEventType::kDeleted, path);
        Emit(WatchEventType::kCreated, path);
      }
    } else if (stale && changed(node.mzxid, stat->mzxid) && !silent) {
      Emit(WatchEventType::kDataChanged, path);
    }
    if (!recursive_ && existed && was_known && stale && changed(node.pzxid, stat->pzxid) &&
        !silent) {
      Emit(WatchEventType::kChildrenChanged, path);
    }
    node.current = true;
    node.exists = true;
    node.czxid = stat->czxid;
    node.mzxid = stat->mzxid;
    node.pzxid = stat->pzxid;
    if (recursive_) {
      std::set<std::string> before = std::move(node.children);
      node.children = children;
      for (const std::string& child : before) {
        if (!children.contains(child)) Forget(JoinPath(path, child), silent);
      }
      for (const std::string& child : children) {
        if (!before.contains(child)) Refresh(JoinPath(path, child), silent);
      }
    }
  }
  loading_.erase(path);
  MaybeFinishStart();
  auto it = nodes_.find(path);
  if (it != nodes_.end() && it->second.dirty) {
    it->second.dirty = false;
    Refresh(path, false);
  }
}

void PersistentWatcher::MaybeFinishStart() {
  if (!start_done_ || !loading_.empty()) return;
  std::move(start_done_)(Watch(user_slot_));
  start_done_ = nullptr;
}

void PersistentWatcher::Forget(const std::string& path, bool silent) {
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return;
  std::set<std::string> children = std::move(it->second.children);
  const bool existed = it->second.exists;
  nodes_.erase(it);
  loading_.erase(path);
  for (const std::string& child : children) Forget(JoinPath(path, child), silent);
  if (existed && !silent) Emit(WatchEventType::kDeleted, path);
}

void PersistentWatcher::Emit(WatchEventType type, const std::string& path) {
  if (stopped_ || !user_slot_) return;
  engine_->Deliver([slot = user_slot_, event = WatchEvent{type, path, absl::OkStatus()}] {
    slot->Invoke(event);
  });
}

void PersistentWatcher::Fail(absl::Status status) {
  if (stopped_) return;
  if (start_done_) {
    std::move(start_done_)(std::move(status));
    start_done_ = nullptr;
  } else if (user_slot_) {
    engine_->Deliver([slot = user_slot_,
                      event = WatchEvent{WatchEventType::kNotWatching, root_, status}] {
      slot->Invoke(event);
    });
  }
  Stop();
}

void PersistentWatcher::Stop() {
  if (stopped_) return;
  stopped_ = true;
  engine_->RemoveLoopSessionListener(listener_id_);
  nodes_.clear();
  loading_.clear();
  server_watch_ = Watch();  // the server's watch goes with its last local watcher
  // The slot's cancel hook owns this watcher: without a handle (a start that failed) the two
  // would keep each other, and the engine, alive.
  user_slot_.reset();
}

}  // namespace zk::internal
