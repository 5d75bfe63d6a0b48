// snapshot.h: the tree on disk, for `zkcpp-server --data_dir` (EmbeddedServerOptions::data_dir).
//
// A development server keeps its nodes across restarts: the persistent nodes (containers and
// TTL nodes too, not a session's ephemerals, as no session survives) with their data, ACLs and
// Stat, and the last zxid, written on a clean stop and read on start. The file is zkcpp's own
// (jute-encoded, versioned by a magic string), not ZooKeeper's snapshot format; it is written
// to a temporary file and renamed, so a crash mid-write leaves the previous snapshot.

#ifndef ZK_SERVER_EMBEDDED_SRC_SNAPSHOT_H_
#define ZK_SERVER_EMBEDDED_SRC_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data_tree.h"

namespace zk::testing::internal {

struct Snapshot {
  std::unordered_map<std::string, Node> nodes;  // `children` left empty
  int64_t last_zxid = 0;
};

// Returns the snapshot file in `data_dir`.
std::string SnapshotPath(const std::string& data_dir);

// Writes the tree's nodes except session ephemerals, and `last_zxid`, to `path`.
// Errors: Internal "<path>: <reason>" if the file cannot be written.
absl::Status WriteSnapshot(const DataTree& tree, int64_t last_zxid, const std::string& path);

// Reads a snapshot written by WriteSnapshot.
// Errors: NotFound if there is no file at `path`; DataLoss "<path>: ..." if it is not a
// snapshot or is cut short; Internal if it cannot be read.
absl::StatusOr<Snapshot> ReadSnapshot(const std::string& path);

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_SNAPSHOT_H_
