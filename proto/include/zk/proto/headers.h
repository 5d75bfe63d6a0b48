// zk/proto/headers.h — the records that frame every exchange after the handshake
// (protocol.md §3-§4): RequestHeader before each request, ReplyHeader before each reply and
// notification, WatcherEvent (the body of a notification, xid -1), and the MultiHeader that
// precedes each sub-operation and sub-result of multi and multiRead.
//
// Example (a client reading a reply):
//   zk::proto::JuteReader reader(body);
//   zk::proto::ReplyHeader header;
//   header.Decode(reader);
//   if (header.xid == zk::proto::xid::kNotification) { zk::proto::WatcherEvent event; ... }

#ifndef ZK_PROTO_HEADERS_H_
#define ZK_PROTO_HEADERS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"

namespace zk::proto {

// Precedes every request: the client's xid (or a special xid) and the opcode.
struct RequestHeader {
  int32_t xid = 0;
  int32_t type = 0;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const RequestHeader&, const RequestHeader&) = default;
};

// Precedes every reply and notification. A reply body follows only when err is 0.
struct ReplyHeader {
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const ReplyHeader&, const ReplyHeader&) = default;
};

// The body of a watch notification (ReplyHeader xid -1, zxid -1, err 0).
struct WatcherEvent {
  int32_t type = 0;   // event::kNodeCreated ...
  int32_t state = 0;  // event::kSyncConnectedState
  std::string path;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const WatcherEvent&, const WatcherEvent&) = default;
};

// Precedes each sub-request and sub-result of multi/multiRead; a header with done == true
// (type -1, err -1) ends the list. In a failed multi each result is type op::kError followed
// by an ErrorResult.
struct MultiHeader {
  int32_t type = -1;
  bool done = true;
  int32_t err = -1;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const MultiHeader&, const MultiHeader&) = default;
};

// The body of an op::kError sub-result of multi/multiRead.
struct ErrorResult {
  int32_t err = 0;
  void Encode(JuteWriter& writer) const;
  void Decode(JuteReader& reader);
  friend bool operator==(const ErrorResult&, const ErrorResult&) = default;
};

// Overwrites the xid of a framed request (bytes 4-7 of the packet), so that a client can
// prepare a request once and send it again under new xids.
void PatchRequestXid(std::string& frame, int32_t xid);

}  // namespace zk::proto

#endif  // ZK_PROTO_HEADERS_H_
