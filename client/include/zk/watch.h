// zkcpp — RAII handles for watches and session-event subscriptions.
//
//   absl::StatusOr<zk::Watched<zk::GetResult>> r =
//       client->GetAndWatch("/config", [](const zk::WatchEvent& e) { ... });
//   zk::Watch watch = std::move(r->watch);   // keep it alive as long as you want the event
//
// Destroying (or Cancel()ing) a handle guarantees its callback does not start afterwards and is
// not running any more when the call returns — unless the call is made from inside that very
// callback, which is allowed and simply stops further calls. A handle may outlive its Client
// (the client holds it only weakly); destroying it then does nothing more.

#ifndef ZK_WATCH_H_
#define ZK_WATCH_H_

#include <memory>

namespace zk {

namespace internal {
// The shared state behind a handle; defined in client/src.
class CallbackSlot;
void CancelSlot(CallbackSlot& slot);
}  // namespace internal

// A registered watch. Move-only. Thread-compatible: one handle is used by one thread at a time.
class Watch {
 public:
  Watch() = default;  // an empty handle (active() == false)
  explicit Watch(std::shared_ptr<internal::CallbackSlot> slot) : slot_(std::move(slot)) {}
  Watch(Watch&&) noexcept = default;
  Watch& operator=(Watch&& other) noexcept {
    if (this != &other) {
      Cancel();
      slot_ = std::move(other.slot_);
    }
    return *this;
  }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  ~Watch() { Cancel(); }

  // Stops the watch: its callback will not start again, and is not running when this returns
  // (unless called from the callback itself). The server-side watch is removed once no handle in
  // this process needs it. Idempotent.
  void Cancel() {
    if (slot_) internal::CancelSlot(*slot_);
    slot_.reset();
  }
  // Returns true while the handle holds a watch (even one that has already fired).
  bool active() const { return slot_ != nullptr; }

 private:
  std::shared_ptr<internal::CallbackSlot> slot_;
};

// A session-event subscription (Client::SubscribeSessionEvents). Same guarantees as Watch.
using Subscription = Watch;

// A read result together with the watch it armed.
template <typename T>
struct Watched {
  T result;
  Watch watch;
};

}  // namespace zk

#endif  // ZK_WATCH_H_
