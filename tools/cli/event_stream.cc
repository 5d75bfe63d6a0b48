#include "cli/event_stream.h"

#include <utility>

namespace zk::cli {

void EventStream::Emit(const Json& object, std::string_view text) {
  zk::internal::MutexLock lock(&mu_);
  if (ended_) return;
  // Printed under the lock: an event that lost the race against the end is never printed.
  out_.Emit(object, text);
  ++printed_;
  ended_ = count_ > 0 && printed_ >= count_;
}

void EventStream::Stop() {
  zk::internal::MutexLock lock(&mu_);
  ended_ = true;
}

void EventStream::Fail(absl::Status status) {
  zk::internal::MutexLock lock(&mu_);
  if (!ended_) failure_ = std::move(status);
  ended_ = true;
}

absl::Status EventStream::Wait() {
  zk::internal::MutexLock lock(&mu_);
  mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return ended_; });
  return failure_;
}

}  // namespace zk::cli
