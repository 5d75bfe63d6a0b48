// WatchManager: the server's data and child watch tables (3.8 semantics).

#ifndef ZK_SERVER_EMBEDDED_SRC_WATCH_MANAGER_H_
#define ZK_SERVER_EMBEDDED_SRC_WATCH_MANAGER_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "data_tree.h"

namespace zk::testing::internal {

enum class WatchMode { kStandard, kPersistent, kPersistentRecursive };
enum class WatchTable { kData, kChild };

// Keeps, per table, which connections watch which path in which mode. Only
// one mode is kept per (connection, path, table): a later standard watch
// downgrades a persistent one, as in ZooKeeper 3.8.0 (ZOOKEEPER-4466).
//
// Thread-compatible: the owner serializes all calls.
class WatchManager {
 public:
  // Registers (or re-registers with a new mode) a watch.
  void Add(WatchTable table, const std::string& path, uint64_t connection, WatchMode mode);
  // Returns the connections to notify for `trigger`, each once, and removes
  // the standard watches that fired.
  std::set<uint64_t> Trigger(const WatchTrigger& trigger);
  // Returns true if `connection` has a watch in `table` on `path`.
  bool Contains(WatchTable table, const std::string& path, uint64_t connection) const;
  // Removes a watch; returns false if there was none.
  bool Remove(WatchTable table, const std::string& path, uint64_t connection);
  // Drops every watch of a closed connection.
  void RemoveConnection(uint64_t connection);

  // Returns the number of watches in the data table.
  int64_t data_watch_count() const { return CountOf(data_); }
  int64_t total_watch_count() const { return CountOf(data_) + CountOf(child_); }
  size_t data_watch_paths() const { return data_.by_path.size(); }
  size_t data_watch_connections() const { return data_.by_connection.size(); }

 private:
  struct Table {
    std::unordered_map<std::string, std::map<uint64_t, WatchMode>> by_path;
    std::unordered_map<uint64_t, std::set<std::string>> by_connection;
    int64_t recursive_count = 0;
  };
  Table& TableOf(WatchTable table) { return table == WatchTable::kData ? data_ : child_; }
  const Table& TableOf(WatchTable table) const {
    return table == WatchTable::kData ? data_ : child_;
  }
  static void TriggerTable(Table& table, const std::string& path, int32_t type,
                           const std::set<uint64_t>& suppress, std::set<uint64_t>& out);
  static bool RemoveFrom(Table& table, const std::string& path, uint64_t connection);
  static int64_t CountOf(const Table& table);

  Table data_;
  Table child_;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_WATCH_MANAGER_H_
