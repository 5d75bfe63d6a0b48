#include "watch_manager.h"

#include "proto_aliases.h"

namespace zk::testing::internal {

void WatchManager::Add(WatchTable which, const std::string& path, uint64_t connection,
                       WatchMode mode) {
  Table& table = TableOf(which);
  auto& watchers = table.by_path[path];
  auto [it, inserted] = watchers.emplace(connection, mode);
  if (!inserted) {
    if (it->second == WatchMode::kPersistentRecursive) table.recursive_count--;
    it->second = mode;
  }
  if (mode == WatchMode::kPersistentRecursive) table.recursive_count++;
  table.by_connection[connection].insert(path);
}

void WatchManager::TriggerTable(Table& table, const std::string& path, int32_t type,
                                const std::set<uint64_t>& suppress,
                                std::set<uint64_t>& out) {
  std::string local = path;
  bool at_parent = false;
  while (true) {
    auto it = table.by_path.find(local);
    if (it != table.by_path.end()) {
      for (auto w = it->second.begin(); w != it->second.end();) {
        uint64_t connection = w->first;
        bool fire = false;
        bool remove = false;
        if (w->second == WatchMode::kPersistentRecursive) {
          fire = type != event::kNodeChildrenChanged;
        } else if (!at_parent) {
          fire = true;
          remove = w->second == WatchMode::kStandard;
        }
        if (fire && suppress.count(connection) == 0) out.insert(connection);
        if (remove) {
          auto by_connection = table.by_connection.find(connection);
          if (by_connection != table.by_connection.end()) {
            by_connection->second.erase(local);
            if (by_connection->second.empty()) table.by_connection.erase(by_connection);
          }
          w = it->second.erase(w);
        } else {
          ++w;
        }
      }
      if (it->second.empty()) table.by_path.erase(it);
    }
    if (table.recursive_count == 0 || local == "/") break;
    local = std::string(ParentPath(local));
    at_parent = true;
  }
}

std::set<uint64_t> WatchManager::Trigger(const WatchTrigger& trigger) {
  std::set<uint64_t> out;
  static const std::set<uint64_t> kNone;
  switch (trigger.type) {
    case event::kNodeCreated:
    case event::kNodeDataChanged:
      TriggerTable(data_, trigger.path, trigger.type, kNone, out);
      break;
    case event::kNodeDeleted: {
      TriggerTable(data_, trigger.path, trigger.type, kNone, out);
      if (trigger.also_child_watches) {
        std::set<uint64_t> suppress = out;
        TriggerTable(child_, trigger.path, trigger.type, suppress, out);
      }
      break;
    }
    case event::kNodeChildrenChanged:
      TriggerTable(child_, trigger.path, trigger.type, kNone, out);
      break;
  }
  return out;
}

bool WatchManager::Contains(WatchTable which, const std::string& path,
                            uint64_t connection) const {
  const Table& table = TableOf(which);
  auto it = table.by_path.find(path);
  return it != table.by_path.end() && it->second.count(connection) > 0;
}

bool WatchManager::RemoveFrom(Table& table, const std::string& path, uint64_t connection) {
  auto it = table.by_path.find(path);
  if (it == table.by_path.end()) return false;
  auto w = it->second.find(connection);
  if (w == it->second.end()) return false;
  if (w->second == WatchMode::kPersistentRecursive) table.recursive_count--;
  it->second.erase(w);
  if (it->second.empty()) table.by_path.erase(it);
  auto by_connection = table.by_connection.find(connection);
  if (by_connection != table.by_connection.end()) {
    by_connection->second.erase(path);
    if (by_connection->second.empty()) table.by_connection.erase(by_connection);
  }
  return true;
}

bool WatchManager::Remove(WatchTable which, const std::string& path, uint64_t connection) {
  return RemoveFrom(TableOf(which), path, connection);
}

void WatchManager::RemoveConnection(uint64_t connection) {
  for (Table* table : {&data_, &child_}) {
    auto it = table->by_connection.find(connection);
    if (it == table->by_connection.end()) continue;
    std::set<std::string> paths = it->second;
    for (const std::string& path : paths) RemoveFrom(*table, path, connection);
  }
}

int64_t WatchManager::CountOf(const Table& table) {
  int64_t count = 0;
  for (const auto& [path, watchers] : table.by_path) count += watchers.size();
  return count;
}

}  // namespace zk::testing::internal
