// zkcpp — C++20 coroutine awaiters over zk::Client's callback API.
//
// Each function in zk::co starts the matching Async* call when awaited and resumes the awaiting
// coroutine with its absl::StatusOr result. They work inside any coroutine type (your framework's
// task, or a hand-written one); zkcpp does not impose one.
//
//   MyTask UpdateConfig(zk::Client& client) {
//     absl::StatusOr<zk::GetResult> got = co_await zk::co::Get(client, "/config");
//     if (!got.ok()) co_return;
//     absl::StatusOr<zk::Stat> set =
//         co_await zk::co::Set(client, "/config", "v2", got->stat.version);
//   }
//
// Threading: the coroutine resumes on the client's callback executor (the dispatcher thread by
// default, the event-loop thread with CallbackExecution::kInline — then it must not block).
// Lifetime: the client must outlive the await; if the client is closed meanwhile, the await
// resumes with Cancelled (on a closed client, at once on the awaiting thread). Names are zk::co::X so they cannot be mistaken for Client::AsyncX.

#ifndef ZK_CORO_H_
#define ZK_CORO_H_

#include <coroutine>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "zk/client.h"

namespace zk::co {

// An awaitable that starts an async operation when awaited. Move-only; await it once.
template <typename T>
class [[nodiscard]] Awaitable {
 public:
  using Starter = absl::AnyInvocable<void(Callback<T>) &&>;
  explicit Awaitable(Starter start) : start_(std::move(start)) {}
  Awaitable(Awaitable&&) = default;
  Awaitable& operator=(Awaitable&&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle) {
    // The callback may resume (and so destroy) this awaiter on another thread before `start`
    // returns: nothing of *this may be touched after the call, hence the local.
    Starter start = std::move(start_);
    std::move(start)([this, handle](absl::StatusOr<T> result) mutable {
      result_.emplace(std::move(result));
      handle.resume();
    });
  }
  absl::StatusOr<T> await_resume() { return std::move(*result_); }

 private:
  Starter start_;
  std::optional<absl::StatusOr<T>> result_;
};

// An absl::Status-valued variant, for ops whose result is only a status.
class [[nodiscard]] StatusAwaitable {
 public:
  using Starter = absl::AnyInvocable<void(StatusCallback) &&>;
  explicit StatusAwaitable(Starter start) : start_(std::move(start)) {}
  StatusAwaitable(StatusAwaitable&&) = default;
  StatusAwaitable& operator=(StatusAwaitable&&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle) {
    Starter start = std::move(start_);
    std::move(start)([this, handle](absl::Status status) mutable {
      status_ = std::move(status);
      handle.resume();
    });
  }
  absl::Status await_resume() { return std::move(status_); }

 private:
  Starter start_;
  absl::Status status_;
};

// Awaitable forms of the Client operations; arguments and errors as in zk/client.h.
//
// No function here has a default argument: GCC 12 destroys the temporary of a default argument
// twice when the call is the operand of co_await. The shorter forms are overloads instead.
inline Awaitable<CreateResult> Create(Client& client, std::string_view path, std::string_view data,
                                      CreateOptions options) {
  return Awaitable<CreateResult>([&client, path = std::string(path), data = std::string(data),
                                  options = std::move(options)](Callback<CreateResult> done) mutable {
    client.AsyncCreate(path, data, std::move(options), std::move(done));
  });
}

inline Awaitable<CreateResult> Create(Client& client, std::string_view path,
                                      std::string_view data) {
  return Create(client, path, data, CreateOptions());
}

inline StatusAwaitable Delete(Client& client, std::string_view path,
                              std::optional<int32_t> expected_version) {
  return StatusAwaitable([&client, path = std::string(path), expected_version](StatusCallback done) mutable {
    client.AsyncDelete(path, expected_version, std::move(done));
  });
}

inline StatusAwaitable Delete(Client& client, std::string_view path) {
  return Delete(client, path, std::nullopt);
}

inline Awaitable<std::optional<Stat>> Exists(Client& client, std::string_view path) {
  return Awaitable<std::optional<Stat>>(
      [&client, path = std::string(path)](Callback<std::optional<Stat>> done) mutable {
        client.AsyncExists(path, std::move(done));
      });
}

inline Awaitable<GetResult> Get(Client& client, std::string_view path) {
  return Awaitable<GetResult>([&client, path = std::string(path)](Callback<GetResult> done) mutable {
    client.AsyncGet(path, std::move(done));
  });
}

inline Awaitable<Stat> Set(Client& client, std::string_view path, std::string_view data,
                           std::optional<int32_t> expected_version) {
  return Awaitable<Stat>([&client, path = std::string(path), data = std::string(data),
                          expected_version](Callback<Stat> done) mutable {
    client.AsyncSet(path, data, expected_version, std::move(done));
  });
}

inline Awaitable<Stat> Set(Client& client, std::string_view path, std::string_view data) {
  return Set(client, path, data, std::nullopt);
}

inline Awaitable<ChildrenResult> GetChildren(Client& client, std::string_view path) {
  return Awaitable<ChildrenResult>(
      [&client, path = std::string(path)](Callback<ChildrenResult> done) mutable {
        client.AsyncGetChildren(path, std::move(done));
      });
}

inline Awaitable<MultiResult> Multi(Client& client, std::vector<Op> ops) {
  return Awaitable<MultiResult>([&client, ops = std::move(ops)](Callback<MultiResult> done) mutable {
    client.AsyncMulti(std::move(ops), std::move(done));
  });
}

inline StatusAwaitable Sync(Client& client, std::string_view path) {
  return StatusAwaitable([&client, path = std::string(path)](StatusCallback done) mutable {
    client.AsyncSync(path, std::move(done));
  });
}

inline Awaitable<std::vector<ClientIdentity>> WhoAmI(Client& client) {
  return Awaitable<std::vector<ClientIdentity>>(
      [&client](Callback<std::vector<ClientIdentity>> done) mutable {
        client.AsyncWhoAmI(std::move(done));
      });
}

inline Awaitable<std::vector<std::string>> GetEphemerals(Client& client, std::string_view prefix) {
  return Awaitable<std::vector<std::string>>(
      [&client, prefix = std::string(prefix)](Callback<std::vector<std::string>> done) mutable {
        client.AsyncGetEphemerals(prefix, std::move(done));
      });
}

inline Awaitable<std::vector<std::string>> GetEphemerals(Client& client) {
  return GetEphemerals(client, "/");
}

inline Awaitable<int32_t> GetAllChildrenNumber(Client& client, std::string_view path) {
  return Awaitable<int32_t>([&client, path = std::string(path)](Callback<int32_t> done) mutable {
    client.AsyncGetAllChildrenNumber(path, std::move(done));
  });
}

inline Awaitable<MultiReadResult> MultiRead(Client& client, std::vector<ReadOp> ops) {
  return Awaitable<MultiReadResult>(
      [&client, ops = std::move(ops)](Callback<MultiReadResult> done) mutable {
        client.AsyncMultiRead(std::move(ops), std::move(done));
      });
}

}  // namespace zk::co

#endif  // ZK_CORO_H_
