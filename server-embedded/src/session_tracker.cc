#include "session_tracker.h"

#include <algorithm>
#include <atomic>

namespace zk::testing::internal {
namespace {

// ZooKeeper makes session ids from the member's id and its start time. Every embedded server
// is member 1, so two started in one millisecond (a test with two servers) would hand out the
// same ids: each tracker of the process takes a millisecond of its own instead.
int64_t UniqueStartMs(int64_t wall_clock_ms) {
  static std::atomic<int64_t> last{0};
  int64_t previous = last.load();
  int64_t mine;
  do {
    mine = std::max(wall_clock_ms, previous + 1);
  } while (!last.compare_exchange_weak(previous, mine));
  return mine;
}

}  // namespace

SessionTracker::SessionTracker(int64_t tick_ms, int64_t wall_clock_ms)
    : tick_ms_(tick_ms > 0 ? tick_ms : 1) {
  uint64_t base = (static_cast<uint64_t>(UniqueStartMs(wall_clock_ms)) << 24) >> 8;
  next_session_id_ = static_cast<int64_t>((uint64_t{1} << 56) | base);
}

Session& SessionTracker::Create(int32_t timeout_ms, int64_t now_ms) {
  int64_t id = next_session_id_++;
  Session& session = sessions_[id];
  session.id = id;
  session.timeout_ms = timeout_ms;
  session.passwd = PasswordFor(id);
  Touch(session, now_ms);
  return session;
}

Session* SessionTracker::Find(int64_t session_id) {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

void SessionTracker::Touch(Session& session, int64_t now_ms) {
  int64_t deadline = now_ms + session.timeout_ms;
  session.expire_at_ms = (deadline / tick_ms_ + 1) * tick_ms_;
}

std::vector<int64_t> SessionTracker::Expired(int64_t now_ms) const {
  std::vector<int64_t> expired;
  for (const auto& [id, session] : sessions_) {
    if (session.expire_at_ms <= now_ms) expired.push_back(id);
  }
  return expired;
}

std::string SessionTracker::PasswordFor(int64_t session_id) {
  // splitmix64 over the id: opaque to clients, stable across restarts.
  uint64_t state = static_cast<uint64_t>(session_id) ^ 0xB3415C00ULL;
  std::string passwd;
  for (int word = 0; word < 2; ++word) {
    state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (int i = 0; i < 8; ++i) passwd.push_back(static_cast<char>((z >> (8 * i)) & 0xff));
  }
  return passwd;
}

}  // namespace zk::testing::internal
