// zkcpp CLI — the stream of events printed by a watching command (watch, services --watch),
// and when it ends: after `count` events, on an interrupt, or on a failure.
//
// Thread-safety: thread-safe. Events come from the client's callback thread, Stop from the
// signal thread, Wait runs on the main thread. Once ended, nothing more is printed.

#ifndef ZKCPP_TOOLS_CLI_EVENT_STREAM_H_
#define ZKCPP_TOOLS_CLI_EVENT_STREAM_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "absl/status/status.h"
#include "cli/output.h"

namespace zk::cli {

class EventStream {
 public:
  // Prints to `out`; ends after `count` events (0: no limit).
  EventStream(Output& out, int64_t count) : out_(out), count_(count) {}
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Prints one event (Output::Emit) unless the stream has ended.
  void Emit(const Json& object, std::string_view text);
  // Ends the stream without an error (an interrupt).
  void Stop();
  // Ends the stream with `status`, unless it has ended already.
  void Fail(absl::Status status);
  // Waits until the stream has ended; returns the failure, or OK.
  absl::Status Wait();

 private:
  Output& out_;
  const int64_t count_;
  std::mutex mu_;
  std::condition_variable ended_cv_;  // notified when ended_ turns true
  // Guarded by mu_.
  int64_t printed_ = 0;
  bool ended_ = false;
  absl::Status failure_;
};

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_EVENT_STREAM_H_
