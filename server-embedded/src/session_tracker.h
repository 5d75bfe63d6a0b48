// SessionTracker: live sessions, their passwords and tick-bucketed expiry.

#ifndef ZK_SERVER_EMBEDDED_SRC_SESSION_TRACKER_H_
#define ZK_SERVER_EMBEDDED_SRC_SESSION_TRACKER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace zk::testing::internal {

// Holds one session.
struct Session {
  int64_t id = 0;
  int32_t timeout_ms = 0;
  std::string passwd;
  // Steady-clock ms at which the session expires (a multiple of the tick).
  int64_t expire_at_ms = 0;
  // True once closeSession was received (further ops get SESSIONEXPIRED).
  bool closing = false;
  // The connection bound to the session, or 0.
  uint64_t connection = 0;
  // True for a session created while the server was read-only: a local session, known to this
  // server alone (no createSession txn), gone when the server rejoins the quorum.
  bool local = false;
};

// Creates sessions with ZooKeeper-shaped ids, and computes expiry deadlines
// the way ExpiryQueue does: rounded up to the next multiple of the tick.
//
// Thread-compatible: the owner serializes all calls.
class SessionTracker {
 public:
  // `wall_clock_ms` seeds the id generator as the standalone server does (moved to the next
  // millisecond no other tracker of this process took, so that two servers never share ids).
  SessionTracker(int64_t tick_ms, int64_t wall_clock_ms);

  // Creates a session and returns it.
  Session& Create(int32_t timeout_ms, int64_t now_ms);
  // Returns the session or nullptr.
  Session* Find(int64_t session_id);
  // Pushes the deadline of a session to now + timeout, rounded to the tick.
  void Touch(Session& session, int64_t now_ms);
  // Returns the ids of sessions whose deadline has passed.
  std::vector<int64_t> Expired(int64_t now_ms) const;
  void Remove(int64_t session_id) { sessions_.erase(session_id); }
  // Returns the deterministic 16-byte password of a session id.
  static std::string PasswordFor(int64_t session_id);

  const std::map<int64_t, Session>& sessions() const { return sessions_; }
  int64_t tick_ms() const { return tick_ms_; }

 private:
  int64_t tick_ms_;
  int64_t next_session_id_;
  std::map<int64_t, Session> sessions_;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_SESSION_TRACKER_H_
