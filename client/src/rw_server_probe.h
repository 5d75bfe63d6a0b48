// RwServerProbe: one question to one server, "are you read-write?", asked while the native
// transport is connected to a read-only server (ClientOptions::allow_read_only). It opens a
// non-blocking TCP connection, sends the four-letter word "isro" and reads the answer: "rw"
// means the server is part of a quorum and the transport should move there; "ro", a refused
// connection, a close or no answer before the deadline mean it is not (or not yet).
//
// Plaintext only: the transport does not probe when TLS is on (the answer would need a TLS
// handshake of its own), and stays on the read-only server until that connection ends.
//
// Thread: the engine's loop only, like the transport that owns it.

#ifndef ZK_CLIENT_SRC_RW_SERVER_PROBE_H_
#define ZK_CLIENT_SRC_RW_SERVER_PROBE_H_

#include <string>

#include "absl/time/time.h"
#include "host_list.h"

namespace zk::internal {

class RwServerProbe {
 public:
  enum class Outcome {
    kPending,     // no answer yet: poll fd() again
    kReadWrite,   // the server answered "rw"
    kNotReadWrite,  // "ro", a refusal, a close, a socket error, or the deadline passed
  };

  // Starts connecting to `address`; the probe gives up at `deadline`.
  RwServerProbe(const Address& address, absl::Time deadline);
  ~RwServerProbe();
  RwServerProbe(const RwServerProbe&) = delete;
  RwServerProbe& operator=(const RwServerProbe&) = delete;

  // The socket to poll (-1 once the probe has ended) and what to poll it for.
  int fd() const { return fd_; }
  bool wants_read() const { return fd_ >= 0 && connected_; }
  bool wants_write() const { return fd_ >= 0 && (!connected_ || !sent_); }
  absl::Time deadline() const { return deadline_; }
  const Address& address() const { return address_; }

  // Advances the probe after poll (`readable` / `writable` as poll reported) or after a timer
  // (both false, `now` past the deadline). The outcome is final once it is not kPending.
  Outcome Process(bool readable, bool writable, absl::Time now);

 private:
  Outcome Finish(Outcome outcome);

  const Address address_;
  const absl::Time deadline_;
  int fd_ = -1;
  bool connected_ = false;
  bool sent_ = false;
  std::string answer_;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_RW_SERVER_PROBE_H_
