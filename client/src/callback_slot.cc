#include "callback_slot.h"

#include <utility>

namespace zk::internal {

void CancelSlot(CallbackSlot& slot) { slot.Cancel(); }

CallbackSlot::CallbackSlot(Callback callback, std::function<void()> on_cancel, bool on_loop)
    : on_loop_(on_loop), callback_(std::move(callback)), on_cancel_(std::move(on_cancel)) {}

template <typename Event>
bool CallbackSlot::InvokeImpl(const Event& event) {
  using Fn = absl::AnyInvocable<void(const Event&)>;
  return Run([&] {
    if (auto* fn = std::get_if<Fn>(&callback_); fn != nullptr && *fn) (*fn)(event);
  });
}

bool CallbackSlot::Run(absl::FunctionRef<void()> fn) {
  {
    MutexLock lock(&mu_);
    if (cancelled_) return false;
    running_ = true;
    running_thread_ = std::this_thread::get_id();
  }
  fn();
  Callback to_destroy;
  {
    MutexLock lock(&mu_);
    running_ = false;
    // Cancelled from inside the callback: release its captures now that it has returned. (A
    // Cancel on another thread waits for us and releases them itself, before it returns.)
    if (cancelled_from_callback_) to_destroy = std::move(callback_);
  }
  return true;
}

bool CallbackSlot::Invoke(const WatchEvent& event) { return InvokeImpl(event); }
bool CallbackSlot::Invoke(const SessionEvent& event) { return InvokeImpl(event); }

void CallbackSlot::Cancel() {
  std::function<void()> on_cancel;
  Callback to_destroy;
  {
    MutexLock lock(&mu_);
    if (cancelled_) return;
    cancelled_ = true;
    if (running_ && running_thread_ == std::this_thread::get_id()) {
      cancelled_from_callback_ = true;
    } else if (running_) {
      mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !running_; });
    }
    if (!running_) to_destroy = std::move(callback_);
    on_cancel = std::move(on_cancel_);
  }
  if (on_cancel) on_cancel();
}

bool CallbackSlot::cancelled() const {
  MutexLock lock(&mu_);
  return cancelled_;
}

}  // namespace zk::internal
