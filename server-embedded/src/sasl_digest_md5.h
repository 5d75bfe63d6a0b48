// DigestMd5Server: the server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper 3.8 runs it
// (Java's DIGEST-MD5 server created with protocol "zookeeper" and server name "zk-sasl-md5",
// users from the JAAS "Server" section): initial authentication only, qop "auth" only.

#ifndef ZK_SERVER_EMBEDDED_SRC_SASL_DIGEST_MD5_H_
#define ZK_SERVER_EMBEDDED_SRC_SASL_DIGEST_MD5_H_

#include <map>
#include <string>
#include <string_view>

namespace zk::testing::internal {

// The realm ZooKeeper's DIGEST-MD5 server offers (its server name) and the digest-uri a client
// must answer with.
inline constexpr std::string_view kSaslRealm = "zk-sasl-md5";
inline constexpr std::string_view kSaslDigestUri = "zookeeper/zk-sasl-md5";
// Tokens longer than this are refused, as Java's DIGEST-MD5 server does.
inline constexpr size_t kSaslMaxResponseLength = 4096;

// What one client token led to.
struct SaslStep {
  enum class Outcome {
    // Send `token` (the digest-challenge) and wait for the client's digest-response.
    kChallenge,
    // Authenticated as `authorization_id`: send `token` ("rspauth=...").
    kComplete,
    // Authentication failed (`error` says why): ZooKeeper answers AUTHFAILED and closes.
    kFailed,
    // A malformed number made Java's server throw an unchecked exception: ZooKeeper closes
    // the connection without an answer.
    kDropped,
  };
  Outcome outcome = Outcome::kFailed;
  std::string token;
  std::string authorization_id;
  std::string error;
};

// Returns the digest-response value (32 hex digits) of RFC 2831 section 2.1.2.1 for
// `method` "AUTHENTICATE" (the client's response) or "" (the server's rspauth), qop "auth",
// nonce-count 1. `authzid` is left out of A1 when null. User name, realm and password are
// given in UTF-8 and hashed in ISO 8859-1 when they fit it, as RFC 2831 (and Java) do.
std::string DigestMd5ResponseValue(std::string_view method, std::string_view digest_uri,
                                   std::string_view username, std::string_view realm,
                                   std::string_view password, std::string_view nonce,
                                   std::string_view cnonce, const std::string* authzid);

// Runs one DIGEST-MD5 exchange: the first token (whatever it holds) gets the challenge, the
// second is verified against `users`; any further token fails.
//
// Thread-compatible.
class DigestMd5Server {
 public:
  // `users` maps user names to passwords and must outlive the server. `nonce` is the nonce of
  // the challenge (see NewNonce()).
  DigestMd5Server(const std::map<std::string, std::string>* users, std::string nonce);

  // Returns a fresh nonce: 30 random bytes in base64 (40 characters), as Java's server sends.
  static std::string NewNonce();

  // Evaluates one client token.
  SaslStep Evaluate(std::string_view response);

 private:
  enum class Stage { kInitial, kAwaitingResponse, kDone };

  SaslStep Verify(std::string_view response);

  const std::map<std::string, std::string>* users_;
  std::string nonce_;
  Stage stage_ = Stage::kInitial;
};

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_SASL_DIGEST_MD5_H_
