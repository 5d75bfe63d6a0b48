// zkcpp_bench_raw_driver: the floor of the side-by-side suite — what the server does when the
// client costs (almost) nothing. One thread, one blocking loopback socket, the jute framing of
// ConnectRequest, getData and setData written by hand, request bytes prepared once (only the xid
// changes). Pipelined: `window` requests in one write; then each read's complete replies are
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
#include <optional>
#include <string>
#include <string_view>

#include "driver_common.h"
#include "loops.h"

namespace zkbench {
namespace {

constexpr int32_t kGetData = 4;
constexpr int32_t kSetData = 5;
constexpr int32_t kCloseSession = -11;
constexpr size_t kReplyHeader = 4 + 8 + 4;  // xid, zxid, err

void PutInt(std::string& out, int32_t v) {
  const uint32_t be = htonl(static_cast<uint32_t>(v));
  out.append(reinterpret_cast<const char*>(&be), 4);
}
void PutLong(std::string& out, int64_t v) {
  PutInt(out, static_cast<int32_t>(static_cast<uint64_t>(v) >> 32));
  PutInt(out, static_cast<int32_t>(v & 0xffffffff));
}
void PutBuffer(std::string& out, std::string_view bytes) {
  PutInt(out, static_cast<int32_t>(bytes.size()));
  out.append(bytes);
}
int32_t GetInt(const char* p) {
  uint32_t be;
  std::memcpy(&be, p, 4);
  return static_cast<int32_t>(ntohl(be));
}
// Prefixes `body` with its length.
std::string Frame(const std::string& body) {
  std::string out;
  PutInt(out, static_cast<int32_t>(body.size()));
  return out + body;
}

class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) {
      std::string close_request;
      PutInt(close_request, 1 << 30);
      PutInt(close_request, kCloseSession);
      const std::string frame = Frame(close_request);
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
    std::string request;
    PutInt(request, 0);        // protocolVersion
    PutLong(request, 0);       // lastZxidSeen
    PutInt(request, 10000);    // timeOut
    PutLong(request, 0);       // sessionId
    PutBuffer(request, std::string(16, '\0'));  // passwd
    request.push_back('\0');   // readOnly
    return Send(Frame(request)) && NextFrame().has_value();
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
    if (!FrameReady() && !Fill(true)) return std::nullopt;
    while (!FrameReady()) {
      if (!Fill(true)) return std::nullopt;
    }
    return TakeFrame();
  }
  // A complete frame already buffered (reading more without blocking), or nullopt.
  std::optional<std::string_view> BufferedFrame() {
    if (!FrameReady()) Fill(false);
    if (!FrameReady()) return std::nullopt;
    return TakeFrame();
  }

 private:
  bool FrameReady() const {
    return in_.size() - at_ >= 4 && in_.size() - at_ >= 4 + static_cast<size_t>(GetInt(&in_[at_]));
  }
  std::string_view TakeFrame() {
    const size_t length = static_cast<size_t>(GetInt(&in_[at_]));
    std::string_view body(&in_[at_ + 4], length);
    at_ += 4 + length;
    return body;
  }
  bool Fill(bool block) {
    if (at_ > 0 && at_ == in_.size()) {
      in_.clear();
      at_ = 0;
    } else if (at_ > (1 << 20)) {
      in_.erase(0, at_);
      at_ = 0;
    }
    const size_t old = in_.size();
    in_.resize(old + (1 << 16));
    const ssize_t n = recv(fd_, &in_[old], 1 << 16, block ? 0 : MSG_DONTWAIT);
    in_.resize(old + (n > 0 ? n : 0));
    return n > 0;
  }

  int fd_ = -1;
  std::string in_;
  size_t at_ = 0;
};

// A request's bytes, prepared once; Stamp() writes the next xid into them.
class Request {
 public:
  Request(int32_t type, const std::string& path, const std::string* data) {
    std::string body;
    PutInt(body, 0);  // xid
    PutInt(body, type);
    PutBuffer(body, path);
    if (data != nullptr) {
      PutBuffer(body, *data);
      PutInt(body, -1);  // any version
    } else {
      body.push_back('\0');  // no watch
    }
    bytes_ = Frame(body);
  }
  const std::string& Stamp(int32_t xid) {
    const uint32_t be = htonl(static_cast<uint32_t>(xid));
    std::memcpy(&bytes_[4], &be, 4);
    return bytes_;
  }

 private:
  std::string bytes_;
};

// A reply is good if its err is 0 and, for getData, its data has the expected length.
bool GoodReply(std::string_view body, bool get, int64_t size) {
  if (body.size() < kReplyHeader || GetInt(body.data() + 12) != 0) return false;
  return !get || (body.size() >= kReplyHeader + 4 && GetInt(body.data() + kReplyHeader) == size);
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
  Request request(get ? kGetData : kSetData, config.path, get ? nullptr : &value);
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
