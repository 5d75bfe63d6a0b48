#include "st_client.h"

#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>

namespace zk::testing {

struct StClient::Pending {
  bool done = false;
  int rc = 0;
  std::string text;
  Stat stat{};
  std::vector<std::string> strings;
};

namespace {

using Clock = std::chrono::steady_clock;

void VoidDone(int rc, const void* data) {
  auto* p = static_cast<StClient::Pending*>(const_cast<void*>(data));
  p->rc = rc;
  p->done = true;
}

void StringDone(int rc, const char* value, const void* data) {
  auto* p = static_cast<StClient::Pending*>(const_cast<void*>(data));
  p->rc = rc;
  if (value != nullptr) p->text = value;
  p->done = true;
}

void StringStatDone(int rc, const char* value, const Stat* stat, const void* data) {
  auto* p = static_cast<StClient::Pending*>(const_cast<void*>(data));
  p->rc = rc;
  if (value != nullptr) p->text = value;
  if (stat != nullptr) p->stat = *stat;
  p->done = true;
}

void StatDone(int rc, const Stat* stat, const void* data) {
  auto* p = static_cast<StClient::Pending*>(const_cast<void*>(data));
  p->rc = rc;
  if (stat != nullptr) p->stat = *stat;
  p->done = true;
}

void DataDone(int rc, const char* value, int value_len, const Stat* stat, const void* data) {
  auto* p = static_cast<StClient::Pending*>(const_cast<void*>(data));
  p->rc = rc;
  if (value != nullptr && value_len > 0) p->text.assign(value, value_len);
  if (stat != nullptr) p->stat = *stat;
  p->done = true;
}

void StringsStatDone(int rc, const String_vector* strings, const Stat* stat, const void* data) {
  auto* p = static_cast<StClient::Pending*>(const_cast<void*>(data));
  p->rc = rc;
  if (strings != nullptr) {
    for (int i = 0; i < strings->count; ++i) p->strings.push_back(strings->data[i]);
  }
  if (stat != nullptr) p->stat = *stat;
  p->done = true;
}

void AclDone(int rc, ACL_vector* acl, Stat* stat, const void* data) {
  auto* p = static_cast<StClient::Pending*>(const_cast<void*>(data));
  p->rc = rc;
  if (acl != nullptr) {
    for (int i = 0; i < acl->count; ++i) {
      p->strings.push_back(std::to_string(acl->data[i].perms) + " " + acl->data[i].id.scheme +
                           ":" + acl->data[i].id.id);
    }
  }
  if (stat != nullptr) p->stat = *stat;
  p->done = true;
}

}  // namespace

StClient::StClient(const std::string& hosts, int timeout_ms, const clientid_t* client_id,
                   int flags) {
  zoo_set_debug_level(static_cast<ZooLogLevel>(0));
  handle_ = zookeeper_init(hosts.c_str(), &StClient::OnWatch, timeout_ms, client_id, this, flags);
}

StClient::~StClient() {
  if (handle_ != nullptr) zookeeper_close(handle_);
}

void StClient::OnWatch(zhandle_t* zh, int type, int state, const char* path, void* context) {
  auto* self = static_cast<StClient*>(context);
  self->events.push_back(Event{type, state, path == nullptr ? "" : path});
}

int64_t StClient::session_id() const { return zoo_client_id(handle_)->client_id; }
const clientid_t* StClient::client_id() const { return zoo_client_id(handle_); }
int StClient::state() const { return zoo_state(handle_); }
int StClient::recv_timeout() const { return zoo_recv_timeout(handle_); }

void StClient::Pump(int max_ms) {
  int fd = -1;
  int interest = 0;
  timeval tv{};
  int rc = zookeeper_interest(handle_, &fd, &interest, &tv);
  if (rc != ZOK && rc != ZCONNECTIONLOSS && rc != ZOPERATIONTIMEOUT) {
    poll(nullptr, 0, std::min(max_ms, 10));
    return;
  }
  int wait_ms = static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000);
  wait_ms = std::clamp(wait_ms, 0, max_ms);
  int events = 0;
  if (fd >= 0) {
    pollfd pfd{fd, 0, 0};
    if (interest & ZOOKEEPER_READ) pfd.events |= POLLIN;
    if (interest & ZOOKEEPER_WRITE) pfd.events |= POLLOUT;
    if (poll(&pfd, 1, wait_ms) > 0) {
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) events |= ZOOKEEPER_READ;
      if (pfd.revents & POLLOUT) events |= ZOOKEEPER_WRITE;
    }
  } else {
    poll(nullptr, 0, wait_ms);
  }
  zookeeper_process(handle_, events);
}

bool StClient::WaitFor(const std::function<bool()>& done, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    Pump(static_cast<int>(std::min<int64_t>(left.count(), 50)));
  }
  return true;
}

int StClient::CountEvents(int type, const std::string& path) const {
  return static_cast<int>(std::count_if(events.begin(), events.end(), [&](const Event& e) {
    return e.type == type && e.path == path;
  }));
}

bool StClient::WaitEvent(int type, const std::string& path, int timeout_ms) {
  return WaitFor([&] { return CountEvents(type, path) > 0; }, timeout_ms);
}

int StClient::Await(Pending& pending, int submit_rc) {
  if (submit_rc != ZOK) return submit_rc;
  if (!WaitFor([&] { return pending.done; }, 10000)) {
    // The completion still points at `pending`: close the handle so that the
    // library flushes it before `pending` goes out of scope.
    zookeeper_close(handle_);
    handle_ = nullptr;
    return kTimedOut;
  }
  return pending.rc;
}

int StClient::Create(const std::string& path, const std::string& data, int flags,
                     std::string* created, const ACL_vector* acl) {
  Pending p;
  int rc = Await(p, zoo_acreate(handle_, path.c_str(), data.data(), static_cast<int>(data.size()),
                                acl, flags, StringDone, &p));
  if (created != nullptr) *created = p.text;
  return rc;
}

int StClient::Create2(const std::string& path, const std::string& data, int flags,
                      std::string* created, Stat* stat, int64_t ttl) {
  Pending p;
  int rc = Await(p, zoo_acreate2_ttl(handle_, path.c_str(), data.data(),
                                     static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE, flags,
                                     ttl, StringStatDone, &p));
  if (created != nullptr) *created = p.text;
  if (stat != nullptr) *stat = p.stat;
  return rc;
}

int StClient::Delete(const std::string& path, int version) {
  Pending p;
  return Await(p, zoo_adelete(handle_, path.c_str(), version, VoidDone, &p));
}

int StClient::Exists(const std::string& path, bool watch, Stat* stat) {
  Pending p;
  int rc = Await(p, zoo_aexists(handle_, path.c_str(), watch, StatDone, &p));
  if (stat != nullptr) *stat = p.stat;
  return rc;
}

int StClient::Get(const std::string& path, bool watch, std::string* data, Stat* stat) {
  Pending p;
  int rc = Await(p, zoo_aget(handle_, path.c_str(), watch, DataDone, &p));
  if (data != nullptr) *data = p.text;
  if (stat != nullptr) *stat = p.stat;
  return rc;
}

int StClient::Set(const std::string& path, const std::string& data, int version, Stat* stat) {
  Pending p;
  int rc = Await(p, zoo_aset(handle_, path.c_str(), data.data(), static_cast<int>(data.size()),
                             version, StatDone, &p));
  if (stat != nullptr) *stat = p.stat;
  return rc;
}

int StClient::GetChildren(const std::string& path, bool watch,
                          std::vector<std::string>* children, Stat* stat) {
  Pending p;
  int rc = Await(p, zoo_aget_children2(handle_, path.c_str(), watch, StringsStatDone, &p));
  if (children != nullptr) {
    *children = p.strings;
    std::sort(children->begin(), children->end());
  }
  if (stat != nullptr) *stat = p.stat;
  return rc;
}

int StClient::GetAcl(const std::string& path, std::vector<std::string>* acl_text, Stat* stat) {
  Pending p;
  int rc = Await(p, zoo_aget_acl(handle_, path.c_str(), AclDone, &p));
  if (acl_text != nullptr) *acl_text = p.strings;
  if (stat != nullptr) *stat = p.stat;
  return rc;
}

int StClient::SetAcl(const std::string& path, int version, const ACL_vector* acl) {
  Pending p;
  return Await(p, zoo_aset_acl(handle_, path.c_str(), version, const_cast<ACL_vector*>(acl),
                               VoidDone, &p));
}

int StClient::Sync(const std::string& path) {
  Pending p;
  return Await(p, zoo_async(handle_, path.c_str(), StringDone, &p));
}

int StClient::AddAuth(const std::string& scheme, const std::string& credentials) {
  Pending p;
  return Await(p, zoo_add_auth(handle_, scheme.c_str(), credentials.data(),
                               static_cast<int>(credentials.size()), VoidDone, &p));
}

int StClient::Multi(std::vector<zoo_op_t>& ops, std::vector<zoo_op_result_t>* results) {
  Pending p;
  results->assign(ops.size(), zoo_op_result_t{});
  return Await(p, zoo_amulti(handle_, static_cast<int>(ops.size()), ops.data(), results->data(),
                             VoidDone, &p));
}

int StClient::RemoveWatches(const std::string& path, ZooWatcherType type, bool all) {
  Pending p;
  // The 3.8 header declares the completion as void_completion_t*, but the
  // library calls it as a void_completion_t: pass the function itself.
  auto* completion = reinterpret_cast<void_completion_t*>(&VoidDone);
  if (all) {
    return Await(p, zoo_aremove_all_watches(handle_, path.c_str(), type, 0, completion, &p));
  }
  return Await(p, zoo_aremove_watches(handle_, path.c_str(), type, &StClient::OnWatch, this, 0,
                                      completion, &p));
}

}  // namespace zk::testing
