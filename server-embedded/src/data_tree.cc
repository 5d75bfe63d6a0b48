#include "data_tree.h"

#include "protocol.h"

namespace zk::testing::internal {

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
    ephemerals_[owner].insert(path);
  } else {
    auto it = ephemerals_.find(owner);
    if (it == ephemerals_.end()) return;
    it->second.erase(path);
    if (it->second.empty()) ephemerals_.erase(it);
  }
}

void DataTree::Create(const std::string& path, std::string data, std::vector<Acl> acls,
                      int64_t ephemeral_owner, int64_t zxid, int64_t time_ms) {
  std::string parent_path(ParentPath(path));
  Node& parent = Mutable(parent_path);
  parent.cversion++;
  parent.pzxid = zxid;
  parent.children.insert(std::string(BaseName(path)));
  Remember(path);
  Node node;
  node.data = std::move(data);
  node.acls = std::move(acls);
  node.czxid = node.mzxid = node.pzxid = zxid;
  node.ctime = node.mtime = time_ms;
  node.ephemeral_owner = ephemeral_owner;
  IndexEphemeral(path, node, true);
  nodes_[path] = std::move(node);
  triggers_.push_back({path, event::kNodeCreated});
  triggers_.push_back({parent_path, event::kNodeChildrenChanged});
}

void DataTree::Delete(const std::string& path, int64_t zxid) {
  std::string parent_path(ParentPath(path));
  Node& parent = Mutable(parent_path);
  parent.pzxid = zxid;
  parent.children.erase(std::string(BaseName(path)));
  Remember(path);
  auto it = nodes_.find(path);
  IndexEphemeral(path, it->second, false);
  nodes_.erase(it);
  triggers_.push_back({path, event::kNodeDeleted, true});
  triggers_.push_back({parent_path, event::kNodeChildrenChanged});
}

void DataTree::SetData(const std::string& path, std::string data, int64_t zxid,
                       int64_t time_ms) {
  Node& node = Mutable(path);
  node.data = std::move(data);
  node.version++;
  node.mzxid = zxid;
  node.mtime = time_ms;
  triggers_.push_back({path, event::kNodeDataChanged});
}

void DataTree::SetAcl(const std::string& path, std::vector<Acl> acls) {
  Node& node = Mutable(path);
  node.acls = std::move(acls);
  node.aversion++;
}

std::vector<WatchTrigger> DataTree::Commit() {
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
  undo_.clear();
  remembered_.clear();
  triggers_.clear();
}

std::set<std::string> DataTree::EphemeralsOf(int64_t session_id) const {
  auto it = ephemerals_.find(session_id);
  return it == ephemerals_.end() ? std::set<std::string>() : it->second;
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

}  // namespace zk::testing::internal
