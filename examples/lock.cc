// zkcpp example: a distributed lock (zk::recipes::Lock) with a fencing token and a guarded write.
//
// Two workers, each with its own client (as two processes would have), take turns on one lock.
// While holding it, each writes the lock's fencing token to a shared node with GuardedMulti:
// the write commits only while the lock is still held. It checks that the workers never hold
// the lock at once, that tokens grow from one holder to the next, and that a holder whose
// lock node is gone cannot write.
//
// Run: zkcpp-example-lock                     (an embedded server in-process)
//      zkcpp-example-lock --connect=host:2181  (a real ensemble)

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "example_main.h"
#include "zk/recipes/lock.h"

namespace {

struct Record {
  int holders = 0;   // workers inside the critical section right now
  int overlaps = 0;  // times a worker entered while another was inside
  std::vector<int64_t> tokens;  // fencing tokens, in the order the lock was held
};

absl::Status Worker(const zk_example::Env& env, int id, zk_example::SharedState<Record>& record) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Lock> lock,
                      zk::recipes::Lock::Create(*client, env.root() + "/lock"));
  for (int round = 0; round < 4; ++round) {
    ZK_ASSIGN_OR_RETURN(zk::recipes::LockGuard guard, lock->Acquire(std::chrono::seconds(10)));
    record.Update([&](Record& r) {
      if (++r.holders > 1) ++r.overlaps;
      r.tokens.push_back(guard.fencing_token());
    });
    // Fencing: this write commits only while the lock node still exists.
    ZK_RETURN_IF_ERROR(guard.GuardedMulti({zk::op::Set{.path = env.root() + "/owner",
                                                       .data = std::to_string(id)}})
                           .status());
    std::printf("  worker %d holds the lock, token %lld\n", id,
                static_cast<long long>(guard.fencing_token()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    record.Update([](Record& r) { --r.holders; });
    ZK_RETURN_IF_ERROR(guard.Release());
  }
  return absl::OkStatus();
}

absl::Status Run(const zk_example::Env& env) {
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client, env.Connect());
  ZK_RETURN_IF_ERROR(client->Create(env.root() + "/owner", "", {.create_parents = true}).status());

  zk_example::SharedState<Record> record;
  absl::Status results[2];
  std::thread a([&] { results[0] = Worker(env, 1, record); });
  std::thread b([&] { results[1] = Worker(env, 2, record); });
  a.join();
  b.join();
  ZK_RETURN_IF_ERROR(results[0]);
  ZK_RETURN_IF_ERROR(results[1]);

  const Record r = record.Get();
  ZK_RETURN_IF_ERROR(zk_example::Claim(r.overlaps == 0 && r.tokens.size() == 8,
                                       "the two workers never held the lock at once"));
  bool growing = true;
  for (size_t i = 1; i < r.tokens.size(); ++i) growing &= r.tokens[i] > r.tokens[i - 1];
  ZK_RETURN_IF_ERROR(zk_example::Claim(growing, "fencing tokens grow from holder to holder"));

  // A holder whose lock node is gone (its session expired, say) cannot write any more: the
  // check that GuardedMulti puts first fails on the server, so the set does not commit.
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::recipes::Lock> lock,
                      zk::recipes::Lock::Create(*client, env.root() + "/lock"));
  ZK_ASSIGN_OR_RETURN(zk::recipes::LockGuard stale, lock->Acquire(std::chrono::seconds(10)));
  ZK_RETURN_IF_ERROR(client->Delete(stale.node_path()));
  absl::Status late =
      stale.GuardedMulti({zk::op::Set{.path = env.root() + "/owner", .data = "stale"}}).status();
  std::printf("  write by a holder whose node is gone: %s\n", late.ToString().c_str());
  ZK_ASSIGN_OR_RETURN(zk::GetResult owner, client->Get(env.root() + "/owner"));
  return zk_example::Claim(!late.ok() && owner.data != "stale",
                           "a stale holder's write is refused");
}

}  // namespace

int main(int argc, char** argv) { return zk_example::RunExample(argc, argv, "lock", Run); }
