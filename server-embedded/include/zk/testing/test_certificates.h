// zkcpp testing: throw-away TLS key material for tests against a TLS ZooKeeper.
//
// TestCertificates makes, in a fresh temporary directory and with the `openssl` command-line
// tool (Debian's `openssl` package), a small test PKI of PEM files:
//   - a test CA, and a second, unrelated CA;
//   - server certificates signed by the test CA: a good one (subjectAltName IP:127.0.0.1 and
//     DNS:localhost), one that expired a day ago (same names), and one that names only
//     "zkcpp-elsewhere.invalid";
//   - a client certificate signed by the test CA;
//   - a CA directory in OpenSSL's hashed layout holding the test CA (TlsOptions::ca_directory).
// Each server key store is one ".pem" file with the unencrypted private key and the
// certificate, as RealZooKeeperTls::key_store takes it (ZooKeeper 3.8 reads PEM stores). Keys
// are EC P-256: generating the set takes a few hundred milliseconds. The destructor removes
// the directory (unless $ZKCPP_KEEP_TEST_DIRS is set).
//
// Example:
//   absl::StatusOr<std::unique_ptr<zk::testing::TestCertificates>> pki =
//       zk::testing::TestCertificates::Create();
//   zk::testing::RealZooKeeperOptions options;
//   options.tls = zk::testing::RealZooKeeperTls{.key_store = (*pki)->server_key_store(),
//                                               .trust_store = (*pki)->ca_file()};
//   ... zk::ClientOptions{.connect_string = server->secure_connect_string(),
//                         .tls = zk::TlsOptions{.ca_file = (*pki)->ca_file()}} ...

#ifndef ZK_TESTING_TEST_CERTIFICATES_H_
#define ZK_TESTING_TEST_CERTIFICATES_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace zk::testing {

// A set of test certificates on disk. Immutable after Create: thread-safe.
class TestCertificates {
 public:
  // Generates the set. Errors: NotFound (no `openssl` on PATH), Internal (a
  // step failed; the message holds the tool's output), DeadlineExceeded.
  static absl::StatusOr<std::unique_ptr<TestCertificates>> Create();
  ~TestCertificates();
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  const std::string& directory() const { return directory_; }
  // The test CA's certificate: the trust store of clients and of the server.
  std::string ca_file() const { return File("ca.pem"); }
  // A directory with the test CA's certificate under its subject hash (`openssl rehash`).
  std::string ca_directory() const { return File("ca-dir"); }
  // An unrelated CA's certificate: trusting only it, a client refuses every
  // server here.
  std::string other_ca_file() const { return File("other-ca.pem"); }
  // Server key stores (key + certificate, PEM).
  std::string server_key_store() const { return File("server-keystore.pem"); }
  std::string expired_server_key_store() const { return File("expired-keystore.pem"); }
  std::string elsewhere_server_key_store() const { return File("elsewhere-keystore.pem"); }
  // The client's certificate and key (PEM), signed by the test CA.
  std::string client_cert_file() const { return File("client.pem"); }
  std::string client_key_file() const { return File("client.key"); }

 private:
  explicit TestCertificates(std::string directory) : directory_(std::move(directory)) {}
  std::string File(const char* name) const { return directory_ + "/" + name; }

  const std::string directory_;
};

}  // namespace zk::testing

#endif  // ZK_TESTING_TEST_CERTIFICATES_H_
