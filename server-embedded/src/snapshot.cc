#include "snapshot.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace zk::testing::internal {
namespace {

// Names the format; a different layout gets a different string.
constexpr std::string_view kMagic = "zkcpp-snapshot-1";

absl::Status FileError(const std::string& path, std::string_view what) {
  return absl::InternalError(
      absl::StrCat(path, ": cannot ", std::string(what), ": ", std::strerror(errno)));
}

}  // namespace

std::string SnapshotPath(const std::string& data_dir) { return data_dir + "/zkcpp-tree.snapshot"; }

absl::Status WriteSnapshot(const DataTree& tree, int64_t last_zxid, const std::string& path) {
  JuteWriter writer;
  writer.WriteString(kMagic);
  writer.WriteLong(last_zxid);
  int32_t count = 0;
  for (const auto& [node_path, node] : tree.nodes()) count += node.session_owner() == 0 ? 1 : 0;
  writer.WriteInt(count);
  for (const auto& [node_path, node] : tree.nodes()) {
    if (node.session_owner() != 0) continue;
    writer.WriteString(node_path);
    if (node.data_null) {
      writer.WriteNullBuffer();
    } else {
      writer.WriteBuffer(node.data);
    }
    WriteAcls(node.acls, writer);
    for (int64_t field :
         {node.czxid, node.mzxid, node.ctime, node.mtime, node.ephemeral_owner, node.pzxid}) {
      writer.WriteLong(field);
    }
    for (int32_t field : {node.version, node.cversion, node.aversion}) writer.WriteInt(field);
  }
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) return FileError(temporary, "create");
    const std::string_view body = writer.body();
    file.write(body.data(), static_cast<std::streamsize>(body.size()));
    file.flush();
    if (!file) return FileError(temporary, "write");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return FileError(path, "replace");
  return absl::OkStatus();
}

absl::StatusOr<Snapshot> ReadSnapshot(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no snapshot"));
    return FileError(path, "read");
  }
  std::ostringstream text;
  text << file.rdbuf();
  const std::string bytes = text.str();
  JuteReader reader(bytes);
  if (reader.ReadString() != kMagic || !reader.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": not a zkcpp snapshot"));
  }
  Snapshot snapshot;
  snapshot.last_zxid = reader.ReadLong();
  const int32_t count = reader.ReadCount(1);
  for (int32_t i = 0; i < count && reader.ok(); ++i) {
    std::string node_path = reader.ReadString();
    Node node;
    node.data = reader.ReadBuffer(&node.data_null);
    node.acls = ReadAcls(reader);
    for (int64_t* field :
         {&node.czxid, &node.mzxid, &node.ctime, &node.mtime, &node.ephemeral_owner, &node.pzxid}) {
      *field = reader.ReadLong();
    }
    for (int32_t* field : {&node.version, &node.cversion, &node.aversion})
      *field = reader.ReadInt();
    snapshot.nodes.emplace(std::move(node_path), std::move(node));
  }
  if (!reader.ok() || reader.remaining() != 0) {
    return absl::DataLossError(absl::StrCat(path, ": cut short or corrupt"));
  }
  return snapshot;
}

}  // namespace zk::testing::internal
