// zkcpp test support: a TCP relay on 127.0.0.1 in front of one server, for partition tests.
//
// Clients connect to the relay instead of the server; each accepted connection is paired with
// one to the target. Freeze() stops moving bytes in both directions while every connection
// stays open: to both ends it looks like a network partition (nothing arrives, nothing is
// refused), not a crash. ResetConnections() ends every relayed connection with a TCP reset on
// the client's side, as a middlebox or a rebooted host does. Works in front of any server: the
// embedded one, a real ZooKeeper, one ensemble member.
//
// Example:
//   ZK_ASSERT_OK_AND_ASSIGN(auto relay, zk::testing::TcpRelay::Start(backend.connect_string()));
//   auto client = zk::Client::Connect({.connect_string = relay->connect_string(), ...});
//   relay->Freeze();   // the client hears nothing from now on
//   ...
//   relay->Thaw();     // buffered bytes flow again
//
// Thread-safe: every method may be called from any thread and has taken effect when it returns.

#ifndef ZKCPP_TESTS_TESTING_TCP_RELAY_H_
#define ZKCPP_TESTS_TESTING_TCP_RELAY_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace zk::testing {

class TcpRelay {
 public:
  // Listens on a free port of 127.0.0.1 and relays every connection to `target` ("host:port";
  // the first entry of a comma list is used).
  // Errors: InvalidArgument (bad target), Internal (socket calls failed).
  static absl::StatusOr<std::unique_ptr<TcpRelay>> Start(std::string_view target);
  // Closes every connection and the listening socket, and joins the relay's thread.
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  // "127.0.0.1:<port>" of the relay.
  std::string connect_string() const;

  // Stops moving bytes both ways; connections stay open and new ones are still accepted (and
  // paired with the target), but nothing they send is forwarded until Thaw().
  void Freeze();
  // Moves bytes again, starting with what arrived meanwhile.
  void Thaw();
  // Resets every relayed connection: the client's side gets a TCP RST, the target's side a
  // normal close. Connections accepted later are relayed as usual (frozen if frozen).
  void ResetConnections();
  // The number of relayed connections open now.
  int connections() const;

  class Impl;

 private:
  explicit TcpRelay(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zk::testing

#endif  // ZKCPP_TESTS_TESTING_TCP_RELAY_H_
