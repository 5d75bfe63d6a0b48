#include "sasl_session.h"

#include <sasl/sasl.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "string_util.h"

namespace zk::internal {
namespace {

// The server name ZooKeeper's server and Java client use for DIGEST-MD5 (ZooKeeperSaslClient).
constexpr std::string_view kDigestServerName = "zk-sasl-md5";

bool IsMechanism(std::string_view mechanism, std::string_view name) {
  return absl::EqualsIgnoreCase(absl::string_view(mechanism.data(), mechanism.size()),
                                absl::string_view(name.data(), name.size()));
}

// Cyrus calls these around its shared state when more than one thread uses it.
void* NewMutex() { return new std::mutex; }
int LockMutex(void* mutex) {
  static_cast<std::mutex*>(mutex)->lock();
  return SASL_OK;
}
int UnlockMutex(void* mutex) {
  static_cast<std::mutex*>(mutex)->unlock();
  return SASL_OK;
}
void FreeMutex(void* mutex) { delete static_cast<std::mutex*>(mutex); }

// Initializes Cyrus' client side once per process; the result is kept for every later call.
const absl::Status& InitializeCyrus() {
  static const absl::Status* const status = [] {
    sasl_set_mutex(&NewMutex, &LockMutex, &UnlockMutex, &FreeMutex);
    const int rc = sasl_client_init(nullptr);
    return new absl::Status(
        rc == SASL_OK ? absl::OkStatus()
                      : absl::InternalError(StrCat("connect: sasl_client_init: ",
                                                   sasl_errstring(rc, nullptr, nullptr))));
  }();
  return *status;
}

bool CyrusHasMechanism(std::string_view mechanism) {
  const char** names = sasl_global_listmech();
  for (; names != nullptr && *names != nullptr; ++names) {
    if (IsMechanism(mechanism, *names)) return true;
  }
  return false;
}

}  // namespace

struct SaslSession::Context {
  std::string user;
  // The password as Cyrus takes it: a sasl_secret_t (length, then the bytes), malloc'ed.
  sasl_secret_t* secret = nullptr;
  std::vector<sasl_callback_t> callbacks;
  ~Context() {
    if (secret != nullptr) {
      std::memset(secret->data, 0, secret->len);
      std::free(secret);
    }
  }
};

namespace {

// SASL_CB_AUTHNAME and SASL_CB_USER: the user is both the authentication and the authorization
// id, as in the Java client.
int GetUser(void* context, int id, const char** result, unsigned* size) {
  if (id != SASL_CB_AUTHNAME && id != SASL_CB_USER) return SASL_BADPARAM;
  const std::string& user = static_cast<const SaslSession::Context*>(context)->user;
  *result = user.c_str();
  if (size != nullptr) *size = static_cast<unsigned>(user.size());
  return SASL_OK;
}

int GetPassword(sasl_conn_t*, void* context, int id, sasl_secret_t** secret) {
  if (id != SASL_CB_PASS) return SASL_BADPARAM;
  *secret = static_cast<SaslSession::Context*>(context)->secret;
  return *secret != nullptr ? SASL_OK : SASL_FAIL;
}

// The server offers its realm ("zk-sasl-md5" for ZooKeeper): take the first one offered.
int GetRealm(void*, int id, const char** offered, const char** result) {
  if (id != SASL_CB_GETREALM) return SASL_BADPARAM;
  *result = offered != nullptr && offered[0] != nullptr ? offered[0] : "";
  return SASL_OK;
}

template <typename F>
sasl_callback_t Callback(unsigned long id, F* function, void* context) {
  // Cyrus stores every callback as int(*)(void) and calls it by its id's real type. Through
  // void(*)(void), the generic function pointer type, the cast says it is on purpose.
  return sasl_callback_t{
      id, reinterpret_cast<int (*)(void)>(reinterpret_cast<void (*)(void)>(function)), context};
}

}  // namespace

absl::Status ValidateSaslOptions(const SaslOptions& options) {
  if (options.mechanism.empty()) {
    return absl::InvalidArgumentError("connect: sasl.mechanism is empty");
  }
  if (options.service.empty()) {
    return absl::InvalidArgumentError("connect: sasl.service is empty");
  }
  if (!IsMechanism(options.mechanism, "GSSAPI")) {
    if (options.user.empty()) {
      return absl::InvalidArgumentError(
          StrCat("connect: sasl.user is empty (", options.mechanism, " needs a user name)"));
    }
    if (options.password.empty() == !options.password_callback) {
      return absl::InvalidArgumentError(
          options.password.empty()
              ? StrCat("connect: sasl.password is empty and sasl.password_callback is not set (",
                       options.mechanism, " needs a password)")
              : "connect: both sasl.password and sasl.password_callback are set; set one");
    }
  }
  if (const absl::Status& initialized = InitializeCyrus(); !initialized.ok()) return initialized;
  if (!CyrusHasMechanism(options.mechanism)) {
    return absl::InvalidArgumentError(
        StrCat("connect: sasl.mechanism \"", options.mechanism,
               "\" has no Cyrus SASL plugin here (install its libsasl2-modules package)"));
  }
  return absl::OkStatus();
}

std::string SaslServerName(const SaslOptions& options, std::string_view connected_host) {
  if (!options.host.empty()) return options.host;
  if (IsMechanism(options.mechanism, "DIGEST-MD5")) return std::string(kDigestServerName);
  return std::string(connected_host);
}

SaslSession::SaslSession(std::unique_ptr<Context> context)
    : context_(std::move(context)), user_(context_->user) {}

SaslSession::~SaslSession() {
  if (conn_ != nullptr) sasl_dispose(&conn_);
}

absl::StatusOr<std::unique_ptr<SaslSession>> SaslSession::Start(const SaslOptions& options,
                                                                std::string_view connected_host,
                                                                Step* first) {
  if (const absl::Status& initialized = InitializeCyrus(); !initialized.ok()) return initialized;
  auto context = std::make_unique<Context>();
  context->user = options.user;
  const std::string password =
      options.password_callback ? options.password_callback() : options.password;
  void* const self = context.get();
  context->callbacks.push_back(Callback(SASL_CB_AUTHNAME, &GetUser, self));
  context->callbacks.push_back(Callback(SASL_CB_USER, &GetUser, self));
  context->callbacks.push_back(Callback(SASL_CB_GETREALM, &GetRealm, self));
  if (!password.empty()) {
    context->secret =
        static_cast<sasl_secret_t*>(std::malloc(sizeof(sasl_secret_t) + password.size()));
    if (context->secret == nullptr) return absl::ResourceExhaustedError("SASL: out of memory");
    context->secret->len = password.size();
    std::memcpy(context->secret->data, password.data(), password.size());
    context->callbacks.push_back(Callback(SASL_CB_PASS, &GetPassword, self));
  }
  context->callbacks.push_back(sasl_callback_t{SASL_CB_LIST_END, nullptr, nullptr});

  std::unique_ptr<SaslSession> session(new SaslSession(std::move(context)));
  const std::string server = SaslServerName(options, connected_host);
  int rc = sasl_client_new(options.service.c_str(), server.c_str(), nullptr, nullptr,
                           session->context_->callbacks.data(), 0, &session->conn_);
  if (rc != SASL_OK) {
    return absl::UnauthenticatedError(
        StrCat("sasl_client_new: ", sasl_errstring(rc, nullptr, nullptr)));
  }
  // Authentication only: ZooKeeper never wraps its frames in a SASL security layer.
  sasl_security_properties_t properties{};
  properties.min_ssf = 0;
  properties.max_ssf = 0;
  rc = sasl_setprop(session->conn_, SASL_SEC_PROPS, &properties);
  if (rc != SASL_OK) return absl::UnauthenticatedError(session->CyrusError("sasl_setprop", rc));

  const char* out = nullptr;
  unsigned out_size = 0;
  const char* chosen = nullptr;
  rc = sasl_client_start(session->conn_, options.mechanism.c_str(), nullptr, &out, &out_size,
                         &chosen);
  absl::StatusOr<Step> step = session->Next("sasl_client_start", rc, out, out_size);
  if (!step.ok()) return step.status();
  *first = *std::move(step);
  first->send = true;  // the server waits for a first packet, empty or not
  return session;
}

absl::StatusOr<SaslSession::Step> SaslSession::Answer(std::string_view challenge) {
  if (complete_) return Step{.send = false, .token = {}, .complete = true};
  const char* out = nullptr;
  unsigned out_size = 0;
  const int rc = sasl_client_step(conn_, challenge.data(), static_cast<unsigned>(challenge.size()),
                                  nullptr, &out, &out_size);
  return Next("sasl_client_step", rc, out, out_size);
}

absl::StatusOr<SaslSession::Step> SaslSession::Next(std::string_view what, int rc,
                                                    const char* out, unsigned out_size) {
  if (rc != SASL_OK && rc != SASL_CONTINUE) {
    return absl::UnauthenticatedError(CyrusError(what, rc));
  }
  Step step;
  step.token.assign(out != nullptr ? out : "", out != nullptr ? out_size : 0);
  step.complete = complete_ = rc == SASL_OK;
  // An exchange Cyrus finished with nothing left to say needs no further packet.
  step.send = !step.complete || !step.token.empty();
  return step;
}

std::string SaslSession::CyrusError(std::string_view what, int rc) const {
  if (rc == SASL_INTERACT) {
    return StrCat(what, ": the mechanism asks for something zkcpp does not supply");
  }
  const char* detail = conn_ != nullptr ? sasl_errdetail(conn_) : nullptr;
  return StrCat(what, ": ",
                detail != nullptr && *detail != '\0' ? detail
                                                     : sasl_errstring(rc, nullptr, nullptr));
}

}  // namespace zk::internal
