#include "data_tree.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "proto_aliases.h"

namespace zk::testing::internal {
namespace {

// java.lang.String.hashCode() of the string the server decodes from `utf8` (UTF-16 code
// units; a malformed byte becomes U+FFFD as in new String(bytes, UTF_8)).
int32_t JavaStringHash(std::string_view utf8) {
  uint32_t hash = 0;
  auto add = [&hash](uint32_t unit) { hash = hash * 31 + unit; };
  for (size_t i = 0; i < utf8.size();) {
    const auto byte = static_cast<unsigned char>(utf8[i]);
    int extra = byte < 0x80 ? 0 : (byte >> 5) == 0x6 ? 1 : (byte >> 4) == 0xE ? 2
                                : (byte >> 3) == 0x1E ? 3 : -1;
    uint32_t code = extra == 0 ? byte : extra == 1 ? (byte & 0x1F) : extra == 2 ? (byte & 0x0F)
                                                                                : (byte & 0x07);
    bool ok = extra >= 0 && i + extra < utf8.size();
    for (int k = 1; ok && k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(utf8[i + k]);
      if ((next & 0xC0) != 0x80) ok = false;
      code = (code << 6) | (next & 0x3F);
    }
    if (!ok) {
      add(0xFFFD);
      ++i;
      continue;
    }
    i += 1 + extra;
    if (code >= 0x10000) {  // a surrogate pair
      code -= 0x10000;
      add(0xD800 + (code >> 10));
      add(0xDC00 + (code & 0x3FF));
    } else {
      add(code);
    }
  }
  return static_cast<int32_t>(hash);
}

// java.util.HashMap.hash(): the bucket index is spread(hash) & (capacity - 1).
uint32_t JavaSpread(int32_t hash) {
  const auto h = static_cast<uint32_t>(hash);
  return h ^ (h >> 16);
}

// java.util.HashMap.tableSizeFor.
uint32_t JavaTableSizeFor(int32_t cap) {
  if (cap <= 1) return 1;
  uint32_t n = 1;
  while (n < static_cast<uint32_t>(cap)) n <<= 1;
  return std::min<uint32_t>(n, 1u << 30);
}

}  // namespace

std::string_view ParentPath(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

DataTree::DataTree() {
  const std::vector<Acl> open = {{perm::kAll, {"world", "anyone"}}};
  Node root;
  root.acls = open;
  root.children = {"zookeeper"};
  Node zookeeper;
  zookeeper.acls = open;
  zookeeper.children = {"quota", "config"};
  Node quota;
  quota.acls = open;
  Node config;
  config.acls = {{perm::kRead, {"world", "anyone"}}};
  config.aversion = -1;
  nodes_.emplace("/", std::move(root));
  nodes_.emplace("/zookeeper", std::move(zookeeper));
  nodes_.emplace("/zookeeper/quota", std::move(quota));
  nodes_.emplace("/zookeeper/config", std::move(config));
}

const Node* DataTree::Find(std::string_view path) const {
  auto it = nodes_.find(std::string(path));
  return it == nodes_.end() ? nullptr : &it->second;
}

Stat DataTree::StatOf(const Node& node) {
  Stat stat;
  stat.czxid = node.czxid;
  stat.mzxid = node.mzxid;
  stat.ctime = node.ctime;
  stat.mtime = node.mtime;
  stat.version = node.version;
  stat.num_children = static_cast<int32_t>(node.children.size());
  stat.cversion = static_cast<int32_t>(2 * static_cast<int64_t>(node.cversion) -
                                       stat.num_children);
  stat.aversion = node.aversion;
  stat.ephemeral_owner = node.session_owner();
  stat.data_length = static_cast<int32_t>(node.data.size());
  stat.pzxid = node.pzxid;
  return stat;
}

void DataTree::Remember(const std::string& path) {
  if (!remembered_.insert(path).second) return;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) {
    undo_.emplace_back(path, std::nullopt);
  } else {
    undo_.emplace_back(path, it->second);
  }
}

Node& DataTree::Mutable(const std::string& path) {
  Remember(path);
  return nodes_.at(path);
}

void DataTree::IndexEphemeral(const std::string& path, const Node& node, bool add) {
  int64_t owner = node.session_owner();
  if (owner == 0) return;
  if (add) {
    std::set<std::string>& paths = ephemerals_[owner];
    paths.insert(path);
    size_t& peak = ephemeral_peak_[owner];
    ephemeral_peak_undo_.emplace(owner, peak);  // keeps the value before the transaction
    peak = std::max(peak, paths.size());
  } else {
    auto it = ephemerals_.find(owner);
    if (it == ephemerals_.end()) return;
    it->second.erase(path);
    if (it->second.empty()) ephemerals_.erase(it);
  }
}

void DataTree::Create(const std::string& path, std::string data, std::vector<Acl> acls,
                      int64_t ephemeral_owner, int64_t zxid, int64_t time_ms,
                      bool data_null) {
  std::string parent_path(ParentPath(path));
  Node& parent = Mutable(parent_path);
  parent.cversion++;
  parent.pzxid = zxid;
  parent.children.insert(std::string(BaseName(path)));
  Remember(path);
  Node node;
  node.data = std::move(data);
  node.data_null = data_null;
  node.acls = std::move(acls);
  node.czxid = node.mzxid = node.pzxid = zxid;
  node.ctime = node.mtime = time_ms;
  node.ephemeral_owner = ephemeral_owner;
  if (node.session_owner() != 0) node.ephemeral_seq = ++next_ephemeral_seq_;
  IndexEphemeral(path, node, true);
  std::vector<Acl> node_acls = node.acls;
  nodes_[path] = std::move(node);
  triggers_.push_back({path, event::kNodeCreated, false, std::move(node_acls)});
  triggers_.push_back({parent_path, event::kNodeChildrenChanged, false, parent.acls});
}

void DataTree::Delete(const std::string& path, int64_t zxid) {
  std::string parent_path(ParentPath(path));
  Node& parent = Mutable(parent_path);
  parent.pzxid = zxid;
  parent.children.erase(std::string(BaseName(path)));
  Remember(path);
  auto it = nodes_.find(path);
  IndexEphemeral(path, it->second, false);
  std::vector<Acl> node_acls = std::move(it->second.acls);
  nodes_.erase(it);
  triggers_.push_back({path, event::kNodeDeleted, true, std::move(node_acls)});
  triggers_.push_back({parent_path, event::kNodeChildrenChanged, false, parent.acls});
}

void DataTree::SetData(const std::string& path, std::string data, int64_t zxid,
                       int64_t time_ms, bool data_null) {
  Node& node = Mutable(path);
  node.data = std::move(data);
  node.data_null = data_null;
  node.version++;
  node.mzxid = zxid;
  node.mtime = time_ms;
  triggers_.push_back({path, event::kNodeDataChanged, false, node.acls});
}

void DataTree::SetAcl(const std::string& path, std::vector<Acl> acls) {
  Node& node = Mutable(path);
  node.acls = std::move(acls);
  node.aversion++;
}

std::vector<WatchTrigger> DataTree::Commit() {
  ephemeral_peak_undo_.clear();
  undo_.clear();
  remembered_.clear();
  return std::exchange(triggers_, {});
}

void DataTree::Rollback() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    auto current = nodes_.find(it->first);
    if (current != nodes_.end()) {
      IndexEphemeral(it->first, current->second, false);
      nodes_.erase(current);
    }
    if (it->second.has_value()) {
      IndexEphemeral(it->first, *it->second, true);
      nodes_[it->first] = std::move(*it->second);
    }
  }
  for (const auto& [owner, peak] : ephemeral_peak_undo_) ephemeral_peak_[owner] = peak;
  ephemeral_peak_undo_.clear();
  undo_.clear();
  remembered_.clear();
  triggers_.clear();
}

std::set<std::string> DataTree::EphemeralsOf(int64_t session_id) const {
  auto it = ephemerals_.find(session_id);
  return it == ephemerals_.end() ? std::set<std::string>() : it->second;
}

std::vector<std::string> DataTree::EphemeralsInCloseOrder(int64_t session_id) const {
  std::vector<std::string> paths;
  auto it = ephemerals_.find(session_id);
  if (it == ephemerals_.end()) return paths;
  // The session's HashSet: 16 buckets at the first add, doubled whenever its size exceeded
  // 3/4 of them; never shrunk. Within a bucket, entries keep their insertion order (also
  // across resizes). Iterating it: by bucket, then insertion order.
  auto peak_it = ephemeral_peak_.find(session_id);
  const size_t peak = peak_it == ephemeral_peak_.end() ? it->second.size() : peak_it->second;
  uint32_t capacity = 16;
  while (peak > capacity / 4 * 3 && capacity < (1u << 30)) capacity <<= 1;
  // getEphemerals() clones it: HashMap.clone() pre-sizes the copy for its size
  // (tableSizeFor((int)(size / 0.75f + 1))) and inserts in the original's iteration order.
  const size_t size = it->second.size();
  const uint32_t clone_capacity =
      JavaTableSizeFor(static_cast<int32_t>(static_cast<float>(size) / 0.75f + 1.0f));
  std::vector<std::tuple<uint32_t, uint32_t, int64_t, std::string>> keyed;
  keyed.reserve(size);
  for (const std::string& path : it->second) {
    const uint32_t spread = JavaSpread(JavaStringHash(path));
    const Node* node = Find(path);
    keyed.emplace_back(spread & (clone_capacity - 1), spread & (capacity - 1),
                       node != nullptr ? node->ephemeral_seq : 0, path);
  }
  std::sort(keyed.begin(), keyed.end());
  paths.reserve(size);
  for (auto& entry : keyed) paths.push_back(std::move(std::get<3>(entry)));
  return paths;
}

void DataTree::ForgetSession(int64_t session_id) {
  ephemerals_.erase(session_id);
  ephemeral_peak_.erase(session_id);
}

int32_t DataTree::CountDescendants(const std::string& path) const {
  const Node* node = Find(path);
  if (node == nullptr) return 0;
  int32_t count = 0;
  for (const std::string& child : node->children) {
    std::string child_path = path == "/" ? "/" + child : path + "/" + child;
    count += 1 + CountDescendants(child_path);
  }
  return count;
}

std::vector<std::string> DataTree::ContainerAndTtlPaths() const {
  std::vector<std::string> paths;
  for (const auto& [path, node] : nodes_) {
    if (node.is_container() || node.is_ttl()) paths.push_back(path);
  }
  return paths;
}

int64_t DataTree::approximate_data_size() const {
  int64_t size = 0;
  for (const auto& [path, node] : nodes_) size += path.size() + node.data.size();
  return size;
}

absl::Status DataTree::Replace(std::unordered_map<std::string, Node> nodes) {
  if (nodes.find("/") == nodes.end()) return absl::InvalidArgumentError("no root node");
  for (auto& [path, node] : nodes) {
    node.children.clear();
    if (node.session_owner() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": a session's ephemeral node"));
    }
  }
  for (const auto& [path, node] : nodes) {
    if (path == "/") continue;
    auto parent = nodes.find(std::string(ParentPath(path)));
    if (parent == nodes.end()) return absl::InvalidArgumentError(absl::StrCat(path, ": no parent"));
    parent->second.children.emplace(BaseName(path));
  }
  nodes_ = std::move(nodes);
  ephemerals_.clear();
  ephemeral_peak_.clear();
  ephemeral_peak_undo_.clear();
  undo_.clear();
  remembered_.clear();
  triggers_.clear();
  return absl::OkStatus();
}

}  // namespace zk::testing::internal
