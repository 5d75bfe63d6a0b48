// zkcpp_recipes_bench_zkcpp_driver: zkcpp's side of the recipes benchmark (zkcpp_recipes_bench).
//
// One process per measurement, like the Curator (CuratorRecipesDriver.java) and kazoo
// (kazoo_driver.py) drivers, which take the same flags and print the same RESULT line:
//
//   --hosts=H --path=/p --workload=lock|handoff
//   lock:    --contenders=N --seconds=S --warmup_seconds=W [--release=wait|background]
//   handoff: --handoffs=N --warmup_handoffs=N
//
// lock: N sessions (one zk::Client each), one zk::recipes::Lock each on the same path, one
// thread each looping Acquire → Release for a fixed time (first W seconds unmeasured, then S
// measured). Every contender joins the measured phase at the same instant; a contender stops
// after the cycle that ends past the deadline, and the phase lasts until the last one stopped.
//   count = cycles, rate = cycles / phase duration, p50/p99/max = acquire wait (call → return).
// handoff: two sessions take turns: the leader's LeaderElection leads, a fresh LeaderElection on
// the other session joins (its node is listed, then 20 ms more for its watch), then the leader's
// LeaderElection is destroyed (it leaves gracefully: its node is deleted) and we time until the
// follower's listener hears is_leader. Roles then swap.
//   count = handoffs, p50/p99/max = destroy → listener.
//
// Output, one line on stdout (diagnostics on stderr; exit 0 only if nothing failed):
//   RESULT count=.. errors=.. seconds=.. rate=.. p50_us=.. p99_us=.. max_us=.. cpu_us_per_op=..
// cpu_us_per_op = getrusage(RUSAGE_SELF) user+sys over the measured phase / count.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "driver_common.h"
#include "zk/client.h"
#include "zk/recipes/leader_election.h"
#include "zk/recipes/lock.h"

namespace zkbench {
namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct Args {
  std::string hosts, path, workload;
  int contenders = 1;
  double seconds = 2, warmup_seconds = 1;
  int handoffs = 50, warmup_handoffs = 10;
  // lock: "wait" = LockGuard::Release() (waits for the delete's reply, like Curator's and
  // kazoo's release); "background" = the guard's destructor (posts the delete and returns; the
  // next acquire's create queues behind it on the same session). Each contender then alternates
  // between two Lock objects on its session: re-acquiring on the same Lock right after dropping
  // its guard fails with FailedPrecondition while the posted release has not run yet.
  std::string release = "wait";
};

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    const size_t eq = arg.find('=');
    if (arg.substr(0, 2) != "--" || eq == std::string_view::npos) return false;
    const std::string_view key = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
    bool ok = true;
    if (key == "hosts") {
      a->hosts = std::string(value);
    } else if (key == "path") {
      a->path = std::string(value);
    } else if (key == "workload") {
      a->workload = std::string(value);
    } else if (key == "contenders") {
      ok = absl::SimpleAtoi(AV(value), &a->contenders) && a->contenders > 0;
    } else if (key == "seconds") {
      ok = absl::SimpleAtod(AV(value), &a->seconds);
    } else if (key == "warmup_seconds") {
      ok = absl::SimpleAtod(AV(value), &a->warmup_seconds);
    } else if (key == "handoffs") {
      ok = absl::SimpleAtoi(AV(value), &a->handoffs) && a->handoffs > 0;
    } else if (key == "warmup_handoffs") {
      ok = absl::SimpleAtoi(AV(value), &a->warmup_handoffs);
    } else if (key == "release") {
      a->release = std::string(value);
      ok = a->release == "wait" || a->release == "background";
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad flag %s\n", argv[i]);
      return false;
    }
  }
  return !a->hosts.empty() && !a->path.empty() &&
         (a->workload == "lock" || a->workload == "handoff");
}

void PrintResult(int64_t count, int64_t errors, double seconds, std::vector<double> lat_ns,
                 CpuTime cpu) {
  std::sort(lat_ns.begin(), lat_ns.end());
  const double n = static_cast<double>(std::max<int64_t>(1, count));
  std::printf("RESULT count=%lld errors=%lld seconds=%.6f rate=%.1f p50_us=%.1f p99_us=%.1f "
              "max_us=%.1f cpu_us_per_op=%.1f\n",
              static_cast<long long>(count), static_cast<long long>(errors), seconds,
              seconds > 0 ? count / seconds : 0.0, Quantile(lat_ns, 0.5) / 1e3,
              Quantile(lat_ns, 0.99) / 1e3, lat_ns.empty() ? 0.0 : lat_ns.back() / 1e3,
              (cpu.user_us + cpu.sys_us) / n);
  std::fflush(stdout);
}

absl::StatusOr<std::unique_ptr<zk::Client>> ConnectClient(const std::string& hosts) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client,
                      zk::Client::Connect({.connect_string = hosts}));
  ZK_RETURN_IF_ERROR(client->WaitUntilConnected(std::chrono::seconds(30)));
  return client;
}

struct Phase {
  int64_t cycles = 0, errors = 0;
  double seconds = 0;
  std::vector<double> waits_ns;
  CpuTime cpu;
};

// All contenders loop acquire → release from one common start until `seconds` have passed.
Phase RunLockPhase(std::vector<std::unique_ptr<zk::recipes::Lock>>& locks,
                   std::vector<std::unique_ptr<zk::recipes::Lock>>& spare_locks,
                   std::vector<char>& use_spare, double seconds, bool background_release) {
  const int n = static_cast<int>(locks.size());
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  int64_t t0 = 0, deadline = 0;
  std::vector<std::vector<double>> waits(n);
  std::vector<int64_t> cycles(n, 0), errors(n, 0), finished(n, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return go; });
      }
      waits[i].reserve(1 << 14);
      while (NowNanos() < deadline) {
        // The alternation carries over from the warm-up phase to the measured one.
        zk::recipes::Lock* lock = use_spare[i] ? spare_locks[i].get() : locks[i].get();
        if (background_release) use_spare[i] = !use_spare[i];
        const int64_t a = NowNanos();
        absl::StatusOr<zk::recipes::LockGuard> guard = lock->Acquire(std::chrono::seconds(30));
        const int64_t b = NowNanos();
        if (!guard.ok()) {
          std::fprintf(stderr, "acquire: %s\n", guard.status().ToString().c_str());
          ++errors[i];
          continue;
        }
        waits[i].push_back(static_cast<double>(b - a));
        if (background_release) {
          guard = zk::recipes::LockGuard();  // the destructor posts the delete
        } else if (absl::Status s = guard->Release(); !s.ok()) {
          std::fprintf(stderr, "release: %s\n", s.ToString().c_str());
          ++errors[i];
          continue;
        }
        ++cycles[i];
      }
      finished[i] = NowNanos();
    });
  }
  const CpuTime cpu0 = ProcessCpuTime();
  {
    std::lock_guard<std::mutex> lock(mu);
    t0 = NowNanos();
    deadline = t0 + static_cast<int64_t>(seconds * 1e9);
    go = true;
  }
  cv.notify_all();
  for (std::thread& t : threads) t.join();
  const CpuTime cpu1 = ProcessCpuTime();
  Phase p;
  p.seconds = (*std::max_element(finished.begin(), finished.end()) - t0) / 1e9;
  for (int i = 0; i < n; ++i) {
    p.cycles += cycles[i];
    p.errors += errors[i];
    p.waits_ns.insert(p.waits_ns.end(), waits[i].begin(), waits[i].end());
  }
  p.cpu = {cpu1.user_us - cpu0.user_us, cpu1.sys_us - cpu0.sys_us};
  return p;
}

int RunLock(const Args& args) {
  std::vector<std::unique_ptr<zk::Client>> clients;
  std::vector<std::unique_ptr<zk::recipes::Lock>> locks, spare_locks;
  for (int i = 0; i < args.contenders; ++i) {
    absl::StatusOr<std::unique_ptr<zk::Client>> client = ConnectClient(args.hosts);
    if (!client.ok()) {
      std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
      return 1;
    }
    absl::StatusOr<std::unique_ptr<zk::recipes::Lock>> lock =
        zk::recipes::Lock::Create(**client, args.path);
    if (!lock.ok()) {
      std::fprintf(stderr, "lock: %s\n", lock.status().ToString().c_str());
      return 1;
    }
    absl::StatusOr<std::unique_ptr<zk::recipes::Lock>> spare =
        zk::recipes::Lock::Create(**client, args.path);
    if (!spare.ok()) return 1;
    clients.push_back(*std::move(client));
    locks.push_back(*std::move(lock));
    spare_locks.push_back(*std::move(spare));
  }
  int64_t warm_errors = 0;
  const bool background = args.release == "background";
  std::vector<char> use_spare(locks.size(), 0);
  if (args.warmup_seconds > 0) {
    warm_errors = RunLockPhase(locks, spare_locks, use_spare, args.warmup_seconds, background).errors;
  }
  Phase p = RunLockPhase(locks, spare_locks, use_spare, args.seconds, background);
  PrintResult(p.cycles, p.errors + warm_errors, p.seconds, std::move(p.waits_ns), p.cpu);
  locks.clear();
  spare_locks.clear();
  clients.clear();
  return p.errors + warm_errors == 0 && p.cycles > 0 ? 0 : 1;
}

// The follower's side of one handoff: set by its listener.
struct Told {
  std::mutex mu;
  std::condition_variable cv;
  int64_t at = 0;
};

int RunHandoff(const Args& args) {
  std::unique_ptr<zk::Client> clients[2];
  for (auto& client : clients) {
    absl::StatusOr<std::unique_ptr<zk::Client>> c = ConnectClient(args.hosts);
    if (!c.ok()) {
      std::fprintf(stderr, "connect: %s\n", c.status().ToString().c_str());
      return 1;
    }
    client = *std::move(c);
  }
  std::unique_ptr<zk::recipes::LeaderElection> elections[2];
  zk::Subscription subscriptions[2];
  int seq = 0;
  auto make = [&](int side) -> absl::Status {
    ZK_ASSIGN_OR_RETURN(elections[side],
                        zk::recipes::LeaderElection::Create(
                            *clients[side], args.path,
                            {.participant_id = absl::StrCat("participant-", seq++)}));
    return absl::OkStatus();
  };
  if (absl::Status s = make(0); !s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  if (absl::Status s = elections[0]->Start(); !s.ok()) return 1;
  if (absl::Status s = elections[0]->AwaitLeadership(std::chrono::seconds(30)); !s.ok()) {
    std::fprintf(stderr, "first leader: %s\n", s.ToString().c_str());
    return 1;
  }
  int leader = 0;
  int64_t errors = 0;
  std::vector<double> latencies;
  CpuTime cpu0{}, cpu1{};
  const int total = args.warmup_handoffs + args.handoffs;
  for (int i = 0; i < total; ++i) {
    if (i == args.warmup_handoffs) cpu0 = ProcessCpuTime();
    const int follower = 1 - leader;
    auto told = std::make_shared<Told>();
    if (absl::Status s = make(follower); !s.ok()) return 1;
    subscriptions[follower] =
        elections[follower]->AddListener([told](const zk::recipes::LeadershipEvent& event) {
          if (!event.is_leader) return;
          const int64_t now = NowNanos();
          std::lock_guard<std::mutex> lock(told->mu);
          if (told->at == 0) told->at = now;
          told->cv.notify_all();
        });
    if (absl::Status s = elections[follower]->Start(); !s.ok()) return 1;
    // Queued: both nodes listed; then give the follower time to set its watch.
    for (int tries = 0;; ++tries) {
      absl::StatusOr<zk::ChildrenResult> children = clients[follower]->GetChildren(args.path);
      if (children.ok() && children->children.size() >= 2) break;
      if (tries > 10000) {
        std::fprintf(stderr, "follower never queued\n");
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (elections[follower]->IsLeader()) ++errors;
    const int64_t t0 = NowNanos();
    subscriptions[leader] = zk::Subscription();
    elections[leader].reset();  // leaves: deletes its node
    int64_t t1 = 0;
    {
      std::unique_lock<std::mutex> lock(told->mu);
      told->cv.wait_for(lock, std::chrono::seconds(30), [&] { return told->at != 0; });
      t1 = told->at;
    }
    if (t1 == 0) {
      std::fprintf(stderr, "handoff %d: follower never told\n", i);
      return 1;
    }
    if (i >= args.warmup_handoffs) latencies.push_back(static_cast<double>(t1 - t0));
    leader = follower;
  }
  cpu1 = ProcessCpuTime();
  double sum = 0;
  for (double l : latencies) sum += l;
  const int64_t count = static_cast<int64_t>(latencies.size());  // before the move below
  PrintResult(count, errors, sum / 1e9, std::move(latencies),
              {cpu1.user_us - cpu0.user_us, cpu1.sys_us - cpu0.sys_us});
  for (auto& s : subscriptions) s = zk::Subscription();
  for (auto& e : elections) e.reset();
  return errors == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: %s --hosts=H --path=/p --workload=lock|handoff [--contenders=N "
                 "--seconds=S --warmup_seconds=W] [--handoffs=N --warmup_handoffs=N]\n",
                 argv[0]);
    return 2;
  }
  // A hung run must not outlive the benchmark.
  const double budget = args.workload == "lock"
                            ? args.seconds + args.warmup_seconds + 120
                            : (args.handoffs + args.warmup_handoffs) * 2.0 + 120;
  std::thread([budget] {
    std::this_thread::sleep_for(std::chrono::duration<double>(budget));
    std::fprintf(stderr, "zkcpp recipes driver: watchdog expired\n");
    std::_Exit(3);
  }).detach();
  return args.workload == "lock" ? RunLock(args) : RunHandoff(args);
}

}  // namespace
}  // namespace zkbench

int main(int argc, char** argv) { return zkbench::Main(argc, argv); }
