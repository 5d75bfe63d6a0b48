#include "cli/event_stream.h"

#include <utility>

namespace zk::cli {

void EventStream::Emit(const Json& object, std::string_view text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ended_) return;
  // Printed under the lock: an event that lost the race against the end is never printed.
  out_.Emit(object, text);
  ++printed_;
  ended_ = count_ > 0 && printed_ >= count_;
  if (ended_) ended_cv_.notify_all();
}

void EventStream::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = true;
  ended_cv_.notify_all();
}

void EventStream::Fail(absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ended_) failure_ = std::move(status);
  ended_ = true;
  ended_cv_.notify_all();
}

absl::Status EventStream::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  ended_cv_.wait(lock, [this] { return ended_; });
  return failure_;
}

}  // namespace zk::cli
