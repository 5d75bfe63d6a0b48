// zkcpp example: a read/write lock (zk::recipes::ReadWriteLock): readers share, a writer is
// alone.
//
// Two readers and a writer, each with its own client (as separate processes would have). Both
// readers take the read lock at once; the writer queues behind them and gets the write lock
// only after both readers release; while it writes, a reader cannot get in. Each step is
// checked.
//
// Run: zkcpp-example-read-write-lock                     (an embedded server in-process)
//      zkcpp-example-read-write-lock --connect=host:2181  (a real ensemble)

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "example_main.h"
#include "zk/recipes/lock.h"

namespace {

using zk::recipes::LockGuard;
using zk::recipes::ReadWriteLock;

absl::Status Run(const zk_example::Env& env) {
  const std::string path = env.root() + "/rwlock";
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client_a, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client_b, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> client_w, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ReadWriteLock> reader_a,
                      ReadWriteLock::Create(*client_a, path));
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ReadWriteLock> reader_b,
                      ReadWriteLock::Create(*client_b, path));
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ReadWriteLock> writer,
                      ReadWriteLock::Create(*client_w, path));

  // Readers share.
  ZK_ASSIGN_OR_RETURN(LockGuard read_a, reader_a->ReadLock().Acquire(std::chrono::seconds(10)));
  ZK_ASSIGN_OR_RETURN(LockGuard read_b, reader_b->ReadLock().Acquire(std::chrono::seconds(10)));
  std::printf("  readers A and B both hold the read lock\n");
  ZK_RETURN_IF_ERROR(zk_example::Claim(read_a.IsHeld() && read_b.IsHeld(), "readers share"));

  // The writer waits for both readers.
  std::atomic<bool> writing = false;
  absl::StatusOr<LockGuard> write = absl::UnknownError("not yet");
  std::thread writer_thread([&] {
    write = writer->WriteLock().Acquire(std::chrono::seconds(10));
    writing = write.ok();
  });
  // Wait until the writer's node is queued behind the readers' (three nodes), not for a while.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    ZK_ASSIGN_OR_RETURN(zk::ChildrenResult queued, client_a->GetChildren(path));
    if (queued.children.size() >= 3) break;
    if (std::chrono::steady_clock::now() > deadline) {
      writer_thread.join();
      return absl::DeadlineExceededError("read_write_lock: the writer never queued");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling pace
  }
  ZK_RETURN_IF_ERROR(zk_example::Claim(!writing, "the writer waits while readers hold"));
  // Release returns once reader A's node is gone: the writer still has reader B before it.
  ZK_RETURN_IF_ERROR(read_a.Release());
  ZK_RETURN_IF_ERROR(zk_example::Claim(!writing, "the writer still waits for the last reader"));
  ZK_RETURN_IF_ERROR(read_b.Release());
  writer_thread.join();
  ZK_RETURN_IF_ERROR(write.status());
  std::printf("  the writer holds the write lock (token %lld)\n",
              static_cast<long long>(write->fencing_token()));

  // While the writer holds, a reader cannot get in.
  ZK_ASSIGN_OR_RETURN(std::optional<LockGuard> try_read, reader_a->ReadLock().TryAcquire());
  ZK_RETURN_IF_ERROR(zk_example::Claim(!try_read.has_value(), "a writer excludes readers"));
  ZK_RETURN_IF_ERROR(write->Release());
  ZK_ASSIGN_OR_RETURN(LockGuard read_again,
                      reader_a->ReadLock().Acquire(std::chrono::seconds(10)));
  std::printf("  after the writer released, reader A reads again\n");
  return read_again.Release();
}

}  // namespace

int main(int argc, char** argv) {
  return zk_example::RunExample(argc, argv, "read_write_lock", Run);
}
