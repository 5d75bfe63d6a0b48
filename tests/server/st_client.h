// StClient: a test driver for Debian's single-threaded libzookeeper_st, used
// as a foreign client of the embedded server. It runs the library's I/O on
// the calling thread (zookeeper_interest + poll + zookeeper_process) and
// offers blocking wrappers with deadlines.

#ifndef ZK_TESTS_SERVER_ST_CLIENT_H_
#define ZK_TESTS_SERVER_ST_CLIENT_H_

#include <zookeeper/zookeeper.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace zk::testing {

// Drives one zhandle_t. Thread-compatible: use from one thread.
class StClient {
 public:
  // Returned by the blocking wrappers when the completion did not arrive.
  static constexpr int kTimedOut = -99999;

  struct Event {
    int type;
    int state;
    std::string path;
  };

  explicit StClient(const std::string& hosts, int timeout_ms = 4000,
                    const clientid_t* client_id = nullptr, int flags = 0);
  ~StClient();
  StClient(const StClient&) = delete;
  StClient& operator=(const StClient&) = delete;

  zhandle_t* handle() { return handle_; }
  int64_t session_id() const;
  const clientid_t* client_id() const;
  int state() const;
  int recv_timeout() const;

  // Runs the library for up to `max_ms`.
  void Pump(int max_ms);
  // Pumps until `done()` or the deadline; returns done().
  bool WaitFor(const std::function<bool()>& done, int timeout_ms = 5000);
  bool WaitConnected(int timeout_ms = 5000) {
    return WaitFor([this] { return state() == ZOO_CONNECTED_STATE; }, timeout_ms);
  }
  // Waits for a watch event of `type` on `path`.
  bool WaitEvent(int type, const std::string& path, int timeout_ms = 5000);
  // Counts watch events of `type` on `path` so far.
  int CountEvents(int type, const std::string& path) const;

  int Create(const std::string& path, const std::string& data, int flags = 0,
             std::string* created = nullptr, const ACL_vector* acl = &ZOO_OPEN_ACL_UNSAFE);
  int Create2(const std::string& path, const std::string& data, int flags, std::string* created,
              Stat* stat, int64_t ttl = -1);
  int Delete(const std::string& path, int version = -1);
  int Exists(const std::string& path, bool watch, Stat* stat = nullptr);
  int Get(const std::string& path, bool watch, std::string* data, Stat* stat = nullptr);
  int Set(const std::string& path, const std::string& data, int version = -1,
          Stat* stat = nullptr);
  int GetChildren(const std::string& path, bool watch, std::vector<std::string>* children,
                  Stat* stat = nullptr);
  int GetAcl(const std::string& path, std::vector<std::string>* acl_text, Stat* stat = nullptr);
  int SetAcl(const std::string& path, int version, const ACL_vector* acl);
  int Sync(const std::string& path);
  int AddAuth(const std::string& scheme, const std::string& credentials);
  int Multi(std::vector<zoo_op_t>& ops, std::vector<zoo_op_result_t>* results);
  int RemoveWatches(const std::string& path, ZooWatcherType type, bool all);

  std::vector<Event> events;

  // Holds the outcome of one asynchronous call (filled by its completion).
  struct Pending;

 private:
  int Await(Pending& pending, int submit_rc);
  static void OnWatch(zhandle_t* zh, int type, int state, const char* path, void* context);

  zhandle_t* handle_ = nullptr;
};

}  // namespace zk::testing

#endif  // ZK_TESTS_SERVER_ST_CLIENT_H_
