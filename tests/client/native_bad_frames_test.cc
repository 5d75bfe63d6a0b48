// The native engine against a server that misbehaves on the wire. Every bad frame (a length
// over the frame limit or negative, a reply to no request, a reply too short for its record)
// must end that connection with a logged reason naming the problem, fail the request that was
// waiting with a connection loss, and leave the client reconnecting: never a crash, never a
// request answered with bytes meant for another. The peer is a scripted socket that answers
// the handshake as ZooKeeper does and then sends the bad frame: no real server sends such
// bytes, which is the point.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "zk/client.h"
#include "zk/internal/sync.h"
#include "zk/proto/connect.h"
#include "zk/proto/constants.h"
#include "zk/proto/frame_decoder.h"
#include "zk/proto/headers.h"
#include "zk/proto/jute_writer.h"
#include "zk/proto/records.h"

namespace zk::testing {
namespace {

enum class Misbehaviour { kOversizedFrame, kNegativeLength, kUnknownXid, kTruncatedReply };

// Listens on a loopback port; on every connection answers the handshake, then answers the
// first request (not a ping) with the misbehaviour, and later ones normally enough to be
// ignored. Stops on destruction.
class HostilePeer {
 public:
  explicit HostilePeer(Misbehaviour misbehaviour) : misbehaviour_(misbehaviour) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listen_fd_, 8);
    socklen_t length = sizeof(address);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HostilePeer() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    close(listen_fd_);
  }
  int port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  void Serve() {
    while (!stopping_) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      ++connections_;
      Converse(fd);
      close(fd);
    }
  }

  // One connection, until the client drops it.
  void Converse(int fd) {
    zk::proto::FrameDecoder decoder;
    bool handshaken = false;
    char buffer[4096];
    while (true) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n <= 0) return;
      decoder.Append(std::string_view(buffer, static_cast<size_t>(n)));
      std::string body;
      while (decoder.Next(&body) == zk::proto::FrameDecoder::Result::kFrame) {
        zk::proto::JuteWriter out;
        if (!handshaken) {
          handshaken = true;
          zk::proto::ConnectResponse{.timeout_ms = 10000,
                                     .session_id = 0x5eed,
                                     .passwd = std::string(16, 'p')}
              .Encode(out);
          Send(fd, out.TakeFrame());
          continue;
        }
        zk::proto::JuteReader reader(body);
        zk::proto::RequestHeader header;
        header.Decode(reader);
        if (header.xid == zk::proto::xid::kPing || header.xid == zk::proto::xid::kSetWatches) {
          zk::proto::ReplyHeader{header.xid, 1, 0}.Encode(out);
          Send(fd, out.TakeFrame());
          continue;
        }
        Send(fd, BadAnswer(header.xid));
      }
    }
  }

  std::string BadAnswer(int32_t xid) const {
    zk::proto::JuteWriter out;
    switch (misbehaviour_) {
      case Misbehaviour::kOversizedFrame: {
        std::string frame(4, '\0');
        zk::proto::EncodeIntAt(zk::proto::kMaxFrameLength + 4096, frame.data());
        return frame;
      }
      case Misbehaviour::kNegativeLength: {
        std::string frame(4, '\0');
        zk::proto::EncodeIntAt(-5, frame.data());
        return frame;
      }
      case Misbehaviour::kUnknownXid:
        zk::proto::ReplyHeader{xid + 1000, 1, 0}.Encode(out);
        zk::proto::WriteStat(zk::proto::Stat{}, out);
        return out.TakeFrame();
      case Misbehaviour::kTruncatedReply:
        zk::proto::ReplyHeader{xid, 1, 0}.Encode(out);
        out.WriteBuffer("data");
        out.WriteInt(7);  // the Stat that should follow is cut short
        return out.TakeFrame();
    }
    return "";
  }

  static void Send(int fd, const std::string& bytes) {
    [[maybe_unused]] ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }

  const Misbehaviour misbehaviour_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

struct Case {
  Misbehaviour misbehaviour;
  const char* name;
  const char* logged;  // what the log line must say
};

class NativeBadFramesTest : public ::testing::TestWithParam<Case> {};

TEST_P(NativeBadFramesTest, DropsTheConnectionWithAReasonAndReconnects) {
  HostilePeer peer(GetParam().misbehaviour);
  zk::internal::Mutex mu;
  std::vector<std::string> logs;
  ClientOptions options = TestOptions("127.0.0.1:" + std::to_string(peer.port()));
  options.engine = EngineKind::kNative;
  options.operation_timeout = std::chrono::seconds(20);
  options.log_sink = [&](LogLevel, std::string_view message) {
    zk::internal::MutexLock lock(&mu);
    logs.emplace_back(message);
  };
  absl::StatusOr<std::unique_ptr<Client>> client = ConnectAndWait(options);
  ASSERT_THAT(client, IsOk());
  SessionLog sessions;
  Subscription sub = (*client)->SubscribeSessionEvents(sessions.Callback());

  absl::StatusOr<GetResult> got = (*client)->Get("/node");
  EXPECT_THAT(got.status(), StatusIs(absl::StatusCode::kUnavailable, "/node"));
  // The client keeps its session and comes back on a new connection.
  std::optional<size_t> suspended = sessions.WaitForState(SessionState::kSuspended);
  ASSERT_TRUE(suspended.has_value());
  EXPECT_TRUE(sessions.WaitForState(SessionState::kReconnected, *suspended).has_value());
  EXPECT_GE(peer.connections(), 2);
  zk::internal::MutexLock lock(&mu);
  EXPECT_THAT(logs, ::testing::Contains(::testing::HasSubstr(GetParam().logged)));
  (*client)->Close();
}

INSTANTIATE_TEST_SUITE_P(
    Misbehaviours, NativeBadFramesTest,
    ::testing::Values(
        Case{Misbehaviour::kOversizedFrame, "OversizedFrame", "over max_frame_bytes"},
        Case{Misbehaviour::kNegativeLength, "NegativeLength", "negative or over max_frame_bytes"},
        Case{Misbehaviour::kUnknownXid, "UnknownXid", "answered xid"},
        Case{Misbehaviour::kTruncatedReply, "TruncatedReply", "does not decode"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace zk::testing
