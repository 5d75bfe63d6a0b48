// zk/proto/node_ops.h — the request and response records of the znode operations
// (protocol.md §6): create (and create2, createContainer, createTTL), delete, exists, getData,
// setData, getACL, setACL, getChildren(2), check, sync, getEphemerals and
// getAllChildrenNumber. Each record encodes and decodes itself, so a server (decode requests,
// encode replies) and a client (the reverse) share one definition per op. Ops whose records
// have the same layout share a struct under the op's own name (the aliases below), as the Java
// jute records do.
//
// Example (a client's getData):
//   zk::proto::JuteWriter writer;
//   zk::proto::RequestHeader{.xid = xid, .type = zk::proto::op::kGetData}.Encode(writer);
//   zk::proto::GetDataRequest{.path = "/a", .watch = false}.Encode(writer);
//   ...
//   zk::proto::GetDataResponse response;
//   response.Decode(reader);  // after the ReplyHeader, when its err is 0

#ifndef ZK_PROTO_NODE_OPS_H_
#define ZK_PROTO_NODE_OPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"
#include "zk/proto/records.h"

namespace zk::proto {

// --- Requests ---

// create, create2, createContainer. flags: bit 0 ephemeral, bit 1 sequential; the
// container and TTL modes have their own values (4, 5, 6).
struct CreateRequest {
  std::string path;
  std::string data;
  // True if data is a null buffer (length -1, the C client's NULL); ZooKeeper keeps the null.
  bool data_null = false;
  std::vector<Acl> acls;
  int32_t flags = 0;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const CreateRequest&, const CreateRequest&) = default;
};

// createTTL: a CreateRequest followed by the TTL in milliseconds.
struct CreateTtlRequest {
  CreateRequest create;
  int64_t ttl = 0;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const CreateTtlRequest&, const CreateTtlRequest&) = default;
};

// A path and an expected version (-1: any).
struct PathVersionRequest {
  std::string path;
  int32_t version = -1;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const PathVersionRequest&, const PathVersionRequest&) = default;
};
using DeleteRequest = PathVersionRequest;
using CheckVersionRequest = PathVersionRequest;

// A path and whether to leave a standard watch.
struct PathWatchRequest {
  std::string path;
  bool watch = false;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const PathWatchRequest&, const PathWatchRequest&) = default;
};
using ExistsRequest = PathWatchRequest;
using GetDataRequest = PathWatchRequest;
using GetChildrenRequest = PathWatchRequest;  // getChildren and getChildren2

// A path alone.
struct PathRequest {
  std::string path;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const PathRequest&, const PathRequest&) = default;
};
using GetAclRequest = PathRequest;
using SyncRequest = PathRequest;
using GetEphemeralsRequest = PathRequest;  // the path is a prefix
using GetAllChildrenNumberRequest = PathRequest;

struct SetDataRequest {
  std::string path;
  std::string data;
  // True if data is a null buffer (length -1).
  bool data_null = false;
  int32_t version = -1;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const SetDataRequest&, const SetDataRequest&) = default;
};

struct SetAclRequest {
  std::string path;
  std::vector<Acl> acls;
  int32_t version = -1;  // of the ACL (aversion)
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const SetAclRequest&, const SetAclRequest&) = default;
};

// --- Responses (the body after a ReplyHeader whose err is 0) ---

// A path: the created path of create, the path of sync.
struct PathResponse {
  std::string path;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const PathResponse&, const PathResponse&) = default;
};
using CreateResponse = PathResponse;
using SyncResponse = PathResponse;

// create2, createContainer, createTTL (and create inside multi when container/TTL).
struct Create2Response {
  std::string path;
  Stat stat;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const Create2Response&, const Create2Response&) = default;
};

// A Stat alone.
struct StatResponse {
  Stat stat;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const StatResponse&, const StatResponse&) = default;
};
using ExistsResponse = StatResponse;
using SetDataResponse = StatResponse;
using SetAclResponse = StatResponse;

struct GetDataResponse {
  std::string data;
  // True if the node holds a null buffer (created or set with length -1).
  bool data_null = false;
  Stat stat;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const GetDataResponse&, const GetDataResponse&) = default;
};

struct GetAclResponse {
  std::vector<Acl> acls;
  Stat stat;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const GetAclResponse&, const GetAclResponse&) = default;
};

// A vector of names or paths.
struct PathsResponse {
  std::vector<std::string> paths;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const PathsResponse&, const PathsResponse&) = default;
};
using GetChildrenResponse = PathsResponse;    // child names
using GetEphemeralsResponse = PathsResponse;  // full paths

struct GetChildren2Response {
  std::vector<std::string> children;
  Stat stat;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const GetChildren2Response&, const GetChildren2Response&) = default;
};

struct GetAllChildrenNumberResponse {
  int32_t total = 0;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const GetAllChildrenNumberResponse&,
                         const GetAllChildrenNumberResponse&) = default;
};

}  // namespace zk::proto

#endif  // ZK_PROTO_NODE_OPS_H_
