// Engine: the transport-neutral core of a client (design.md §2). It owns the event-loop thread
// (poll on the transport's socket and an eventfd), submissions through a queue, deadlines, the
// in-flight registry that makes every completion run exactly once, the native watch table that
// shares one server watch per (path, kind), and the session state machine (suspended / lost /
// new session). The connection itself belongs to a Transport (transport.h): the C library's
// (clib_transport.h) or zkcpp's own (native_transport.h), chosen by ClientOptions::engine.

#ifndef ZK_CLIENT_SRC_ENGINE_H_
#define ZK_CLIENT_SRC_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "zk/internal/sync.h"
#include "absl/time/time.h"
#include "callback_slot.h"
#include "dispatcher.h"
#include "metrics_recorder.h"
#include "request.h"
#include "transport.h"
#include "zk/client.h"
#include "zk/metrics.h"

namespace zk::internal {

// Thread-safe where noted; "loop thread only" methods are for internal continuations.
class Engine final : public std::enable_shared_from_this<Engine>, private TransportEvents {
 public:
  // Validates `options`, creates the first handle (which starts connecting) and the threads.
  static absl::StatusOr<std::shared_ptr<Engine>> Start(ClientOptions options);
  ~Engine();

  // Thread-safe. Queues `request`; its `done` runs exactly once. Requests submitted from the
  // dispatcher thread are handed to the loop once per dispatcher batch (one lock, one wakeup).
  void Submit(std::unique_ptr<Request> request);
  // On the dispatcher thread: hands its deferred requests to the loop now (elsewhere a no-op).
  // Called after each dispatcher batch, before any other post from that thread (order), and
  // before anything there blocks waiting for the loop.
  void FlushDeferredSubmissions();
  // Thread-safe. Runs `task` on the loop thread (dropped, unrun, once the loop has ended).
  void Post(Task task);
  // Thread-safe. As Post, but returns false, leaving `task` untouched, once the loop has ended.
  bool TryPost(Task&& task);
  // Thread-safe. Closes the session and ends the threads (see Client::~Client). Blocks until the
  // loop has finished unless called on the loop thread.
  void Shutdown();

  absl::Status WaitUntilConnected(absl::Duration timeout);
  // Thread-safe. See Client::Metrics().
  ClientMetrics Metrics() const;
  int64_t session_id() const;
  std::string session_password() const;
  absl::Duration negotiated_session_timeout() const;
  SessionState state() const;
  // Thread-safe. True while connected and the server was heard from (a reply, an event, a ping's
  // answer) within two thirds of the negotiated session timeout: the read timeout after which
  // the connection is given up. A holder that has not heard from the server for that long (a
  // long process pause, a frozen network) must not be told it still holds anything, even before
  // the loop has noticed the loss.
  bool ServerContactFresh() const;
  bool closed() const;
  const ClientOptions& options() const { return options_; }
  // The protocol engine this client runs (fixed at Start).
  EngineKind kind() const { return kind_; }
  absl::Duration operation_timeout() const { return operation_timeout_; }

  bool OnLoopThread() const { return std::this_thread::get_id() == loop_thread_id_; }
  // True on a thread where user callbacks of this client run (loop thread when inline).
  bool OnCallbackThread() const;

  Subscription SubscribeSessionEvents(SessionCallback callback);
  // Creates the slot behind a one-shot watch of `kind` on `path`; cancelling it detaches it.
  // With `on_loop`, the callback runs on the loop thread (internal watches).
  std::shared_ptr<CallbackSlot> NewWatchSlot(std::string path, WatchKind kind,
                                             WatchCallback callback, bool on_loop = false);
  // Returns ResourceExhausted if arming a new native watch on `path` would pass the budget.
  absl::Status CheckWatchBudget(std::string_view op, std::string_view path, WatchKind kind);

  // Loop thread only: whether the transport has server-side persistent watches (addWatch), and
  // the highest zxid the server told the session of (Transport::last_zxid).
  bool HasPersistentWatches() const { return transport_->HasPersistentWatches(); }
  int64_t LastZxid() const { return transport_->last_zxid(); }

  // Loop thread only: internal listeners of session events, called synchronously on the loop.
  using LoopSessionListener = std::function<void(const SessionEvent&)>;
  uint64_t AddLoopSessionListener(LoopSessionListener listener);
  void RemoveLoopSessionListener(uint64_t id);
  // Loop thread only: runs `task` on the loop thread at `when` (or during close, if earlier).
  // Returns a key for CancelTimer.
  using TimerKey = std::pair<absl::Time, uint64_t>;
  TimerKey RunAt(absl::Time when, Task task);
  // Loop thread only: drops a timer that has not run yet (a no-op if it ran or was cancelled).
  void CancelTimer(const TimerKey& key);
  // Loop thread only: queues `task` to run on the callback executor, in order with completions.
  // (After the loop has ended, from any thread: runs `task` at once.)
  void Deliver(Task task);

 private:
  // TransportEvents.
  void OnTransportState(TransportState state) override;
  void OnReply(uint64_t id, Reply reply) override;
  void OnWatchEvent(WatchEventType type, std::string_view path, WatchKind kind) override;
  void OnPersistentWatchEvent(WatchEventType type, std::string_view path,
                              std::string_view watched_path, WatchKind kind) override;
  void Log(LogLevel level, std::string_view message) override;
  void OnServerContact() override;
  void OnConnectionError(std::string_view reason) override;
  void OnAuthenticationFailed(std::string_view reason) override;

  // Writes to the wakeup eventfd if the loop sleeps in poll().
  void WakeLoopLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);
  struct Entry {
    std::unique_ptr<Request> request;
    bool sent = false;
    bool answered = false;  // completed early (deadline); waiting for the transport to let go
  };
  struct NativeWatch {
    std::vector<std::shared_ptr<CallbackSlot>> slots;
    int pending_arms = 0;  // reads with a watch in flight for this (path, kind)
  };
  using WatchKey = std::pair<std::string, int>;

  explicit Engine(ClientOptions options);
  absl::Status OpenTransport();
  void Loop();
  void RunQueuedWork();
  void RunLocalQueue();  // runs local_queue_, including what its tasks add
  void Execute(std::unique_ptr<Request> request);
  void Send(uint64_t id);
  void Complete(Entry& entry, Reply reply);
  void CompleteAll(ZooError rc, std::string_view detail);
  void FlushParked();
  // Answers every parked request (never sent) with `rc` and `detail`.
  void FailParked(ZooError rc, std::string_view detail);
  void RunTimers();
  void FlushOutbox();
  void Emit(SessionEvent event);
  void DeclareLost(absl::Status reason);
  void StartNewSession();  // closes the lost session's transport, opens a new one
  void EndAllWatches(const absl::Status& reason);
  void DetachSlot(const std::string& path, WatchKind kind, const CallbackSlot* slot);
  void DeliverToSlot(const std::shared_ptr<CallbackSlot>& slot, const WatchEvent& event);
  void CloseOnLoop();
  void SetConnected(bool connected);
  // Treats the connection as lost if the transport dropped it without telling.
  void NoticeSilentDisconnect();
  // Loop thread: ends every request sent on the lost connection with a connection loss now
  // (the library answers them later, or never; those late answers are ignored).
  void FailSentRequests();
  void RecordServerContact();

  const ClientOptions options_;
  const absl::Duration operation_timeout_;
  EngineKind kind_ = EngineKind::kCLibrary;  // set by Start, before the threads exist
  // Replayed on every connection: the digest_auth options, then each AddAuth that succeeded.
  CredentialList credentials_;

  // Submission queue, written by any thread.
  mutable Mutex queue_mu_;
  std::vector<Task> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool loop_ended_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::atomic<bool> sleeping_{false};
  int wakeup_fd_ = -1;

  MetricsRecorder metrics_;  // written by the loop thread, read by any

  // Published state, read by any thread.
  mutable Mutex state_mu_;
  bool connected_ ABSL_GUARDED_BY(state_mu_) = false;
  bool closed_ ABSL_GUARDED_BY(state_mu_) = false;
  bool loop_done_ ABSL_GUARDED_BY(state_mu_) = false;
  SessionState state_ ABSL_GUARDED_BY(state_mu_) = SessionState::kSuspended;
  int64_t session_id_ ABSL_GUARDED_BY(state_mu_) = 0;
  std::string session_password_ ABSL_GUARDED_BY(state_mu_);
  absl::Duration negotiated_timeout_ ABSL_GUARDED_BY(state_mu_) = absl::ZeroDuration();
  // The reason of the last connection failure, for WaitUntilConnected's error.
  std::string last_connection_error_ ABSL_GUARDED_BY(state_mu_);
  // Set once SASL authentication failed (terminal): what WaitUntilConnected returns.
  absl::Status auth_failure_ ABSL_GUARDED_BY(state_mu_);
  // When the server was last heard from (absl::ToUnixNanos), and two thirds of the negotiated
  // timeout in nanoseconds (0 while not connected): written by the loop, read by any thread.
  std::atomic<int64_t> last_contact_ns_{0};
  std::atomic<int64_t> contact_lease_ns_{0};

  Mutex subscribers_mu_;
  std::vector<std::shared_ptr<CallbackSlot>> subscribers_ ABSL_GUARDED_BY(subscribers_mu_);

  std::unique_ptr<Dispatcher> dispatcher_;  // null with CallbackExecution::kInline; never reset
  // Requests submitted on the dispatcher thread during a batch (touched by that thread only).
  std::vector<std::unique_ptr<Request>> deferred_;
  std::thread loop_thread_;
  std::atomic<std::thread::id> loop_thread_id_;  // while the loop runs; else no thread's

  // Everything below is touched by the loop thread only.
  std::unique_ptr<Transport> transport_;
  bool stopping_ = false;
  bool new_session_pending_ = false;
  bool flush_parked_ = false;
  bool ever_connected_ = false;
  bool after_loss_ = false;
  bool loop_connected_ = false;
  int64_t loop_session_id_ = 0;
  // Non-empty once SASL authentication failed: why, as every request is then answered.
  std::string auth_failure_detail_;
  ZooError closing_rc_ = ZooError::kConnectionLoss;  // what a transport's kClosing means now
  std::vector<Task> local_queue_;                    // submissions made on the loop thread
  std::vector<Task> outbox_;                         // user callbacks of this turn
  uint64_t next_id_ = 1;
  absl::flat_hash_map<uint64_t, Entry> entries_;
  std::deque<uint64_t> parked_;  // waiting for a connection
  using Deadline = std::pair<absl::Time, uint64_t>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::optional<absl::Time> loss_deadline_;  // suspended: declare lost at this time
  std::map<TimerKey, Task> timers_;           // RunAt, in time order
  uint64_t next_timer_id_ = 1;
  absl::flat_hash_map<WatchKey, NativeWatch> native_watches_;
  int64_t watch_handles_ = 0;  // slots attached across native_watches_
  std::atomic<size_t> watch_bytes_{0};  // written by the loop, read by CheckWatchBudget
  uint64_t next_listener_id_ = 1;
  std::vector<std::pair<uint64_t, LoopSessionListener>> loop_listeners_;
};

}  // namespace zk::internal

#endif  // ZK_CLIENT_SRC_ENGINE_H_
