// Differential test: zk::testing::EmbeddedServer against a real ZooKeeper 3.8.
//
// For each seed, a fresh real server (RealZooKeeper, Debian's JVM) and a fresh embedded server
// receive the same pseudo-random op sequence, in lock-step, from zk::Client sessions opened in
// the same order: creates of all four plain modes (sequential, ephemeral), sets and deletes with
// right and wrong versions (BADVERSION, NONODE, NOTEMPTY, NOCHILDRENFOREPHEMERALS, NODEEXISTS),
// multis that fail midway, get / exists / getChildren / getACL / sync, one-shot watches of all
// three kinds, and sessions that close (their ephemerals vanish, other sessions' watches fire)
// and are replaced by new ones.
//
// Compared, op by op: the return code, data, children (sorted), the Stat fields except
// ctime/mtime (ephemeralOwner as the index of the owning session, since session ids differ),
// created paths and multi results. Per session, the ordered log of watch events interleaved
// with the replies to that session's own ops (callbacks run inline on the client's loop thread,
// so the log is the wire order). At the end, the whole tree (data + Stat of every node).
//
// zxids (czxid, mzxid, pzxid) are compared exactly: both servers start fresh and see the same
// txns in the same order (session creations included), so they must agree. If the first
// txn's zxid differs between the servers, the test fails right there (rather than falling
// back to relative zxids), since that already is a divergence in zxid accounting.
//
// A closed session is waited for on the server (`dump` / ListSessions) before the next op:
// libzookeeper's zookeeper_close() returns as soon as anything is readable, possibly before the
// server applied the close, and the events the close causes must not race with later ops.
// Two scripted tests complete the random ones: the order in which a closing session's
// ephemerals vanish (ZooKeeper iterates a Java HashSet; the embedded server reproduces it),
// and null data (a -1 length buffer) on the raw wire.
//
// Environment: ZKCPP_DIFFERENTIAL_OPS overrides the ops per seed (default 500).

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "harness/net.h"
#include "raw_client.h"
#include "testing/status_matchers.h"
#include "testing/wait_for.h"
#include "zk/client.h"
#include "zk/testing/embedded_server.h"
#include "zk/testing/real_zookeeper.h"

namespace zk::testing {
namespace {

constexpr auto kOpTimeout = std::chrono::seconds(15);
constexpr int kSessionSlots = 3;  // slot 0 lives for the whole run; 1 and 2 are recycled

int OpsPerSeed() {
  if (const char* env = std::getenv("ZKCPP_DIFFERENTIAL_OPS"); env != nullptr && *env != '\0') {
    return std::max(1, std::atoi(env));
  }
  return 500;
}

// Totals over every seed run by this process, printed at exit.
struct Volume {
  int64_t ops = 0;
  int64_t events = 0;
  int64_t log_entries = 0;
  int64_t nodes = 0;
  int seeds = 0;
};
Volume& TotalVolume() {
  static Volume volume;
  return volume;
}

class VolumeReporter : public ::testing::Environment {
 public:
  void TearDown() override {
    const Volume& v = TotalVolume();
    if (v.seeds == 0) return;
    std::printf(
        "[differential] total (%d seeds + scripted runs): %lld ops compared, %lld watch events compared "
        "(%lld per-session log entries), %lld nodes compared in final trees\n",
        v.seeds, static_cast<long long>(v.ops), static_cast<long long>(v.events),
        static_cast<long long>(v.log_entries), static_cast<long long>(v.nodes));
  }
};
const auto* const kVolumeReporter = ::testing::AddGlobalTestEnvironment(new VolumeReporter);

// A session's ordered log: its watch events and the replies to its own ops, in the order the
// client's loop thread saw them. Thread-safe.
class SessionLog {
 public:
  void Append(std::string entry) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closing_) entries_.push_back(std::move(entry));
  }
  // Stops recording: the terminal kNotWatching events that closing a client delivers are
  // client-local and not part of the comparison.
  void StopRecording() {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  std::vector<std::string> entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }

 private:
  mutable std::mutex mu_;
  bool closing_ = false;
  std::vector<std::string> entries_;
};

// Waits for one async result. Thread-safe.
template <typename R>
class ResultSlot {
 public:
  void Set(R value) {
    std::lock_guard<std::mutex> lock(mu_);
    value_.emplace(std::move(value));
    cv_.notify_all();
  }
  std::optional<R> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, kOpTimeout, [&] { return value_.has_value(); })) return std::nullopt;
    return std::move(value_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<R> value_;
};

std::string WatchEventName(const WatchEvent& event) {
  std::string out = absl::StrCat("event ", std::string(WatchEventTypeName(event.type)), " ", event.path);
  if (!event.reason.ok()) absl::StrAppend(&out, " (", event.reason.ToString(), ")");
  return out;
}

// One live session on one server.
struct Session {
  std::string name;  // "S<k>": the k-th session opened on this server
  std::unique_ptr<Client> client;
  std::shared_ptr<SessionLog> log = std::make_shared<SessionLog>();
  std::vector<Watch> watches;  // kept alive so that no removeWatches is sent
};

// One server with its sessions.
class Side {
 public:
  // `session_alive(id)` asks the server whether it still knows session `id`.
  using SessionAlive = std::function<absl::StatusOr<bool>(int64_t session_id)>;

  Side(std::string label, std::string hosts, SessionAlive session_alive)
      : label_(std::move(label)),
        hosts_(std::move(hosts)),
        session_alive_(std::move(session_alive)) {}

  const std::string& label() const { return label_; }

  absl::Status OpenSession(int slot) {
    ClientOptions options;
    options.connect_string = hosts_;
    options.session_timeout = std::chrono::milliseconds(10000);
    options.callback_execution = CallbackExecution::kInline;
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(std::move(options));
    if (!client.ok()) return client.status();
    if (absl::Status s = (*client)->WaitUntilConnected(kOpTimeout); !s.ok()) return s;
    // The liveness probe must see live sessions, or CloseSession would wait for nothing.
    absl::StatusOr<bool> alive = session_alive_((*client)->session_id());
    if (!alive.ok()) return alive.status();
    if (!*alive) {
      return absl::InternalError(absl::StrFormat("%s: session 0x%x not found by the probe",
                                                 label_, (*client)->session_id()));
    }
    auto session = std::make_unique<Session>();
    session->name = absl::StrCat("S", sessions_opened_++);
    session->client = std::move(*client);
    owner_names_[session->client->session_id()] = session->name;
    slots_[slot] = std::move(session);
    return absl::OkStatus();
  }

  // Closes the session in `slot` (its ephemerals are deleted) and moves its log to the
  // finished ones. Returns once the server has applied the close: the C library's
  // zookeeper_close() returns as soon as *anything* is readable on the socket (a pending watch
  // event, a ping reply), possibly before the server even read the closeSession, and the
  // events the close causes must not race with the next ops.
  absl::Status CloseSession(int slot) {
    std::unique_ptr<Session> session = std::move(slots_[slot]);
    const int64_t id = session->client->session_id();
    session->log->StopRecording();
    session->client->Close();
    session->watches.clear();
    session->client.reset();
    finished_.push_back({session->name, session->log->entries()});
    absl::Status status;
    const bool closed = WaitFor(
        [&] {
          absl::StatusOr<bool> alive = session_alive_(id);
          if (!alive.ok()) status = alive.status();
          return alive.ok() && !*alive;
        },
        absl::Seconds(15));
    if (closed) return absl::OkStatus();
    return absl::DeadlineExceededError(absl::StrCat(label_, ": session ", session->name,
                                                    " still open on the server: ",
                                                    status.ToString()));
  }

  // Closes every session. Recording stops first everywhere: the events one close causes in
  // the other sessions would otherwise race with their own close.
  absl::Status CloseAll() {
    for (int slot = 0; slot < kSessionSlots; ++slot) {
      if (slots_[slot] != nullptr) slots_[slot]->log->StopRecording();
    }
    for (int slot = 0; slot < kSessionSlots; ++slot) {
      if (slots_[slot] == nullptr) continue;
      if (absl::Status s = CloseSession(slot); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  Session& session(int slot) { return *slots_[slot]; }

  // Finished session logs, in closing order: (session name, log).
  const std::vector<std::pair<std::string, std::vector<std::string>>>& finished() const {
    return finished_;
  }

  std::string FormatStat(const Stat& stat) const {
    std::string owner = "0";
    if (stat.ephemeral_owner != 0) {
      auto it = owner_names_.find(stat.ephemeral_owner);
      owner = it != owner_names_.end() ? it->second
                                       : absl::StrFormat("unknown:0x%x", stat.ephemeral_owner);
    }
    return absl::StrFormat(
        "{czxid=%d mzxid=%d pzxid=%d version=%d cversion=%d aversion=%d owner=%s "
        "dataLength=%d numChildren=%d}",
        stat.czxid, stat.mzxid, stat.pzxid, stat.version, stat.cversion, stat.aversion, owner,
        stat.data_length, stat.num_children);
  }

 private:
  std::string label_;
  std::string hosts_;
  SessionAlive session_alive_;
  int sessions_opened_ = 0;
  std::unique_ptr<Session> slots_[kSessionSlots];
  std::map<int64_t, std::string> owner_names_;
  std::vector<std::pair<std::string, std::vector<std::string>>> finished_;
};

// What the comparison needs of a failed status, extracted on the thread that produced it: an
// absl::Status shares its payload between copies through a reference count inside Debian's
// Abseil, which is not built for TSan, so a status must not cross threads in a TSan build.
struct ErrorInfo {
  absl::StatusCode code = absl::StatusCode::kOk;
  std::optional<ZooError> zoo;
  std::optional<size_t> failed_op;  // multi only
};

ErrorInfo ErrorInfoOf(const absl::Status& status) {
  return {status.code(), ZooErrorOf(status), FailedOpIndex(status)};
}

// A StatusOr<T> without the Status (see ErrorInfo).
template <typename T>
class Outcome {
 public:
  explicit Outcome(absl::StatusOr<T> result) {
    if (result.ok()) {
      value_.emplace(*std::move(result));
    } else {
      error_ = ErrorInfoOf(result.status());
    }
  }
  explicit Outcome(const absl::Status& status) {
    if (status.ok()) {
      value_.emplace();
    } else {
      error_ = ErrorInfoOf(status);
    }
  }
  static Outcome Timeout() {
    return Outcome(absl::StatusOr<T>(absl::DeadlineExceededError("no reply in time")));
  }
  bool ok() const { return value_.has_value(); }
  const ErrorInfo& status() const { return error_; }
  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  ErrorInfo error_;
};

template <typename R>
struct OutcomeOf;
template <typename T>
struct OutcomeOf<absl::StatusOr<T>> {
  using type = Outcome<T>;
};
template <>
struct OutcomeOf<absl::Status> {
  using type = Outcome<std::monostate>;
};

std::string FormatError(const ErrorInfo& error) {
  if (error.zoo) return absl::StrCat("error ", std::string(ZooErrorName(*error.zoo)));
  // Not from the server (client-side validation, deadline, ...): same client on both sides,
  // but a deadline or connection loss must show up as a difference.
  return absl::StrCat("status ", absl::StatusCodeToString(error.code));
}
std::string FormatError(const Outcome<std::monostate>& outcome) {
  return FormatError(outcome.status());
}

std::string Quote(const std::string& data) { return absl::StrCat("\"", absl::CHexEscape(data), "\""); }

std::string CreateModeName(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistent:
      return "persistent";
    case CreateMode::kEphemeral:
      return "ephemeral";
    case CreateMode::kPersistentSequential:
      return "persistent-sequential";
    case CreateMode::kEphemeralSequential:
      return "ephemeral-sequential";
    default:
      return "other";
  }
}

std::string VersionName(std::optional<int32_t> version) {
  return version ? absl::StrCat(*version) : std::string("any");
}

std::string OpName(const Op& op) {
  if (const auto* c = std::get_if<op::Create>(&op)) {
    return absl::StrCat("create ", c->path, " ", CreateModeName(c->mode), " ", Quote(c->data));
  }
  if (const auto* d = std::get_if<op::Delete>(&op)) {
    return absl::StrCat("delete ", d->path, " v=", VersionName(d->expected_version));
  }
  if (const auto* s = std::get_if<op::Set>(&op)) {
    return absl::StrCat("set ", s->path, " ", Quote(s->data), " v=",
                        VersionName(s->expected_version));
  }
  const auto& k = std::get<op::Check>(op);
  return absl::StrCat("check ", k.path, " v=", VersionName(k.expected_version));
}

// One generated step. `kind` selects the fields used.
struct Step {
  enum Kind {
    kCreate,
    kSet,
    kDelete,
    kGet,
    kExists,
    kGetChildren,
    kGetAcl,
    kSync,
    kGetAndWatch,
    kExistsAndWatch,
    kGetChildrenAndWatch,
    kMulti,
    kCycleSession,
  };
  Kind kind = kGet;
  int slot = 0;
  std::string path;
  std::string data;
  CreateMode mode = CreateMode::kPersistent;
  std::optional<int32_t> version;
  std::vector<Op> ops;

  std::string Describe() const {
    std::string who = absl::StrCat("[slot ", slot, "] ");
    switch (kind) {
      case kCreate:
        return absl::StrCat(who, "create ", path, " ", CreateModeName(mode), " ", Quote(data));
      case kSet:
        return absl::StrCat(who, "set ", path, " ", Quote(data), " v=", VersionName(version));
      case kDelete:
        return absl::StrCat(who, "delete ", path, " v=", VersionName(version));
      case kGet:
        return absl::StrCat(who, "get ", path);
      case kExists:
        return absl::StrCat(who, "exists ", path);
      case kGetChildren:
        return absl::StrCat(who, "getChildren ", path);
      case kGetAcl:
        return absl::StrCat(who, "getACL ", path);
      case kSync:
        return absl::StrCat(who, "sync ", path);
      case kGetAndWatch:
        return absl::StrCat(who, "getData+watch ", path);
      case kExistsAndWatch:
        return absl::StrCat(who, "exists+watch ", path);
      case kGetChildrenAndWatch:
        return absl::StrCat(who, "getChildren+watch ", path);
      case kMulti: {
        std::vector<std::string> names;
        for (const Op& op : ops) names.push_back(OpName(op));
        return absl::StrCat(who, "multi [", absl::StrJoin(names, "; "), "]");
      }
      case kCycleSession:
        return absl::StrCat(who, "close session, open a new one");
    }
    return "?";
  }
};

// The seeded op generator. Paths come from a small namespace under /d so that ops collide;
// created sequential names are learnt from results both servers agreed on.
class Generator {
 public:
  explicit Generator(uint64_t seed) : state_(seed) {
    state_ = Next();  // seeds n and n+1 must not give shifted copies of one sequence
    known_.insert("/d");
  }

  uint64_t Next() {  // splitmix64: the same sequence on every platform
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int Uniform(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Uniform(100) < percent; }

  void Learn(const std::string& path) { known_.insert(path); }

  std::string KnownPath() {
    auto it = known_.begin();
    std::advance(it, Uniform(static_cast<int>(known_.size())));
    return *it;
  }
  // A path that may or may not exist: mostly known ones, else a fresh child of a known one
  // (which may itself be gone: NONODE for the parent).
  std::string AnyPath() {
    if (!hot_.empty() && Chance(40)) return hot_[Uniform(static_cast<int>(hot_.size()))];
    if (!recent_.empty() && Chance(25)) return recent_[Uniform(static_cast<int>(recent_.size()))];
    if (Chance(65)) return KnownPath();
    static constexpr const char* kNames[] = {"a", "b", "c", "e", "f"};
    std::string parent = KnownPath();
    if (parent.size() > 12) parent = "/d";  // keep depth bounded
    return absl::StrCat(parent, "/", kNames[Uniform(5)]);
  }
  std::string ReadPath() {
    if (Chance(5)) {
      static constexpr const char* kSpecial[] = {"/", "/zookeeper", "/zookeeper/config"};
      return kSpecial[Uniform(3)];
    }
    return AnyPath();
  }
  std::string Data() {
    switch (Uniform(4)) {
      case 0:
        return "";
      case 1:
        return absl::StrCat("v", Uniform(1000));
      case 2: {
        std::string bytes(Uniform(40), '\0');
        for (char& c : bytes) c = static_cast<char>(Uniform(256));
        return bytes;
      }
      default:
        return std::string(Uniform(3000), 'x');
    }
  }
  std::optional<int32_t> Version(int any_percent) {
    if (Chance(any_percent)) return std::nullopt;
    return Uniform(4);
  }
  CreateMode Mode() {
    static constexpr CreateMode kModes[] = {CreateMode::kPersistent, CreateMode::kEphemeral,
                                            CreateMode::kPersistentSequential,
                                            CreateMode::kEphemeralSequential};
    return kModes[Uniform(4)];
  }
  // Sequential creates get a name prefix ("s-") so the suffix is readable.
  std::string CreatePath(CreateMode mode) {
    std::string path = AnyPath();
    if (mode == CreateMode::kPersistentSequential || mode == CreateMode::kEphemeralSequential) {
      path += "-s";
    }
    return path;
  }

  Op MultiOp() {
    switch (Uniform(4)) {
      case 0: {
        CreateMode mode = Mode();
        return op::Create{.path = CreatePath(mode), .data = Data(), .mode = mode};
      }
      case 1:
        return op::Delete{.path = AnyPath(), .expected_version = Version(50)};
      case 2:
        return op::Set{.path = AnyPath(), .data = Data(), .expected_version = Version(50)};
      default:
        return op::Check{.path = AnyPath(), .expected_version = Version(30)};
    }
  }

  Step NextStep() {
    Step step = NextStepUnrecorded();
    // Ops on recently used paths make watches fire.
    if (step.path.rfind("/d", 0) == 0) {  // not "/", "/zookeeper...": read-only for the client
      recent_.push_back(step.path);
      if (recent_.size() > 6) recent_.erase(recent_.begin());
      // Writes often target watched nodes (and children of child-watched ones).
      auto heat = [this](std::string path) {
        hot_.push_back(std::move(path));
        if (hot_.size() > 8) hot_.erase(hot_.begin());
      };
      if (step.kind == Step::kGetAndWatch || step.kind == Step::kExistsAndWatch) heat(step.path);
      if (step.kind == Step::kGetChildrenAndWatch) {
        heat(step.path);
        heat(absl::StrCat(step.path, "/w", Uniform(3)));
      }
    }
    return step;
  }

  Step NextStepUnrecorded() {
    Step step;
    step.slot = Uniform(kSessionSlots);
    const int roll = Uniform(100);
    if (roll < 22) {
      step.kind = Step::kCreate;
      step.mode = Mode();
      step.path = CreatePath(step.mode);
      step.data = Data();
    } else if (roll < 33) {
      step.kind = Step::kSet;
      step.path = AnyPath();
      step.data = Data();
      step.version = Version(40);
    } else if (roll < 45) {
      step.kind = Step::kDelete;
      step.path = AnyPath();
      step.version = Version(50);
    } else if (roll < 51) {
      step.kind = Step::kGet;
      step.path = ReadPath();
    } else if (roll < 55) {
      step.kind = Step::kExists;
      step.path = ReadPath();
    } else if (roll < 61) {
      step.kind = Step::kGetChildren;
      step.path = ReadPath();
    } else if (roll < 63) {
      step.kind = Step::kGetAcl;
      step.path = ReadPath();
    } else if (roll < 64) {
      step.kind = Step::kSync;
      step.path = KnownPath();
    } else if (roll < 71) {
      step.kind = Step::kGetAndWatch;
      step.path = Chance(80) ? KnownPath() : AnyPath();
    } else if (roll < 78) {
      step.kind = Step::kExistsAndWatch;
      step.path = AnyPath();
    } else if (roll < 86) {
      step.kind = Step::kGetChildrenAndWatch;
      step.path = Chance(80) ? KnownPath() : AnyPath();
    } else if (roll < 97) {
      step.kind = Step::kMulti;
      const int n = 1 + Uniform(4);
      for (int i = 0; i < n; ++i) step.ops.push_back(MultiOp());
    } else {
      step.kind = Step::kCycleSession;
      step.slot = 1 + Uniform(kSessionSlots - 1);
    }
    return step;
  }

 private:
  uint64_t state_;
  std::vector<std::string> recent_;
  std::vector<std::string> hot_;
  std::set<std::string> known_;  // ordered: the pick depends only on the seed and history
};

// Runs `start(callback)` and waits for the callback; the reply is logged in the session's log
// (on the loop thread, so it is ordered with the watch events of that session).
template <typename R, typename Start>
typename OutcomeOf<R>::type Await(Session& session, int64_t op_index, Start start) {
  using Result = typename OutcomeOf<R>::type;
  auto slot = std::make_shared<ResultSlot<Result>>();
  start([slot, log = session.log, op_index](R result) {
    log->Append(absl::StrCat("reply #", op_index));
    slot->Set(Result(std::move(result)));
  });
  std::optional<Result> result = slot->Wait();
  if (!result) return Result::Timeout();
  return std::move(*result);
}

WatchCallback LogEvents(const std::shared_ptr<SessionLog>& log) {
  return [log](const WatchEvent& event) { log->Append(WatchEventName(event)); };
}

// Executes `step` on `side` and returns the formatted outcome. `created` receives the paths
// of nodes the step created (for the generator).
std::string Execute(Side& side, const Step& step, int64_t op_index,
                    std::vector<std::string>* created) {
  if (step.kind == Step::kCycleSession) {
    // A barrier first, as at the end of a run: every event that earlier ops caused in this
    // session precedes the reply of a sync on it. Without it, the log of the slower server
    // could stop before an event the faster one had delivered.
    Session& closing = side.session(step.slot);
    auto synced = Await<absl::Status>(closing, op_index, [&](auto done) {
      closing.client->AsyncSync("/", std::move(done));
    });
    if (!synced.ok()) return absl::StrCat("barrier before close: ", FormatError(synced));
    if (absl::Status s = side.CloseSession(step.slot); !s.ok()) {
      return absl::StrCat("close failed: ", s.ToString());
    }
    absl::Status s = side.OpenSession(step.slot);
    return s.ok() ? "reopened" : absl::StrCat("reopen failed: ", s.ToString());
  }
  Session& session = side.session(step.slot);
  Client& client = *session.client;
  switch (step.kind) {
    case Step::kCreate: {
      auto r = Await<absl::StatusOr<CreateResult>>(session, op_index, [&](auto done) {
        client.AsyncCreate(step.path, step.data, {.mode = step.mode}, std::move(done));
      });
      if (!r.ok()) return FormatError(r.status());
      created->push_back(r->path);
      return absl::StrCat("created ", r->path, " ", side.FormatStat(r->stat));
    }
    case Step::kSet: {
      auto r = Await<absl::StatusOr<Stat>>(session, op_index, [&](auto done) {
        client.AsyncSet(step.path, step.data, step.version, std::move(done));
      });
      return r.ok() ? absl::StrCat("set ", side.FormatStat(*r)) : FormatError(r.status());
    }
    case Step::kDelete: {
      auto r = Await<absl::Status>(session, op_index, [&](auto done) {
        client.AsyncDelete(step.path, step.version, std::move(done));
      });
      return r.ok() ? "deleted" : FormatError(r);
    }
    case Step::kGet: {
      auto r = Await<absl::StatusOr<GetResult>>(
          session, op_index, [&](auto done) { client.AsyncGet(step.path, std::move(done)); });
      if (!r.ok()) return FormatError(r.status());
      return absl::StrCat("data ", Quote(r->data), " ", side.FormatStat(r->stat));
    }
    case Step::kExists: {
      auto r = Await<absl::StatusOr<std::optional<Stat>>>(
          session, op_index, [&](auto done) { client.AsyncExists(step.path, std::move(done)); });
      if (!r.ok()) return FormatError(r.status());
      return *r ? absl::StrCat("exists ", side.FormatStat(**r)) : "absent";
    }
    case Step::kGetChildren: {
      auto r = Await<absl::StatusOr<ChildrenResult>>(session, op_index, [&](auto done) {
        client.AsyncGetChildren(step.path, std::move(done));
      });
      if (!r.ok()) return FormatError(r.status());
      std::vector<std::string> children = r->children;
      std::sort(children.begin(), children.end());
      return absl::StrCat("children [", absl::StrJoin(children, ","), "] ",
                          side.FormatStat(r->stat));
    }
    case Step::kGetAcl: {
      auto r = Await<absl::StatusOr<AclResult>>(
          session, op_index, [&](auto done) { client.AsyncGetAcl(step.path, std::move(done)); });
      if (!r.ok()) return FormatError(r.status());
      std::vector<std::string> acl;
      for (const Acl& entry : r->acl) {
        acl.push_back(absl::StrCat(entry.perms, ":", entry.id.scheme, ":", entry.id.id));
      }
      return absl::StrCat("acl [", absl::StrJoin(acl, ","), "] ", side.FormatStat(r->stat));
    }
    case Step::kSync: {
      auto r = Await<absl::Status>(
          session, op_index, [&](auto done) { client.AsyncSync(step.path, std::move(done)); });
      return r.ok() ? "synced" : FormatError(r);
    }
    case Step::kGetAndWatch: {
      auto r = Await<absl::StatusOr<Watched<GetResult>>>(session, op_index, [&](auto done) {
        client.AsyncGetAndWatch(step.path, LogEvents(session.log), std::move(done));
      });
      if (!r.ok()) return FormatError(r.status());
      session.watches.push_back(std::move(r->watch));
      return absl::StrCat("data+watch ", Quote(r->result.data), " ",
                          side.FormatStat(r->result.stat));
    }
    case Step::kExistsAndWatch: {
      auto r = Await<absl::StatusOr<Watched<std::optional<Stat>>>>(
          session, op_index, [&](auto done) {
            client.AsyncExistsAndWatch(step.path, LogEvents(session.log), std::move(done));
          });
      if (!r.ok()) return FormatError(r.status());
      session.watches.push_back(std::move(r->watch));
      return r->result ? absl::StrCat("exists+watch ", side.FormatStat(*r->result))
                       : "absent+watch";
    }
    case Step::kGetChildrenAndWatch: {
      auto r = Await<absl::StatusOr<Watched<ChildrenResult>>>(session, op_index, [&](auto done) {
        client.AsyncGetChildrenAndWatch(step.path, LogEvents(session.log), std::move(done));
      });
      if (!r.ok()) return FormatError(r.status());
      session.watches.push_back(std::move(r->watch));
      std::vector<std::string> children = r->result.children;
      std::sort(children.begin(), children.end());
      return absl::StrCat("children+watch [", absl::StrJoin(children, ","), "] ",
                          side.FormatStat(r->result.stat));
    }
    case Step::kMulti: {
      auto r = Await<absl::StatusOr<MultiResult>>(
          session, op_index, [&](auto done) { client.AsyncMulti(step.ops, std::move(done)); });
      if (!r.ok()) {
        std::optional<size_t> index = r.status().failed_op;
        return absl::StrCat("multi failed at op ", index ? absl::StrCat(*index) : "?", ": ",
                            FormatError(r.status()));
      }
      std::vector<std::string> results;
      for (size_t i = 0; i < r->results.size(); ++i) {
        const OpResult& result = r->results[i];
        if (std::holds_alternative<op::Create>(step.ops[i])) {
          created->push_back(result.path);
          results.push_back(absl::StrCat("created ", result.path));
        } else if (std::holds_alternative<op::Set>(step.ops[i])) {
          results.push_back(absl::StrCat("set ", side.FormatStat(result.stat)));
        } else {
          results.push_back("ok");
        }
      }
      return absl::StrCat("multi ok [", absl::StrJoin(results, "; "), "]");
    }
    case Step::kCycleSession:
      break;
  }
  return "?";
}

// Appends "path data stat" lines for `path` and its subtree (children in sorted order).
absl::Status DumpTree(Side& side, Client& client, const std::string& path,
                      std::vector<std::string>* out) {
  absl::StatusOr<GetResult> got = client.Get(path);
  if (!got.ok()) return got.status();
  out->push_back(
      absl::StrCat(path, " ", Quote(got->data), " ", side.FormatStat(got->stat)));
  absl::StatusOr<ChildrenResult> children = client.GetChildren(path);
  if (!children.ok()) return children.status();
  std::vector<std::string> names = children->children;
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (path == "/" && name == "zookeeper") continue;  // the servers' own nodes: checked by ops
    ZK_RETURN_IF_ERROR(DumpTree(side, client, path == "/" ? "/" + name : path + "/" + name, out));
  }
  return absl::OkStatus();
}

// Returns a description of the first difference between two logs, or "" if equal.
std::string FirstDifference(const std::vector<std::string>& real,
                            const std::vector<std::string>& embedded) {
  const size_t n = std::max(real.size(), embedded.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string* a = i < real.size() ? &real[i] : nullptr;
    const std::string* b = i < embedded.size() ? &embedded[i] : nullptr;
    if (a != nullptr && b != nullptr && *a == *b) continue;
    std::string context;
    for (size_t j = (i >= 3 ? i - 3 : 0); j < i; ++j) absl::StrAppend(&context, "    ", real[j], "\n");
    return absl::StrCat("entry ", i, " of ", real.size(), " (real) / ", embedded.size(),
                        " (embedded); preceded by\n", context, "  real:     ",
                        a ? *a : "<end of log>", "\n  embedded: ", b ? *b : "<end of log>");
  }
  return "";
}

int64_t CountEvents(const std::vector<std::string>& log) {
  return std::count_if(log.begin(), log.end(),
                       [](const std::string& entry) { return entry.rfind("event ", 0) == 0; });
}

// "<op kind> -> <outcome kind>" for the coverage summary, e.g. "delete -> error NOTEMPTY".
std::string OutcomeKey(const Step& step, const std::string& outcome) {
  std::string op = step.Describe();
  op = op.substr(op.find("] ") + 2);
  op = op.substr(0, op.find(' '));
  std::string kind = outcome.substr(0, outcome.find(' '));
  if (kind == "error" || kind == "multi") {
    // "error NOTEMPTY", "multi ok", "multi failed at op 1: error NONODE"
    kind = outcome.rfind("multi failed", 0) == 0
               ? absl::StrCat("failed ", outcome.substr(outcome.rfind(' ') + 1))
               : outcome.substr(0, outcome.find(' ', kind.size() + 1));
  }
  return absl::StrCat(op, "->", kind);
}

// Two fresh servers with kSessionSlots sessions each, driven in lock-step.
class Differential {
 public:
  // Starts both servers and opens the sessions, alternating between the servers in the same
  // order, so that their createSession txns take the same zxids.
  ::testing::AssertionResult Start() {
    absl::StatusOr<std::unique_ptr<RealZooKeeper>> real = RealZooKeeper::Start({});
    if (!real.ok()) return ::testing::AssertionFailure() << real.status();
    real_ = std::move(*real);
    // As the real fixture: tick 500 ms, container check 100 ms, same super digest.
    absl::StatusOr<std::unique_ptr<EmbeddedServer>> embedded = EmbeddedServer::Start({
        .tick_time = std::chrono::milliseconds(500),
        .super_digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
    });
    if (!embedded.ok()) return ::testing::AssertionFailure() << embedded.status();
    embedded_ = std::move(*embedded);
    // Real: the session is gone from the `dump` four-letter word's session list (removed when
    // the close txn is applied; later requests queue behind that txn).
    real_side_ = std::make_unique<Side>(
        "real", real_->connect_string(),
        [hosts = real_->connect_string()](int64_t id) -> absl::StatusOr<bool> {
          absl::StatusOr<std::string> dump =
              FourLetterWord(hosts, "dump", absl::Now() + absl::Seconds(5));
          if (!dump.ok()) return dump.status();
          if (dump->find("SessionTracker dump:") == std::string::npos) {
            return absl::InternalError(absl::StrCat("unexpected dump answer: ", *dump));
          }
          return dump->find(absl::StrFormat("\t0x%x\n", id)) != std::string::npos;
        });
    embedded_side_ = std::make_unique<Side>(
        "embedded", embedded_->connect_string(),
        [server = embedded_.get()](int64_t id) -> absl::StatusOr<bool> {
          const std::vector<int64_t> ids = server->ListSessions();
          return std::find(ids.begin(), ids.end(), id) != ids.end();
        });
    for (int slot = 0; slot < kSessionSlots; ++slot) {
      for (Side* side : sides()) {
        if (absl::Status s = side->OpenSession(slot); !s.ok()) {
          return ::testing::AssertionFailure() << side->label() << ": " << s;
        }
      }
    }
    return ::testing::AssertionSuccess();
  }

  // Runs `step` on both servers and compares the outcomes; `*outcome` receives the real one
  // and `*created` the paths the real server created.
  ::testing::AssertionResult Run(const Step& step, std::string* outcome = nullptr,
                                 std::vector<std::string>* created = nullptr) {
    std::vector<std::string> created_real, created_embedded;
    const std::string a = Execute(*real_side_, step, op_index_, &created_real);
    const std::string b = Execute(*embedded_side_, step, op_index_, &created_embedded);
    const int64_t index = op_index_++;
    if (a != b) {
      return ::testing::AssertionFailure() << "op #" << index << ": " << step.Describe()
                                           << "\n  real:     " << a << "\n  embedded: " << b;
    }
    if (a.rfind("status ", 0) == 0) {
      return ::testing::AssertionFailure() << "op #" << index << ": " << step.Describe()
                                           << ": client-side failure on both sides: " << a;
    }
    if (outcome != nullptr) *outcome = a;
    if (created != nullptr) *created = std::move(created_real);
    return ::testing::AssertionSuccess();
  }

  // Ends the run: a barrier per live session (every event caused by earlier ops precedes its
  // reply), the final trees, then closes every session and compares the session logs.
  ::testing::AssertionResult Finish() {
    for (int slot = 0; slot < kSessionSlots; ++slot) {
      std::string outcome;
      const Step barrier{.kind = Step::kSync, .slot = slot, .path = "/"};
      if (auto r = Run(barrier, &outcome); !r) return r;
    }
    std::vector<std::string> tree_real, tree_embedded;
    if (absl::Status s = DumpTree(*real_side_, *real_side_->session(0).client, "/", &tree_real);
        !s.ok()) {
      return ::testing::AssertionFailure() << "real tree: " << s;
    }
    if (absl::Status s = DumpTree(*embedded_side_, *embedded_side_->session(0).client, "/",
                                  &tree_embedded);
        !s.ok()) {
      return ::testing::AssertionFailure() << "embedded tree: " << s;
    }
    if (std::string diff = FirstDifference(tree_real, tree_embedded); !diff.empty()) {
      return ::testing::AssertionFailure() << "final tree: " << diff;
    }
    nodes_ = static_cast<int64_t>(tree_real.size());

    for (Side* side : sides()) {
      if (absl::Status s = side->CloseAll(); !s.ok()) {
        return ::testing::AssertionFailure() << s;
      }
    }
    const auto& logs_real = real_side_->finished();
    const auto& logs_embedded = embedded_side_->finished();
    if (logs_real.size() != logs_embedded.size()) {
      return ::testing::AssertionFailure() << "session counts differ";
    }
    for (size_t i = 0; i < logs_real.size(); ++i) {
      const auto& [name_real, log_real] = logs_real[i];
      const auto& [name_embedded, log_embedded] = logs_embedded[i];
      if (name_real != name_embedded) {
        return ::testing::AssertionFailure() << "sessions closed in a different order";
      }
      if (std::string diff = FirstDifference(log_real, log_embedded); !diff.empty()) {
        return ::testing::AssertionFailure() << "log of session " << name_real << ": " << diff;
      }
      events_ += CountEvents(log_real);
      log_entries_ += static_cast<int64_t>(log_real.size());
    }
    sessions_ = static_cast<int64_t>(logs_real.size());

    Volume& total = TotalVolume();
    total.ops += op_index_;
    total.events += events_;
    total.log_entries += log_entries_;
    total.nodes += nodes_;
    return ::testing::AssertionSuccess();
  }

  int64_t ops() const { return op_index_; }
  int64_t events() const { return events_; }
  int64_t log_entries() const { return log_entries_; }
  int64_t nodes() const { return nodes_; }
  int64_t sessions() const { return sessions_; }

 private:
  std::vector<Side*> sides() { return {real_side_.get(), embedded_side_.get()}; }

  std::unique_ptr<RealZooKeeper> real_;
  std::unique_ptr<EmbeddedServer> embedded_;
  // Declared after the servers: the clients close before the servers stop.
  std::unique_ptr<Side> real_side_;
  std::unique_ptr<Side> embedded_side_;
  int64_t op_index_ = 0;
  int64_t events_ = 0;
  int64_t log_entries_ = 0;
  int64_t nodes_ = 0;
  int64_t sessions_ = 0;
};

class DifferentialTest : public ::testing::TestWithParam<int> {};

TEST_P(DifferentialTest, SameResultsAsRealZooKeeper) {
  const int seed = GetParam();
  Differential diff;
  ASSERT_TRUE(diff.Start());
  // Op 0: the namespace root. Its czxid must agree exactly (same session-creation txns).
  ASSERT_TRUE(diff.Run({.kind = Step::kCreate, .slot = 0, .path = "/d", .data = "root"}))
      << "seed " << seed << " (session-creation zxids differ?)";

  Generator generator(static_cast<uint64_t>(seed));
  std::map<std::string, int> outcomes;  // coverage: "<op> -> <outcome>" counts
  for (int i = 0, n = OpsPerSeed(); i < n; ++i) {
    const Step step = generator.NextStep();
    std::string outcome;
    std::vector<std::string> created;
    ASSERT_TRUE(diff.Run(step, &outcome, &created)) << "seed " << seed;
    for (const std::string& path : created) generator.Learn(path);
    ++outcomes[OutcomeKey(step, outcome)];
  }
  ASSERT_TRUE(diff.Finish()) << "seed " << seed;
  // A run without events would compare nothing about watches.
  EXPECT_GT(diff.events(), 0) << "seed " << seed;
  ++TotalVolume().seeds;

  std::printf(
      "[differential] seed %d: %lld ops compared, %lld watch events compared in %lld session "
      "logs (%lld entries), %lld nodes in the final trees; zxids compared exactly\n",
      seed, static_cast<long long>(diff.ops()), static_cast<long long>(diff.events()),
      static_cast<long long>(diff.sessions()), static_cast<long long>(diff.log_entries()),
      static_cast<long long>(diff.nodes()));
  std::vector<std::string> coverage;
  for (const auto& [key, count] : outcomes) coverage.push_back(absl::StrCat(key, " x", count));
  std::printf("[differential] seed %d outcomes: %s\n", seed,
              absl::StrJoin(coverage, ", ").c_str());
}

// Closing a session deletes its ephemerals in ZooKeeper's (Java HashSet) order, and the
// watchers see the events in that order: sets of 13 (capacity 32 after a resize) and 40
// ephemerals, some deleted before the close so that size and capacity differ.
TEST(DifferentialCloseOrderTest, EphemeralsVanishInZooKeepersOrder) {
  Differential diff;
  ASSERT_TRUE(diff.Start());
  ASSERT_TRUE(diff.Run({.kind = Step::kCreate, .slot = 0, .path = "/e"}));
  int64_t events_expected = 0;
  for (int count : {13, 40}) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      const bool sequential = i % 3 == 0;
      std::string created;
      std::vector<std::string> names;
      ASSERT_TRUE(diff.Run(
          {.kind = Step::kCreate,
           .slot = 1,
           .path = sequential ? "/e/seq-" : absl::StrCat("/e/n", i * 7919 % 1000, "x"),
           .mode = sequential ? CreateMode::kEphemeralSequential : CreateMode::kEphemeral},
          &created, &names));
      ASSERT_EQ(names.size(), 1u) << created;
      paths.push_back(names[0]);
      ASSERT_TRUE(diff.Run({.kind = Step::kExistsAndWatch, .slot = 0, .path = names[0]}));
    }
    // Delete every fifth: the set shrinks, its Java capacity does not.
    for (int i = 0; i < count; i += 5) {
      ASSERT_TRUE(diff.Run({.kind = Step::kDelete, .slot = 1, .path = paths[i]}));
      ASSERT_TRUE(diff.Run({.kind = Step::kExistsAndWatch, .slot = 0, .path = paths[i]}));
    }
    ASSERT_TRUE(diff.Run({.kind = Step::kGetChildrenAndWatch, .slot = 0, .path = "/e"}));
    ASSERT_TRUE(diff.Run({.kind = Step::kCycleSession, .slot = 1}));
    events_expected += count - (count + 4) / 5 + 1;  // one deleted per survivor, one children
  }
  ASSERT_TRUE(diff.Finish());
  // Deleted-by-hand nodes also fired once (when deleted).
  EXPECT_GE(diff.events(), events_expected);
  std::printf("[differential] close order: %lld ops, %lld watch events compared\n",
              static_cast<long long>(diff.ops()), static_cast<long long>(diff.events()));
}

// Null data (a create / setData with a null buffer, length -1, as the C client sends for a NULL
// data pointer): getData answers the same bytes on both servers — a null buffer (-1) and
// dataLength 0 — and an empty buffer stays empty. Raw frames, so that no client normalises it.
TEST(DifferentialNullDataTest, NullDataReadsBackAsOnZooKeeper) {
  absl::StatusOr<std::unique_ptr<RealZooKeeper>> real = RealZooKeeper::Start({});
  ASSERT_THAT(real, IsOk());
  absl::StatusOr<std::unique_ptr<EmbeddedServer>> embedded = EmbeddedServer::Start({});
  ASSERT_THAT(embedded, IsOk());
  // Returns, per request, "err=<e> len=<data length field> dataLength=<stat>" of getData.
  auto run = [](int port) {
    std::vector<std::string> out;
    RawClient client(port);
    if (!client.Handshake(10000)) return std::vector<std::string>{"handshake failed"};
    auto acl = [](Bytes& body) -> Bytes& {
      return body.Int(1).Int(31).Str("world").Str("anyone");
    };
    Bytes null_create, empty_create;
    null_create.Str("/null").Int(-1);
    empty_create.Str("/empty").Str("");
    const std::vector<std::pair<int32_t, Bytes>> writes = {
        {1, acl(null_create).Int(0)},
        {1, acl(empty_create).Int(0)},
        {5, Bytes().Str("/empty").Int(-1).Int(-1)},  // setData to null
        {5, Bytes().Str("/null").Str("ab").Int(-1)},
    };
    int xid = 1;
    auto get = [&](const std::string& path) {
      client.Request(xid++, 4, Bytes().Str(path).Bool(false));
      std::optional<std::string> reply = client.ReadFrame();
      if (!reply) return std::string("no reply");
      Cursor cursor(*reply);
      cursor.Int();
      cursor.Long();
      const int32_t err = cursor.Int();
      if (err != 0) return absl::StrCat("err=", err);
      const int32_t length = cursor.Int();
      for (int i = 0; i < length; ++i) cursor.Bool();
      for (int i = 0; i < 4; ++i) cursor.Long();
      for (int i = 0; i < 3; ++i) cursor.Int();
      cursor.Long();
      return absl::StrCat("len=", length, " dataLength=", cursor.Int());
    };
    for (const auto& [type, body] : writes) {
      client.Request(xid++, type, body);
      std::optional<std::string> reply = client.ReadFrame();
      if (!reply) return std::vector<std::string>{"no reply"};
      Cursor cursor(*reply);
      cursor.Int();
      cursor.Long();
      out.push_back(absl::StrCat("write err=", cursor.Int()));
      out.push_back(absl::StrCat("/null ", get("/null"), "; /empty ", get("/empty")));
    }
    return out;
  };
  const std::vector<std::string> from_real = run((*real)->port());
  const std::vector<std::string> from_embedded = run((*embedded)->member_port(0));
  EXPECT_EQ(from_real, from_embedded);
  std::printf("[differential] null data: %s\n", absl::StrJoin(from_real, " | ").c_str());
  // And it is the null ZooKeeper keeps, not an empty buffer.
  ASSERT_GE(from_real.size(), 2u);
  EXPECT_EQ(from_real[1], "/null len=-1 dataLength=0; /empty err=-101");
}

// One raw session for the scripted tests below: it logs, in wire order, the error code of each
// of its requests and every watch event it receives, so that two servers' logs compare.
class RawPeer {
 public:
  RawPeer(int port, const std::string& name) : client_(port), name_(name) {
    if (!client_.Handshake(10000)) log_.push_back("handshake failed");
  }
  // Sends one request and reads until its reply; returns the reply's error code (or 1 if the
  // connection closed, 2 on timeout). Events read meanwhile are logged before the op.
  int32_t Call(int32_t type, const Bytes& body, const std::string& what) {
    const int32_t xid = type == 100 ? -4 : next_xid_++;
    client_.Request(xid, type, body);
    while (true) {
      std::optional<std::string> frame = client_.ReadFrame(10000);
      if (!frame) {
        log_.push_back(absl::StrCat(what, " -> closed"));
        return 1;
      }
      Cursor cursor(*frame);
      const int32_t reply_xid = cursor.Int();
      cursor.Long();
      const int32_t err = cursor.Int();
      if (reply_xid == -1) {
        const int32_t event_type = cursor.Int();
        cursor.Int();
        log_.push_back(absl::StrCat("event ", event_type, " ", cursor.Str()));
        continue;
      }
      if (reply_xid != xid) continue;
      log_.push_back(absl::StrCat(what, " -> ", err));
      return err;
    }
  }
  // A read round trip: every event the server queued for this session before it is logged.
  void Barrier() { Call(3, Bytes().Str("/").Bool(false), "barrier"); }
  std::string Events() const {
    std::vector<std::string> events;
    for (const std::string& entry : log_) {
      if (entry.rfind("event ", 0) == 0) events.push_back(entry);
    }
    return absl::StrJoin(events, ", ");
  }
  const std::vector<std::string>& log() const { return log_; }
  const std::string& name() const { return name_; }

 private:
  RawClient client_;
  std::string name_;
  int32_t next_xid_ = 1;
  std::vector<std::string> log_;
};

Bytes AuthBody(const std::string& scheme, const std::string& credential) {
  Bytes body;
  body.Int(0).Str(scheme).Str(credential);
  return body;
}

// ACL entries as (perms, scheme, id).
using AclList = std::vector<std::tuple<int32_t, std::string, std::string>>;
Bytes& AppendAcl(Bytes& body, const AclList& acls) {
  body.Int(static_cast<int32_t>(acls.size()));
  for (const auto& [perms, scheme, id] : acls) body.Int(perms).Str(scheme).Str(id);
  return body;
}
Bytes CreateBody(const std::string& path, const AclList& acls, int32_t flags = 0) {
  Bytes body;
  body.Str(path).Str("");
  AppendAcl(body, acls).Int(flags);
  return body;
}

std::unique_ptr<EmbeddedServer> StartEmbeddedLikeReal() {
  absl::StatusOr<std::unique_ptr<EmbeddedServer>> server =
      EmbeddedServer::Start({.super_digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="});
  return server.ok() ? std::move(*server) : nullptr;
}

// Watch events honour the node's ACL (CVE-2024-23944): a session without READ on a node gets
// no created / changed / deleted event for it — standard, persistent and persistent-recursive
// watches alike — while a child watch on a readable parent still fires, super sees everything,
// READ granted by world or ip is enough, and a filtered standard watch is still consumed.
// Every session's log (replies and events, in wire order) must match the real server's.
TEST(DifferentialWatchAclTest, EventsReachOnlySessionsWithReadOnTheNode) {
  absl::StatusOr<std::unique_ptr<RealZooKeeper>> real = RealZooKeeper::Start({});
  ASSERT_THAT(real, IsOk());
  std::unique_ptr<EmbeddedServer> embedded = StartEmbeddedLikeReal();
  ASSERT_NE(embedded, nullptr);
  const AclList kOpen = {{31, "world", "anyone"}};
  const AclList kOwnerOnly = {{31, "auth", ""}};
  const AclList kWorldRead = {{1, "world", "anyone"}, {31, "auth", ""}};
  const AclList kIpRead = {{1, "ip", "127.0.0.1"}, {31, "auth", ""}};
  auto run = [&](int port) {
    std::vector<std::unique_ptr<RawPeer>> peers;
    for (const char* name : {"owner", "super", "other", "children", "recursive", "persistent"}) {
      peers.push_back(std::make_unique<RawPeer>(port, name));
    }
    RawPeer& owner = *peers[0];
    RawPeer& super = *peers[1];
    RawPeer& other = *peers[2];
    RawPeer& children = *peers[3];
    RawPeer& recursive = *peers[4];
    RawPeer& persistent = *peers[5];
    auto barrier = [&] {
      for (auto& peer : peers) peer->Barrier();
    };
    auto set_data = [&](const std::string& path) {
      owner.Call(5, Bytes().Str(path).Str("x").Int(-1), "setData " + path);
      barrier();
    };
    owner.Call(100, AuthBody("digest", "owner:pw"), "auth owner");
    super.Call(100, AuthBody("digest", "super:test"), "auth super");
    owner.Call(1, CreateBody("/w", kOpen), "create /w");
    super.Call(106, Bytes().Str("/w").Int(1), "addWatch recursive /w");
    recursive.Call(106, Bytes().Str("/w").Int(1), "addWatch recursive /w");
    persistent.Call(106, Bytes().Str("/w/secret").Int(0), "addWatch /w/secret");
    other.Call(3, Bytes().Str("/w/secret").Bool(true), "exists watch /w/secret");
    children.Call(8, Bytes().Str("/w").Bool(true), "getChildren watch /w");
    owner.Call(1, CreateBody("/w/secret", kOwnerOnly), "create /w/secret owner-only");
    barrier();
    other.Call(3, Bytes().Str("/w/secret").Bool(true), "exists watch /w/secret");
    other.Call(4, Bytes().Str("/w/secret").Bool(true), "getData watch /w/secret");
    set_data("/w/secret");
    // The filtered exists watch of `other` was consumed: opening the ACL does not revive it.
    owner.Call(7, AppendAcl(Bytes().Str("/w/secret"), kOpen).Int(-1), "setACL open");
    set_data("/w/secret");
    owner.Call(7, AppendAcl(Bytes().Str("/w/secret"), kOwnerOnly).Int(-1), "setACL owner-only");
    other.Call(3, Bytes().Str("/w/secret").Bool(true), "exists watch /w/secret");
    children.Call(8, Bytes().Str("/w").Bool(true), "getChildren watch /w");
    owner.Call(2, Bytes().Str("/w/secret").Int(-1), "delete /w/secret");
    barrier();
    owner.Call(1, CreateBody("/w/worldread", kWorldRead), "create /w/worldread");
    owner.Call(1, CreateBody("/w/ipread", kIpRead), "create /w/ipread");
    owner.Call(1, CreateBody("/w/ipread/deep", kOwnerOnly), "create /w/ipread/deep");
    barrier();
    set_data("/w/worldread");
    set_data("/w/ipread/deep");
    std::vector<std::string> out;
    for (auto& peer : peers) {
      for (const std::string& entry : peer->log()) out.push_back(peer->name() + ": " + entry);
    }
    std::map<std::string, std::string> events;
    for (auto& peer : peers) events[peer->name()] = peer->Events();
    return std::make_pair(out, events);
  };
  const auto [from_real, real_events] = run((*real)->port());
  const auto [from_embedded, embedded_events] = run(embedded->member_port(0));
  EXPECT_EQ(from_real, from_embedded);
  for (const auto& [name, events] : real_events) {
    std::printf("[differential] watch acl, real %s: %s\n", name.c_str(), events.c_str());
  }
  // What the comparison stands on, spelled out for the embedded server.
  EXPECT_EQ(embedded_events.at("other"), "");
  EXPECT_EQ(embedded_events.at("persistent"), "event 3 /w/secret");
  EXPECT_EQ(embedded_events.at("children"), "event 4 /w, event 4 /w");
  EXPECT_EQ(embedded_events.at("recursive"),
            "event 3 /w/secret, event 1 /w/worldread, event 1 /w/ipread, "
            "event 3 /w/worldread");
  EXPECT_EQ(embedded_events.at("super"),
            "event 1 /w/secret, event 3 /w/secret, event 3 /w/secret, event 2 /w/secret, "
            "event 1 /w/worldread, event 1 /w/ipread, event 1 /w/ipread/deep, "
            "event 3 /w/worldread, event 3 /w/ipread/deep");
}

// Runs `script` against a real ZooKeeper and a fresh embedded server (same super digest) and
// expects the same lines from both; returns the real server's lines.
std::vector<std::string> ExpectSameOnBothServers(
    const std::function<std::vector<std::string>(int port)>& script) {
  absl::StatusOr<std::unique_ptr<RealZooKeeper>> real = RealZooKeeper::Start({});
  EXPECT_THAT(real, IsOk());
  std::unique_ptr<EmbeddedServer> embedded = StartEmbeddedLikeReal();
  EXPECT_NE(embedded, nullptr);
  if (!real.ok() || embedded == nullptr) return {};
  const std::vector<std::string> from_real = script((*real)->port());
  const std::vector<std::string> from_embedded = script(embedded->member_port(0));
  EXPECT_EQ(from_real, from_embedded);
  return from_real;
}

// Paths that are not valid UTF-8 — overlong forms above all, which would otherwise name '/' or
// 'A' in disguise — are BADARGUMENTS where ZooKeeper validates paths (create, setData), as is
// every other sequence Java decodes to U+FFFD; valid multi-byte names still work.
TEST(DifferentialPathTest, InvalidUtf8IsRejectedAsOnZooKeeper) {
  const std::vector<std::string> paths = {
      "/a\xc0\xaf" "b", "/\xc1\x81", "/\xc0\x80", "/\xe0\x80\xaf", "/\xe0\x82\xa9",
      "/\xf0\x80\x80\xaf", "/\xed\xa0\x80", "/\xf4\x90\x80\x80", "/\xf8\x88\x80\x80\x80",
      "/\xff", "/\x80", "/x\xc3", "/\xc3(", "/\xe2\x82", "/\xef\xbf\xbd",
      "/\xc3\xa4h", "/\xe2\x82\xac", "/\xef\xbf\xaf"};
  const std::vector<std::string> real = ExpectSameOnBothServers([&](int port) {
    std::vector<std::string> out;
    RawPeer peer(port, "p");
    for (const std::string& path : paths) {
      const std::string shown = absl::CHexEscape(path);
      out.push_back(absl::StrCat(shown, " create ",
                                 peer.Call(1, CreateBody(path, {{31, "world", "anyone"}}), "c")));
      out.push_back(absl::StrCat(shown, " setData ",
                                 peer.Call(5, Bytes().Str(path).Str("x").Int(-1), "s")));
    }
    return out;
  });
  std::printf("[differential] utf-8 paths: %s\n", absl::StrJoin(real, " | ").c_str());
}

// ACL ids are validated as Java's providers do: a digest id must split on ':' into exactly two
// parts once trailing empty parts are dropped (String.split), an ip id is a dotted quad of
// Integer.parseInt numbers 0..255 with an optional /bits (no spaces).
TEST(DifferentialAclIdTest, AclIdsAreValidatedAsOnZooKeeper) {
  const std::vector<std::pair<std::string, std::string>> ids = {
      {"digest", "owner:"}, {"digest", "::"}, {"digest", ":"}, {"digest", ""},
      {"digest", "a:b:"}, {"digest", "a:b::"}, {"digest", ":hash"}, {"digest", "a::b"},
      {"digest", "a:b:c"}, {"digest", "a:b"}, {"digest", " a : b "},
      {"ip", "127.0.0.1"}, {"ip", "127.0.0.1 "}, {"ip", " 127.0.0.1"}, {"ip", "127. 0.0.1"},
      {"ip", "127.0.0.1/ 8"}, {"ip", "127.0.0.1/8"}, {"ip", "127.0.0.1/+8"},
      {"ip", "+127.0.0.1"}, {"ip", "-0.0.0.0"}, {"ip", "010.0.0.1"}, {"ip", "127.0.0.1/33"},
      {"ip", "127.0.0.1/-1"}, {"ip", "127.0.0.1/"}, {"ip", "127.0.0.1/8/9"},
      {"ip", "1.2.3"}, {"ip", "1.2.3.4."}, {"ip", "256.0.0.1"}, {"ip", "::1"}, {"ip", ""},
      {"ip", "99999999999.0.0.1"}, {"world", "anyone"}, {"world", "nobody"},
      {"super", ""}, {"bogus", "x"}};
  const std::vector<std::string> real = ExpectSameOnBothServers([&](int port) {
    std::vector<std::string> out;
    RawPeer peer(port, "p");
    int n = 0;
    for (const auto& [scheme, id] : ids) {
      const std::string path = absl::StrCat("/acl", n++);
      out.push_back(absl::StrCat(scheme, ":'", id, "' create ",
                                 peer.Call(1, CreateBody(path, {{31, scheme, id}}), "c")));
    }
    peer.Call(1, CreateBody("/acl-set", {{31, "world", "anyone"}}), "c");
    out.push_back(absl::StrCat("setACL digest:'owner:' ",
                               peer.Call(7,
                                         AppendAcl(Bytes().Str("/acl-set"),
                                                   {{31, "digest", "owner:"}})
                                             .Int(-1),
                                         "a")));
    return out;
  });
  std::printf("[differential] acl ids: %s\n", absl::StrJoin(real, " | ").c_str());
}

// Returns "scheme=user" entries of a whoAmI reply, or the error.
std::vector<std::string> WhoAmI(int port, const std::function<void(RawClient&)>& before) {
  RawClient client(port);
  if (!client.Handshake(10000)) return {"handshake failed"};
  before(client);
  client.Request(99, 107);
  while (true) {
    std::optional<std::string> frame = client.ReadFrame(10000);
    if (!frame) return {"closed"};
    Cursor cursor(*frame);
    if (cursor.Int() != 99) continue;
    cursor.Long();
    if (int32_t err = cursor.Int(); err != 0) return {absl::StrCat("err ", err)};
    std::vector<std::string> out;
    for (int32_t i = 0, n = cursor.Int(); i < n; ++i) {
      std::string scheme = cursor.Str();
      out.push_back(absl::StrCat(scheme, "=", cursor.Str()));
    }
    return out;
  }
}

// Sends `count` auth packets without waiting; reads their replies.
void Authenticate(RawClient& client, const std::string& credential, int count) {
  for (int i = 0; i < count; ++i) client.Request(-4, 100, AuthBody("digest", credential));
  for (int i = 0; i < count; ++i) client.ReadFrame(10000);
}

// Auth as ZooKeeper does it: the ids of a connection are a set (repeating an auth adds
// nothing), whoAmI lists every id including ("super", ""), in ZooKeeper's order.
TEST(DifferentialAuthTest, RepeatedAuthAndSuperShowInWhoAmIAsOnZooKeeper) {
  const std::vector<std::string> real = ExpectSameOnBothServers([](int port) {
    std::vector<std::string> out;
    auto add = [&](const std::string& what, const std::vector<std::string>& ids) {
      out.push_back(absl::StrCat(what, ": ", absl::StrJoin(ids, ",")));
    };
    add("500 x u:p", WhoAmI(port, [](RawClient& c) { Authenticate(c, "u:p", 500); }));
    add("super", WhoAmI(port, [](RawClient& c) { Authenticate(c, "super:test", 2); }));
    add("three users", WhoAmI(port, [](RawClient& c) {
          for (const char* user : {"a:1", "b:2", "super:test", "a:1", "c:3"}) {
            Authenticate(c, user, 1);
          }
        }));
    return out;
  });
  std::printf("[differential] auth ids: %s\n", absl::StrJoin(real, " | ").c_str());
}

// A digest auth packet whose credential is a null buffer (length -1) or empty, or without ':'.
TEST(DifferentialAuthTest, NullAndEmptyDigestCredentialsAsOnZooKeeper) {
  const std::vector<std::string> real = ExpectSameOnBothServers([](int port) {
    std::vector<std::string> out;
    const std::vector<std::pair<std::string, Bytes>> bodies = {
        {"null", Bytes().Int(0).Str("digest").Int(-1)},
        {"empty", Bytes().Int(0).Str("digest").Str("")},
        {"no colon", Bytes().Int(0).Str("digest").Str("user")},
        {"colon only", Bytes().Int(0).Str("digest").Str(":")},
        {"ip", Bytes().Int(0).Str("ip").Int(-1)},
        {"unknown scheme", Bytes().Int(0).Str("x509").Str("a")}};
    for (const auto& [name, body] : bodies) {
      RawPeer peer(port, name);
      const int32_t err = peer.Call(100, body, "auth");
      const int32_t after = peer.Call(3, Bytes().Str("/").Bool(false), "exists");
      out.push_back(absl::StrCat(name, ": auth ", err, ", then ", after == 1 ? "closed" : "open"));
    }
    return out;
  });
  std::printf("[differential] auth credentials: %s\n", absl::StrJoin(real, " | ").c_str());
}

// A new session (id 0) opens whatever the length of the password it sends.
TEST(DifferentialHandshakeTest, NewSessionWithAnyPasswordLengthAsOnZooKeeper) {
  const std::vector<std::string> real = ExpectSameOnBothServers([](int port) {
    std::vector<std::string> out;
    for (size_t length : {0, 1, 15, 16, 17, 64}) {
      RawClient client(port);
      std::optional<std::string> response = client.Handshake(10000, 0, std::string(length, 'p'));
      std::string result = "closed";
      if (response) {
        Cursor cursor(*response);
        cursor.Int();
        cursor.Int();
        result = cursor.Long() != 0 ? "session" : "refused";
        result += absl::StrCat(" passwd ", cursor.Str().size());
      }
      out.push_back(absl::StrCat("passwd ", length, ": ", result));
    }
    return out;
  });
  std::printf("[differential] handshake passwords: %s\n", absl::StrJoin(real, " | ").c_str());
}

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialTest, ::testing::Values(1, 2, 3, 4, 5, 6, 7, 8),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat("Seed", info.param);
                         });

}  // namespace
}  // namespace zk::testing
