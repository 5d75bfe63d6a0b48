// Fault injection for recipe fault runs: one fault at a time on the backend or on one client's
// session, shared by the counter and barrier runs.

#ifndef ZKCPP_TESTS_RECIPES_FAULT_INJECTION_H_
#define ZKCPP_TESTS_RECIPES_FAULT_INJECTION_H_

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing/backend.h"
#include "testing/status_matchers.h"
#include "zk/client.h"

#if ZKCPP_HAVE_EMBEDDED_SERVER
#include "zk/testing/embedded_server.h"
#endif

namespace zk::recipes::testing {

enum class Fault {
  kExpireSession,   // the victim's session expires on the server (its ephemerals go)
  kDropConnection,  // the victim's connection is cut, requests in flight (embedded server; a
                    // 100 ms stall of the whole server elsewhere)
  kPause,           // the whole server stalls for 100 ms
  kRestart,         // the server crashes and restarts (sessions kept)
};

// Injects `fault`; returns whether it was injected. Never fails the test with ASSERT (callers
// run worker threads that must be joined).
inline bool InjectFault(zk::testing::Backend& backend, Client& victim, Fault fault) {
  switch (fault) {
    case Fault::kExpireSession:
      return backend.ExpireSession(victim.session_id(), victim.session_password()).ok();
    case Fault::kDropConnection:
#if ZKCPP_HAVE_EMBEDDED_SERVER
      if (auto* embedded = zk::testing::AsEmbeddedServer(backend)) {
        embedded->DropConnection(victim.session_id());
        return true;
      }
#endif
      [[fallthrough]];
    case Fault::kPause:
      if (!backend.Pause().ok()) return false;
      absl::SleepFor(absl::Milliseconds(100));  // the length of the stall, not a sync
      EXPECT_THAT(backend.Resume(), zk::testing::IsOk());
      return true;
    case Fault::kRestart:
      return backend.Restart().ok();
  }
  return false;
}

}  // namespace zk::recipes::testing

#endif  // ZKCPP_TESTS_RECIPES_FAULT_INJECTION_H_
