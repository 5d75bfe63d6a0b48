#include "zk/testing/embedded_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "event_loop.h"
#include "four_letter_words.h"
#include "proto_aliases.h"
#include "snapshot.h"
#include "tls_server.h"
#include "zookeeper_service.h"

namespace zk::testing {

using internal::ConnectionSink;
using internal::EventLoop;
using internal::FrameDecoder;
using internal::ReadSnapshot;
using internal::Snapshot;
using internal::SnapshotPath;
using internal::ServerTlsConnection;
using internal::ServerTlsContext;
using internal::SteadyNowMs;
using internal::WriteSnapshot;
using internal::ZooKeeperService;

namespace {

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Owns the loop thread, the listening sockets and the client connections, and
// feeds frames to the ZooKeeperService. All state except the loop's task queue
// is confined to the loop thread; public methods hop onto it with RunSync.
class EmbeddedServer::Impl : public ConnectionSink {
 public:
  explicit Impl(EmbeddedServerOptions options);
  ~Impl() override;

  absl::Status Init();
  EventLoop& loop() { return loop_; }

  // ConnectionSink.
  void Send(uint64_t connection, std::string frame) override;
  void Close(uint64_t connection) override;

  // Loop thread only.
  // Opens a member's listening sockets: the plain port, and the TLS port with options_.tls.
  absl::Status Listen(int member);
  void StopListening(int member);
  void CloseNow(uint64_t connection);
  void CloseAllOf(int member);  // -1: all
  void ProcessPendingCloses();
  void SetPaused(bool paused);

  // One listening socket.
  struct Listener {
    int port = 0;
    int fd = -1;
    uint64_t token = 0;
  };
  struct Member {
    Listener plain;
    Listener secure;  // with options_.tls only
    bool alive() const { return plain.fd >= 0; }
  };
  struct Connection {
    int fd = -1;
    uint64_t token = 0;
    int member = 0;
    int remote_port = 0;
    std::string ip;
    bool got_frame = false;
    // When the last byte arrived (steady ms): a connection without a handshake is closed
    // options_.handshake_timeout after it.
    int64_t last_read_ms = 0;
    bool close_pending = false;
    bool want_write = false;
    // Set on the TLS port: `decoder` then gets what it decrypts, and `out` holds TLS records.
    std::unique_ptr<ServerTlsConnection> tls;
    FrameDecoder decoder;
    std::string out;
    std::deque<std::pair<int64_t, std::string>> delayed;
  };

  // The host clients are told to connect to: the bind address, or loopback for a wildcard.
  std::string ConnectHost() const {
    return options_.bind_address == "0.0.0.0" ? "127.0.0.1" : options_.bind_address;
  }

  EmbeddedServerOptions options_;
  in_addr bind_address_{};
  EventLoop loop_;
  std::unique_ptr<ServerTlsContext> tls_context_;  // with options_.tls
  std::unique_ptr<ZooKeeperService> service_;
  std::vector<Member> members_;
  std::map<uint64_t, Connection> connections_;
  std::vector<uint64_t> pending_closes_;
  uint64_t next_connection_ = 1;
  bool paused_ = false;
  bool stopped_ = false;
  // Set once read-only mode is first switched on: enables `isro` (see four_letter_words).
  bool read_only_enabled_ = false;
  int64_t delay_ms_ = 0;

 private:
  absl::Status ListenOn(int member, bool secure);
  Listener& ListenerOf(int member, bool secure) {
    return secure ? members_[member].secure : members_[member].plain;
  }
  void OnAccept(int member, bool secure);
  // Stops polling a listening socket for a while (accept failed for lack of fds).
  void PauseAccepting(int member, bool secure);
  // Queues application bytes for a connection (encrypted on the TLS port); false if TLS
  // failed (the connection is then closing).
  bool QueueOut(uint64_t id, Connection& connection, std::string_view bytes);
  // Feeds bytes read from a TLS connection to its session; false if it must close.
  bool ReceiveTls(Connection& connection, std::string_view bytes);
  void CloseSilentConnections();
  void OnConnectionEvent(uint64_t connection, uint32_t events);
  void Drain(uint64_t connection);
  void Flush(uint64_t connection);
  void FlushDelayed(uint64_t connection);
  void ScheduleTick();
  void ScheduleReap();
};

EmbeddedServer::Impl::Impl(EmbeddedServerOptions options) : options_(std::move(options)) {}

EmbeddedServer::Impl::~Impl() {
  loop_.RunSync([this] {
    for (int m = 0; m < static_cast<int>(members_.size()); ++m) StopListening(m);
    CloseAllOf(-1);
  });
  loop_.Shutdown();
}

absl::Status EmbeddedServer::Impl::Init() {
  int64_t tick = options_.tick_time.count();
  if (tick <= 0) return absl::InvalidArgumentError("tick_time must be positive");
  if (options_.members < 1) return absl::InvalidArgumentError("members must be >= 1");
  if (options_.max_client_connections < 0) {
    return absl::InvalidArgumentError("max_client_connections must be >= 0");
  }
  if (options_.handshake_timeout.count() < 0) {
    return absl::InvalidArgumentError("handshake_timeout must be >= 0");
  }
  if (inet_pton(AF_INET, options_.bind_address.c_str(), &bind_address_) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bind_address \"", options_.bind_address, "\" is not an IPv4 address"));
  }
  internal::ServiceOptions service_options;
  service_options.tick_ms = tick;
  service_options.min_session_timeout_ms = static_cast<int32_t>(
      options_.min_session_timeout.value_or(std::chrono::milliseconds(2 * tick)).count());
  service_options.max_session_timeout_ms = static_cast<int32_t>(
      options_.max_session_timeout.value_or(std::chrono::milliseconds(20 * tick)).count());
  if (service_options.min_session_timeout_ms > service_options.max_session_timeout_ms) {
    return absl::InvalidArgumentError("min_session_timeout > max_session_timeout");
  }
  service_options.extended_types = options_.extended_types;
  service_options.super_digest = options_.super_digest;
  for (const auto& [user, password] : options_.sasl_users) {
    if (user.find('@') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sasl_users: \"", user, "\" holds '@' (Kerberos principal names are not supported)"));
    }
  }
  service_options.sasl_users = options_.sasl_users;
  service_ = std::make_unique<ZooKeeperService>(service_options, this);
  if (!options_.data_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options_.data_dir, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("data_dir ", options_.data_dir, ": ", error.message()));
    }
    absl::StatusOr<Snapshot> snapshot = ReadSnapshot(SnapshotPath(options_.data_dir));
    if (snapshot.ok()) {
      absl::Status restored =
          service_->RestoreTree(std::move(snapshot->nodes), snapshot->last_zxid);
      if (!restored.ok()) {
        return absl::DataLossError(absl::StrCat(SnapshotPath(options_.data_dir), ": ",
                                                restored.message()));
      }
    } else if (!absl::IsNotFound(snapshot.status())) {
      return snapshot.status();
    }
  }
  if (options_.tls) {
    absl::StatusOr<std::unique_ptr<ServerTlsContext>> context =
        ServerTlsContext::Create(*options_.tls);
    if (!context.ok()) return context.status();
    tls_context_ = *std::move(context);
  }
  members_.resize(options_.members);
  members_[0].plain.port = options_.port;
  if (options_.tls) members_[0].secure.port = options_.tls->secure_port;
  absl::Status status = loop_.Start();
  if (!status.ok()) return status;
  loop_.RunSync([&] {
    for (int m = 0; m < options_.members && status.ok(); ++m) status = Listen(m);
    ScheduleTick();
    ScheduleReap();
  });
  return status;
}

void EmbeddedServer::Impl::ScheduleTick() {
  int64_t tick = options_.tick_time.count();
  int64_t next = (SteadyNowMs() / tick + 1) * tick;
  loop_.RunAt(next, [this] {
    if (!stopped_) service_->ExpireSessions(SteadyNowMs());
    CloseSilentConnections();
    ProcessPendingCloses();
    ScheduleTick();
  });
}

void EmbeddedServer::Impl::ScheduleReap() {
  int64_t interval = std::max<int64_t>(1, options_.container_check_interval.count());
  loop_.RunAt(SteadyNowMs() + interval, [this] {
    if (!stopped_) service_->ReapContainers(WallNowMs());
    ProcessPendingCloses();
    ScheduleReap();
  });
}

absl::Status EmbeddedServer::Impl::Listen(int member) {
  absl::Status status = ListenOn(member, false);
  if (status.ok() && tls_context_ != nullptr) status = ListenOn(member, true);
  if (!status.ok()) StopListening(member);
  return status;
}

absl::Status EmbeddedServer::Impl::ListenOn(int member, bool secure) {
  Listener& m = ListenerOf(member, secure);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr = bind_address_;
  addr.sin_port = htons(static_cast<uint16_t>(m.port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 1024) != 0) {
    int error = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.bind_address, ":",
                                               m.port, ": ", strerror(error)));
  }
  socklen_t length = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  m.port = ntohs(addr.sin_port);
  m.fd = fd;
  m.token = loop_.Watch(fd, EPOLLIN,
                        [this, member, secure](uint32_t) { OnAccept(member, secure); });
  return absl::OkStatus();
}

void EmbeddedServer::Impl::StopListening(int member) {
  for (Listener* m : {&members_[member].plain, &members_[member].secure}) {
    if (m->fd < 0) continue;
    loop_.Unwatch(m->token, m->fd);
    close(m->fd);
    m->fd = -1;
  }
}

void EmbeddedServer::Impl::OnAccept(int member, bool secure) {
  while (ListenerOf(member, secure).fd >= 0) {
    sockaddr_in addr{};
    socklen_t length = sizeof(addr);
    int fd = accept4(ListenerOf(member, secure).fd, reinterpret_cast<sockaddr*>(&addr), &length,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or socket memory: the pending connection stays queued and the
      // socket stays readable, so polling it again at once would spin a core. Back off.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        PauseAccepting(member, secure);
      }
      break;
    }
    char ip[INET_ADDRSTRLEN] = "127.0.0.1";
    inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
    if (options_.max_client_connections > 0) {
      int from_ip = 0;
      for (const auto& [other_id, other] : connections_) from_ip += other.ip == ip ? 1 : 0;
      if (from_ip >= options_.max_client_connections) {
        close(fd);  // "Too many connections from <ip> - max is <n>"
        continue;
      }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    uint64_t id = next_connection_++;
    Connection& connection = connections_[id];
    connection.fd = fd;
    connection.member = member;
    connection.remote_port = ntohs(addr.sin_port);
    connection.ip = ip;
    connection.last_read_ms = SteadyNowMs();
    if (secure) connection.tls = std::make_unique<ServerTlsConnection>(*tls_context_);
    connection.token = loop_.Watch(fd, EPOLLIN | EPOLLRDHUP, [this, id](uint32_t events) {
      OnConnectionEvent(id, events);
    });
    service_->OnConnect(id, ip, connection.remote_port, member, SteadyNowMs());
  }
}

void EmbeddedServer::Impl::PauseAccepting(int member, bool secure) {
  // As ZooKeeper's NIOServerCnxnFactory (pauseAccept): stop polling for 10 ms, then retry; by
  // then a connection may have closed and freed a descriptor.
  constexpr int64_t kAcceptBackoffMs = 10;
  Listener& m = ListenerOf(member, secure);
  loop_.Modify(m.token, m.fd, 0);
  const uint64_t token = m.token;
  loop_.RunAt(SteadyNowMs() + kAcceptBackoffMs, [this, member, secure, token] {
    Listener& again = ListenerOf(member, secure);
    // The member may have stopped listening (and listened anew) meanwhile.
    if (again.fd < 0 || again.token != token) return;
    loop_.Modify(again.token, again.fd, EPOLLIN);
  });
}

void EmbeddedServer::Impl::CloseSilentConnections() {
  const int64_t timeout = options_.handshake_timeout.count();
  if (timeout == 0 || paused_) return;  // a paused server reads but does not handshake
  const int64_t now = SteadyNowMs();
  std::vector<uint64_t> silent;
  for (const auto& [id, connection] : connections_) {
    if (!connection.got_frame && now - connection.last_read_ms >= timeout) silent.push_back(id);
  }
  for (uint64_t id : silent) CloseNow(id);
}

void EmbeddedServer::Impl::OnConnectionEvent(uint64_t id, uint32_t events) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& connection = it->second;
  if (events & EPOLLOUT) Flush(id);
  if (connections_.count(id) == 0) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    char buffer[65536];
    bool eof = false;
    while (true) {
      ssize_t n = read(connection.fd, buffer, sizeof(buffer));
      if (n > 0) {
        connection.last_read_ms = SteadyNowMs();
        const std::string_view bytes(buffer, static_cast<size_t>(n));
        if (connection.tls == nullptr) {
          connection.decoder.Append(bytes);
        } else if (!ReceiveTls(connection, bytes)) {
          // A failed handshake or TLS record, or close_notify: the requests before it are
          // served; then the replies and the alert, if any, go out and the connection closes.
          if (!paused_) Drain(id);
          if (connections_.count(id) > 0) {
            Close(id);
            Flush(id);
          }
          ProcessPendingCloses();
          return;
        }
        if (n < static_cast<ssize_t>(sizeof(buffer))) break;
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) eof = true;
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    // TLS handshake records go out now, or on Resume(): a paused server (a stopped process)
    // does not answer a ClientHello either.
    if (connection.tls != nullptr && !connection.out.empty() && !paused_) Flush(id);
    if (!paused_) Drain(id);
    if (eof && connections_.count(id) > 0) CloseNow(id);
  }
  ProcessPendingCloses();
}

bool EmbeddedServer::Impl::ReceiveTls(Connection& connection, std::string_view bytes) {
  std::string plain;
  std::string records;
  const bool ok = connection.tls->Receive(bytes, &plain, &records);
  connection.decoder.Append(plain);
  connection.out += records;
  return ok;
}

bool EmbeddedServer::Impl::QueueOut(uint64_t id, Connection& connection,
                                    std::string_view bytes) {
  if (connection.tls == nullptr) {
    connection.out += bytes;
    return true;
  }
  std::string records;
  const bool ok = connection.tls->Send(bytes, &records);
  connection.out += records;
  if (!ok) Close(id);
  return ok;
}

void EmbeddedServer::Impl::Drain(uint64_t id) {
  while (true) {
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second.close_pending) return;
    Connection& connection = it->second;
    if (!connection.got_frame) {
      int32_t first;
      if (!connection.decoder.PeekInt(&first)) return;
      if (std::optional<std::string> word = internal::AsFourLetterWord(first)) {
        internal::FourLetterContext context{connection.member, options_.members,
                                            members_[connection.member].plain.port};
        QueueOut(id, connection,
                 internal::FourLetterWordEnabled(*word, options_.four_letter_words,
                                                 read_only_enabled_)
                     ? internal::RunFourLetterWord(*word, *service_, context)
                     : internal::FourLetterWordRefusal(*word));
        connection.got_frame = true;
        Close(id);
        Flush(id);
        return;
      }
    }
    std::string body;
    FrameDecoder::Result result = connection.decoder.Next(&body);
    if (result == FrameDecoder::Result::kNeedMore) return;
    if (result == FrameDecoder::Result::kError) {
      CloseNow(id);
      return;
    }
    connection.got_frame = true;
    service_->OnFrame(id, body, SteadyNowMs());
  }
}

void EmbeddedServer::Impl::Send(uint64_t id, std::string frame) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& connection = it->second;
  if (delay_ms_ > 0 || !connection.delayed.empty()) {
    int64_t due = SteadyNowMs() + delay_ms_;
    connection.delayed.emplace_back(due, std::move(frame));
    loop_.RunAt(due, [this, id] {
      FlushDelayed(id);
      ProcessPendingCloses();
    });
    return;
  }
  QueueOut(id, connection, frame);
  Flush(id);
}

void EmbeddedServer::Impl::FlushDelayed(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& connection = it->second;
  int64_t now = SteadyNowMs();
  while (!connection.delayed.empty() && connection.delayed.front().first <= now) {
    QueueOut(id, connection, connection.delayed.front().second);
    connection.delayed.pop_front();
  }
  Flush(id);
}

void EmbeddedServer::Impl::Flush(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& connection = it->second;
  size_t written = 0;
  while (written < connection.out.size()) {
    ssize_t n = send(connection.fd, connection.out.data() + written,
                     connection.out.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    connection.out.clear();  // broken pipe: the read side will notice
    written = 0;
    break;
  }
  connection.out.erase(0, written);
  bool want_write = !connection.out.empty();
  if (want_write != connection.want_write) {
    connection.want_write = want_write;
    loop_.Modify(connection.token, connection.fd,
                 EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u));
  }
  if (connection.close_pending && connection.out.empty() && connection.delayed.empty()) {
    pending_closes_.push_back(id);
  }
}

void EmbeddedServer::Impl::Close(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second.close_pending) return;
  it->second.close_pending = true;
  // Replies queued (or delayed) still go out first; TLS then ends with close_notify.
  if (it->second.tls != nullptr && it->second.delayed.empty()) {
    it->second.tls->Shutdown(&it->second.out);
  }
  pending_closes_.push_back(id);
}

void EmbeddedServer::Impl::ProcessPendingCloses() {
  while (!pending_closes_.empty()) {
    std::vector<uint64_t> ids;
    ids.swap(pending_closes_);
    for (uint64_t id : ids) {
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      if (it->second.out.empty() && it->second.delayed.empty()) CloseNow(id);
    }
  }
}

void EmbeddedServer::Impl::CloseNow(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  loop_.Unwatch(it->second.token, it->second.fd);
  close(it->second.fd);
  connections_.erase(it);
  service_->OnDisconnect(id);
}

void EmbeddedServer::Impl::CloseAllOf(int member) {
  std::vector<uint64_t> ids;
  for (const auto& [id, connection] : connections_) {
    if (member < 0 || connection.member == member) ids.push_back(id);
  }
  for (uint64_t id : ids) CloseNow(id);
}

void EmbeddedServer::Impl::SetPaused(bool paused) {
  paused_ = paused;
  if (paused_) return;
  std::vector<uint64_t> ids;
  for (const auto& [id, connection] : connections_) ids.push_back(id);
  for (uint64_t id : ids) {
    Flush(id);  // TLS handshake records held while paused
    Drain(id);
  }
  ProcessPendingCloses();
}

// EmbeddedServer.

namespace {

// Runs a mutation on the loop thread and waits for it. Called from the loop
// thread itself (from a hook, in the middle of a request) it is deferred
// until the current request is done, and reports OK.
absl::Status Mutate(EventLoop& loop, std::function<absl::Status()> mutation) {
  if (loop.InLoopThread()) {
    loop.Post([mutation = std::move(mutation)] { mutation().IgnoreError(); });
    return absl::OkStatus();
  }
  absl::Status status;
  loop.RunSync([&] { status = mutation(); });
  return status;
}

}  // namespace

EmbeddedServer::EmbeddedServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EmbeddedServer::~EmbeddedServer() = default;

absl::StatusOr<std::unique_ptr<EmbeddedServer>> EmbeddedServer::Start(
    EmbeddedServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  absl::Status status = impl->Init();
  if (!status.ok()) return status;
  return std::unique_ptr<EmbeddedServer>(new EmbeddedServer(std::move(impl)));
}

std::string EmbeddedServer::connect_string() const {
  std::vector<std::string> hosts;
  impl_->loop().RunSync([&] {
    for (const Impl::Member& member : impl_->members_) {
      if (member.alive()) {
        hosts.push_back(absl::StrCat(impl_->ConnectHost(), ":", member.plain.port));
      }
    }
  });
  return absl::StrJoin(hosts, ",");
}

std::string EmbeddedServer::secure_connect_string() const {
  std::vector<std::string> hosts;
  impl_->loop().RunSync([&] {
    if (impl_->tls_context_ == nullptr) return;
    for (const Impl::Member& member : impl_->members_) {
      if (member.alive()) {
        hosts.push_back(absl::StrCat(impl_->ConnectHost(), ":", member.secure.port));
      }
    }
  });
  return absl::StrJoin(hosts, ",");
}

int EmbeddedServer::member_secure_port(int member) const {
  int port = -1;
  impl_->loop().RunSync([&] {
    if (impl_->tls_context_ != nullptr && member >= 0 &&
        member < static_cast<int>(impl_->members_.size())) {
      port = impl_->members_[member].secure.port;
    }
  });
  return port;
}

std::string EmbeddedServer::member_connect_string(int member) const {
  return absl::StrCat(impl_->ConnectHost(), ":", member_port(member));
}

int EmbeddedServer::member_port(int member) const {
  int port = 0;
  impl_->loop().RunSync([&] {
    if (member >= 0 && member < static_cast<int>(impl_->members_.size())) {
      port = impl_->members_[member].plain.port;
    }
  });
  return port;
}

absl::Status EmbeddedServer::ExpireSession(int64_t session_id) {
  Impl* impl = impl_.get();
  return Mutate(impl->loop(), [impl, session_id] {
    uint64_t connection = impl->service_->ConnectionOf(session_id);
    absl::Status status = impl->service_->ExpireSession(session_id);
    impl->ProcessPendingCloses();
    if (connection != 0) impl->CloseNow(connection);
    return status;
  });
}

void EmbeddedServer::DropConnection(int64_t session_id) {
  Impl* impl = impl_.get();
  Mutate(impl->loop(), [impl, session_id] {
    uint64_t connection = impl->service_->ConnectionOf(session_id);
    if (connection != 0) impl->CloseNow(connection);
    impl->ProcessPendingCloses();
    return absl::OkStatus();
  }).IgnoreError();
}

void EmbeddedServer::DropAllConnections() {
  Impl* impl = impl_.get();
  Mutate(impl->loop(), [impl] {
    impl->CloseAllOf(-1);
    impl->ProcessPendingCloses();
    return absl::OkStatus();
  }).IgnoreError();
}

void EmbeddedServer::Pause() {
  Impl* impl = impl_.get();
  Mutate(impl->loop(), [impl] {
    impl->SetPaused(true);
    return absl::OkStatus();
  }).IgnoreError();
}

void EmbeddedServer::Resume() {
  Impl* impl = impl_.get();
  Mutate(impl->loop(), [impl] {
    impl->SetPaused(false);
    return absl::OkStatus();
  }).IgnoreError();
}

void EmbeddedServer::SetResponseDelay(std::chrono::milliseconds delay) {
  Impl* impl = impl_.get();
  int64_t delay_ms = delay.count() > 0 ? delay.count() : 0;
  Mutate(impl->loop(), [impl, delay_ms] {
    impl->delay_ms_ = delay_ms;
    return absl::OkStatus();
  }).IgnoreError();
}

absl::Status EmbeddedServer::SaveSnapshot() {
  if (impl_->options_.data_dir.empty()) {
    return absl::FailedPreconditionError("SaveSnapshot: no data_dir");
  }
  absl::Status status;
  impl_->loop().RunSync([&] {
    status = WriteSnapshot(impl_->service_->tree(), impl_->service_->zxid(),
                           SnapshotPath(impl_->options_.data_dir));
  });
  return status;
}

absl::Status EmbeddedServer::Stop() {
  Impl* impl = impl_.get();
  return Mutate(impl->loop(), [impl] {
    if (impl->stopped_) return absl::FailedPreconditionError("server already stopped");
    impl->stopped_ = true;
    for (int m = 0; m < static_cast<int>(impl->members_.size()); ++m) impl->StopListening(m);
    impl->CloseAllOf(-1);
    impl->pending_closes_.clear();
    return absl::OkStatus();
  });
}

absl::Status EmbeddedServer::Restart() {
  Impl* impl = impl_.get();
  return Mutate(impl->loop(), [impl] {
    for (int m = 0; m < static_cast<int>(impl->members_.size()); ++m) impl->StopListening(m);
    impl->CloseAllOf(-1);
    impl->pending_closes_.clear();
    absl::Status status;
    for (int m = 0; m < static_cast<int>(impl->members_.size()) && status.ok(); ++m) {
      status = impl->Listen(m);
    }
    impl->stopped_ = false;
    impl->service_->TouchAllSessions(SteadyNowMs());
    return status;
  });
}

absl::Status EmbeddedServer::KillMember(int member) {
  Impl* impl = impl_.get();
  return Mutate(impl->loop(), [impl, member] {
    if (member < 0 || member >= static_cast<int>(impl->members_.size())) {
      return absl::InvalidArgumentError(absl::StrCat("no member ", member));
    }
    if (!impl->members_[member].alive()) {
      return absl::FailedPreconditionError(absl::StrCat("member ", member, " is not running"));
    }
    impl->StopListening(member);
    impl->CloseAllOf(member);
    impl->ProcessPendingCloses();
    return absl::OkStatus();
  });
}

absl::Status EmbeddedServer::ReviveMember(int member) {
  Impl* impl = impl_.get();
  return Mutate(impl->loop(), [impl, member] {
    if (member < 0 || member >= static_cast<int>(impl->members_.size())) {
      return absl::InvalidArgumentError(absl::StrCat("no member ", member));
    }
    if (impl->members_[member].alive()) {
      return absl::FailedPreconditionError(absl::StrCat("member ", member, " is running"));
    }
    return impl->Listen(member);
  });
}

void EmbeddedServer::SetReadOnly(bool read_only) {
  Impl* impl = impl_.get();
  Mutate(impl->loop(), [impl, read_only] {
    // The member drops out of (or rejoins) the quorum: its connections close at once.
    if (read_only != impl->service_->read_only()) impl->CloseAllOf(-1);
    impl->service_->SetReadOnly(read_only, SteadyNowMs());
    impl->ProcessPendingCloses();
    impl->read_only_enabled_ |= read_only;
    return absl::OkStatus();
  }).IgnoreError();
}

std::vector<int64_t> EmbeddedServer::ListSessions() const {
  std::vector<int64_t> ids;
  impl_->loop().RunSync([&] {
    for (const auto& [id, session] : impl_->service_->sessions().sessions()) ids.push_back(id);
  });
  return ids;
}

int64_t EmbeddedServer::SessionOfClientPort(int client_port) const {
  int64_t session_id = 0;
  impl_->loop().RunSync([&] {
    for (const auto& [id, state] : impl_->service_->connections()) {
      if (state.port == client_port && !state.closing) session_id = state.session_id;
    }
  });
  return session_id;
}

int64_t EmbeddedServer::last_zxid() const {
  int64_t zxid = 0;
  impl_->loop().RunSync([&] { zxid = impl_->service_->zxid(); });
  return zxid;
}

bool EmbeddedServer::running() const {
  bool running = false;
  impl_->loop().RunSync([&] { running = !impl_->stopped_; });
  return running;
}

EmbeddedServer::Counters EmbeddedServer::counters() const {
  Counters counters;
  impl_->loop().RunSync([&] { counters = impl_->service_->counters(); });
  return counters;
}

void EmbeddedServer::SetRequestHook(std::function<void(const RequestInfo&)> hook) {
  Impl* impl = impl_.get();
  Mutate(impl->loop(), [impl, hook = std::move(hook)]() mutable {
    impl->service_->SetRequestHook(std::move(hook));
    return absl::OkStatus();
  }).IgnoreError();
}

void EmbeddedServer::SetEventHook(std::function<void(const EventInfo&)> hook) {
  Impl* impl = impl_.get();
  Mutate(impl->loop(), [impl, hook = std::move(hook)]() mutable {
    impl->service_->SetEventHook(std::move(hook));
    return absl::OkStatus();
  }).IgnoreError();
}

}  // namespace zk::testing
