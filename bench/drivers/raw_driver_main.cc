// zkcpp_bench_raw_driver: the floor of the side-by-side suite — what the server does when the
// client costs (almost) nothing. One thread, one blocking loopback socket, the records of
// ConnectRequest, getData and setData encoded by zkcpp::proto (the embedded server's codec),
// request bytes prepared once (only the xid changes). Pipelined: `window` requests in one write; then each read's complete replies are
// answered by as many new requests in one write. Bench-only code: no watches, no pings (a run
// keeps the session busy), no reconnects. Workloads: sync_get, sync_set, pipelined_get,
// pipelined_set (protocol: common/driver_common.h).

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "driver_common.h"
#include "loops.h"
#include "zk/proto/connect.h"
#include "zk/proto/constants.h"
#include "zk/proto/frame_decoder.h"
#include "zk/proto/headers.h"
#include "zk/proto/jute_reader.h"
#include "zk/proto/jute_writer.h"
#include "zk/proto/node_ops.h"

namespace zkbench {
namespace {

namespace proto = ::zk::proto;

class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) {
      proto::JuteWriter close_request;
      proto::RequestHeader{.xid = 1 << 30, .type = proto::op::kCloseSession}.Encode(
          close_request);
      const std::string frame = close_request.TakeFrame();
      (void)!write(fd_, frame.data(), frame.size());
      close(fd_);
    }
  }

  bool Connect(const std::string& hosts) {
    const std::string first = hosts.substr(0, hosts.find(','));
    const size_t colon = first.rfind(':');
    addrinfo hints{}, *found = nullptr;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(first.substr(0, colon).c_str(), first.substr(colon + 1).c_str(), &hints,
                    &found) != 0) {
      return false;
    }
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    const bool connected = connect(fd_, found->ai_addr, found->ai_addrlen) == 0;
    freeaddrinfo(found);
    if (!connected) return false;
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    proto::JuteWriter request;
    proto::ConnectRequest{.timeout_ms = 10000, .passwd = std::string(16, '\0')}.Encode(request);
    return Send(request.TakeFrame()) && NextFrame().has_value();
  }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = write(fd_, bytes.data(), bytes.size());
      if (n <= 0) return false;
      bytes.remove_prefix(n);
    }
    return true;
  }

  // The next complete frame's body (blocking), or nullopt if the connection broke. The view is
  // valid until the next call.
  std::optional<std::string_view> NextFrame() {
    for (;;) {
      std::string_view body;
      switch (frames_.NextView(&body)) {
        case proto::FrameDecoder::Result::kFrame:
          return body;
        case proto::FrameDecoder::Result::kError:
          return std::nullopt;
        case proto::FrameDecoder::Result::kNeedMore:
          if (!Fill(true)) return std::nullopt;
          break;
      }
    }
  }
  // A complete frame already buffered (reading more without blocking), or nullopt.
  std::optional<std::string_view> BufferedFrame() {
    std::string_view body;
    if (frames_.NextView(&body) == proto::FrameDecoder::Result::kFrame) return body;
    Fill(false);
    if (frames_.NextView(&body) == proto::FrameDecoder::Result::kFrame) return body;
    return std::nullopt;
  }

 private:
  bool Fill(bool block) {
    const ssize_t n = recv(fd_, chunk_, sizeof(chunk_), block ? 0 : MSG_DONTWAIT);
    if (n > 0) frames_.Append(std::string_view(chunk_, static_cast<size_t>(n)));
    return n > 0;
  }

  int fd_ = -1;
  // No frame limit: a bench run picks its own value sizes.
  proto::FrameDecoder frames_{std::numeric_limits<int32_t>::max()};
  char chunk_[1 << 16];
};

// A request's bytes, prepared once; Stamp() writes the next xid into them.
class Request {
 public:
  Request(const std::string& path, const std::string* data) {
    proto::JuteWriter writer;
    if (data != nullptr) {
      proto::RequestHeader{.type = proto::op::kSetData}.Encode(writer);
      proto::SetDataRequest{.path = path, .data = *data, .version = -1}.Encode(writer);
    } else {
      proto::RequestHeader{.type = proto::op::kGetData}.Encode(writer);
      proto::GetDataRequest{.path = path, .watch = false}.Encode(writer);
    }
    bytes_ = writer.TakeFrame();
  }
  const std::string& Stamp(int32_t xid) {
    proto::PatchRequestXid(bytes_, xid);
    return bytes_;
  }

 private:
  std::string bytes_;
};

// A reply is good if its err is 0 and, for getData, its data has the expected length. Reads
// only the length prefix of GetDataResponse.data, not the whole record: no copy of the value.
bool GoodReply(std::string_view body, bool get, int64_t size) {
  proto::JuteReader reader(body);
  proto::ReplyHeader header;
  header.Decode(reader);
  if (!reader.ok() || header.err != proto::err::kOk) return false;
  return !get || (reader.ReadInt() == size && reader.ok());
}

int Run(const DriverConfig& config) {
  const std::string& w = config.workload;
  const bool get = w == "sync_get" || w == "pipelined_get";
  if (!get && w != "sync_set" && w != "pipelined_set") {
    std::fprintf(stderr, "raw driver: unknown workload %s\n", w.c_str());
    return 2;
  }
  Connection conn;
  if (!conn.Connect(config.hosts)) {
    std::fprintf(stderr, "raw driver: cannot connect to %s\n", config.hosts.c_str());
    return 1;
  }
  const std::string value(static_cast<size_t>(config.size), 'v');
  Request request(config.path, get ? nullptr : &value);
  int32_t xid = 0;

  if (w == "sync_get" || w == "sync_set") {
    return WarmAndMeasure(config, [&](int64_t n) {
      return TimeSyncOps(n, [&] {
        if (!conn.Send(request.Stamp(++xid))) return false;
        std::optional<std::string_view> reply = conn.NextFrame();
        return reply && GoodReply(*reply, get, config.size);
      });
    });
  }
  std::string out;
  return WarmAndMeasure(config, [&](int64_t total) {
    Measurement m;
    const CpuTime cpu0 = ProcessCpuTime();
    const int64_t t0 = NowNanos();
    int64_t issued = 0, completed = 0;
    out.clear();
    for (; issued < std::min<int64_t>(config.window, total); ++issued) out += request.Stamp(++xid);
    while (completed < total) {
      if (!out.empty() && !conn.Send(out)) break;
      out.clear();
      std::optional<std::string_view> reply = conn.NextFrame();
      if (!reply) break;  // the connection broke: the missing replies count as errors
      do {
        if (!GoodReply(*reply, get, config.size)) ++m.errors;
        ++completed;
        if (issued < total) {
          out += request.Stamp(++xid);
          ++issued;
        }
        reply = conn.BufferedFrame();
      } while (reply);
    }
    m.wall_ns = NowNanos() - t0;
    m.cpu = ProcessCpuTime() - cpu0;
    m.count = total;
    m.errors += total - completed;
    return m;
  });
}

}  // namespace
}  // namespace zkbench

int main(int argc, char** argv) {
  return zkbench::Run(zkbench::StartDriver(argc, argv, "raw driver"));
}
