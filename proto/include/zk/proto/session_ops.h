// zk/proto/session_ops.h — the request and response records of the operations on the session
// rather than on one znode (protocol.md §6-§7): auth (addAuth), setWatches and setWatches2
// (watch restore after a reconnect), addWatch, checkWatches and removeWatches, whoAmI, sasl
// and reconfig. As in node_ops.h, each record encodes and decodes itself.
//
// Example (a client restoring watches):
//   zk::proto::RequestHeader{.xid = zk::proto::xid::kSetWatches,
//                            .type = zk::proto::op::kSetWatches2}.Encode(writer);
//   zk::proto::SetWatches2Request{.relative_zxid = last_zxid, .data_watches = {"/a"}}
//       .Encode(writer);

#ifndef ZK_PROTO_SESSION_OPS_H_
#define ZK_PROTO_SESSION_OPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"

namespace zk::proto {

// auth (xid::kAuth): adds credentials to the session, e.g. ("digest", "user:password").
struct AuthPacket {
  int32_t type = 0;  // unused by ZooKeeper; 0
  std::string scheme;
  std::string auth;
  // True if auth is a null buffer (length -1).
  bool auth_null = false;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const AuthPacket&, const AuthPacket&) = default;
};

// setWatches (xid::kSetWatches): re-registers standard watches after a reconnect; a watch
// whose node changed after relative_zxid fires at once.
struct SetWatchesRequest {
  int64_t relative_zxid = 0;
  std::vector<std::string> data_watches;
  std::vector<std::string> exist_watches;
  std::vector<std::string> child_watches;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const SetWatchesRequest&, const SetWatchesRequest&) = default;
};

// setWatches2 (3.6+): setWatches plus the persistent and persistent-recursive watches.
struct SetWatches2Request {
  int64_t relative_zxid = 0;
  std::vector<std::string> data_watches;
  std::vector<std::string> exist_watches;
  std::vector<std::string> child_watches;
  std::vector<std::string> persistent_watches;
  std::vector<std::string> recursive_watches;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const SetWatches2Request&, const SetWatches2Request&) = default;
};

// A path and an int: addWatch (mode: 0 persistent, 1 persistent recursive), checkWatches
// and removeWatches (WatcherType: 1 children, 2 data, 3 any).
struct PathTypeRequest {
  std::string path;
  int32_t type = 0;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const PathTypeRequest&, const PathTypeRequest&) = default;
};
using AddWatchRequest = PathTypeRequest;
using CheckWatchesRequest = PathTypeRequest;
using RemoveWatchesRequest = PathTypeRequest;

// One authenticated identity of the session, as whoAmI reports it.
struct ClientInfo {
  std::string auth_scheme;
  std::string user;
  friend bool operator==(const ClientInfo&, const ClientInfo&) = default;
};

// whoAmI's answer (the request has no body).
struct WhoAmIResponse {
  std::vector<ClientInfo> client_info;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const WhoAmIResponse&, const WhoAmIResponse&) = default;
};

// sasl: a SASL token, in either direction (GetSASLRequest / SetSASLResponse).
struct SaslPacket {
  std::string token;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const SaslPacket&, const SaslPacket&) = default;
};

// reconfig (the embedded server answers ZRECONFIGDISABLED).
struct ReconfigRequest {
  std::string joining_servers;
  std::string leaving_servers;
  std::string new_members;
  int64_t cur_config_id = -1;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const ReconfigRequest&, const ReconfigRequest&) = default;
};

}  // namespace zk::proto

#endif  // ZK_PROTO_SESSION_OPS_H_
