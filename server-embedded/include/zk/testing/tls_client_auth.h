// zk/testing/tls_client_auth.h: whether a TLS test server asks for the client's certificate,
// as ZooKeeper's zookeeper.ssl.clientAuth. Shared by EmbeddedServerTls and RealZooKeeperTls.

#ifndef ZK_TESTING_TLS_CLIENT_AUTH_H_
#define ZK_TESTING_TLS_CLIENT_AUTH_H_

namespace zk::testing {

// Whether a TLS server asks for the client's certificate (ZooKeeper's ssl.clientAuth).
enum class TlsClientAuth {
  kNone,  // never asks
  kWant,  // asks; a client without one is accepted
  kNeed,  // asks; a client without one fails the handshake
};

}  // namespace zk::testing

#endif  // ZK_TESTING_TLS_CLIENT_AUTH_H_
