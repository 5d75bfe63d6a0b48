// libFuzzer target: feeds arbitrary bytes, as one client connection would
// send them, through the frame decoder and request decoders of zkcpp::proto
// and the embedded server's protocol state machine (no sockets). Any crash,
// sanitizer report or unbounded allocation is a bug.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "zk/proto/connect.h"
#include "zk/proto/frame_decoder.h"
#include "zk/proto/request_decoder.h"
#include "zookeeper_service.h"

namespace {

using zk::testing::internal::ConnectionSink;
using zk::proto::FrameDecoder;
using zk::testing::internal::ServiceOptions;
using zk::testing::internal::ZooKeeperService;

// Discards replies; remembers closes so that the fuzzer stops feeding.
class DiscardingSink : public ConnectionSink {
 public:
  void Send(uint64_t connection, std::string frame) override { bytes_ += frame.size(); }
  void Close(uint64_t connection) override { closed_ = true; }
  bool closed() const { return closed_; }

 private:
  size_t bytes_ = 0;
  bool closed_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // The decoders alone, on the raw input.
  (void)zk::proto::DecodeConnectRequest(input);
  (void)zk::proto::DecodeRequest(input);

  // The whole connection path. Prefix a valid handshake half of the time so
  // the fuzzer reaches request processing quickly.
  DiscardingSink sink;
  ServiceOptions options;
  options.super_digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";
  // SASL users, so that sasl packets (opcode 102) reach the DIGEST-MD5 exchange.
  options.sasl_users = {{"alice", "secret"}};
  ZooKeeperService service(options, &sink);
  service.OnConnect(1, "127.0.0.1", 4242, 0, 0);
  FrameDecoder decoder;
  if (size > 0 && (data[0] & 1) != 0) {
    static const char kHandshake[] =
        "\x00\x00\x00\x2d"                  // length 45
        "\x00\x00\x00\x00"                  // protocolVersion
        "\x00\x00\x00\x00\x00\x00\x00\x00"  // lastZxidSeen
        "\x00\x00\x0f\xa0"                  // timeOut 4000
        "\x00\x00\x00\x00\x00\x00\x00\x00"  // sessionId
        "\x00\x00\x00\x10"                  // passwd length 16
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00";                             // readOnly
    decoder.Append(std::string_view(kHandshake, sizeof(kHandshake) - 1));
    input.remove_prefix(1);
  }
  decoder.Append(input);
  std::string body;
  int64_t now_ms = 1;
  while (!sink.closed() && decoder.Next(&body) == FrameDecoder::Result::kFrame) {
    service.OnFrame(1, body, now_ms++);
  }
  service.ExpireSessions(now_ms + 1000000);
  service.ReapContainers(now_ms + 1000000);
  service.OnDisconnect(1);
  return 0;
}
