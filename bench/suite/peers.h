// How to start each peer's driver process, and whether it can run here.

#ifndef ZKCPP_BENCH_SUITE_PEERS_H_
#define ZKCPP_BENCH_SUITE_PEERS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace zkbench {

// The driver command line of `peer` (workloads.h's Peers()) with the protocol flags `args`.
std::vector<std::string> Command(const std::string& peer, std::vector<std::string> args);

// NotFound (with what to install) if the peer's driver cannot run.
absl::Status CheckPeer(const std::string& peer);

// zkcpp-server, built with the suite.
std::string EmbeddedServerBinary();

}  // namespace zkbench

#endif  // ZKCPP_BENCH_SUITE_PEERS_H_
