// CLibTransport: the transport (transport.h) that drives Debian's libzookeeper_st 3.8. The C
// library does the handshake, pings, reconnects and watch restoration itself; this class turns
// its callbacks into the core's events, and notices the connections it drops without telling
// (SilentlyDropped). The library keeps process-global state, so every call into it holds one
// process-wide lock (clib_transport.cc): clients on this transport take turns.
//
// Only clib_transport.cc includes zookeeper.h.

#ifndef ZK_CLIENT_SRC_CLIB_TRANSPORT_H_
#define ZK_CLIENT_SRC_CLIB_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "transport.h"

struct _zhandle;

namespace zk::internal {

class CLibTransport final : public Transport {
 public:
  // `events` and `credentials` outlive the transport.
  CLibTransport(const ClientOptions& options, TransportEvents* events,
                const CredentialList* credentials);
  ~CLibTransport() override;

  absl::Status Open() override;
  void Close() override;
  ZooError Send(uint64_t id, const Request& request) override;
  void RemoveWatches(const std::string& path, WatchKind kind) override;
  Interest PollInterest(absl::Time now) override;
  void Process(bool readable, bool writable) override;
  void BeginBurst() override;
  void EndBurst() override;
  std::optional<TransportState> SilentlyDropped() override;
  SessionInfo session() const override;
  bool RestoresWatchesInAnyNumber() const override { return false; }

  // C-library trampolines (zookeeper.h types are hidden).
  void OnSessionEvent(int state);
  void OnWatchEvent(int type, const char* path, WatchKind kind);
  void OnLog(const char* message);
  void OnCompletion(uint64_t id, int rc, const std::function<void(Reply&)>& fill);

 private:
  struct Multi;  // the buffers a multi's results are written into

  const ClientOptions& options_;
  TransportEvents* const events_;
  const CredentialList* const credentials_;
  const std::string hosts_;  // connect string with chroot
  _zhandle* zh_ = nullptr;
  int fd_ = -1;               // the handle's socket as of the last PollInterest
  absl::Time next_interest_;  // our own reconnect backoff (see design.md §2)
  bool connected_ = false;    // as last reported to the core
  bool unusable_ = false;     // expired or refused: replaced by the core's next Open()
  SessionInfo session_;
  int burst_depth_ = 0;
  bool corked_ = false;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Multi>> multis_;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_CLIB_TRANSPORT_H_
