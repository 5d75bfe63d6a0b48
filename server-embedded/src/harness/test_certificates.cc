#include "zk/testing/test_certificates.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "harness/child_process.h"
#include "harness/zookeeper_process.h"

namespace zk::testing {
namespace {

// The config every openssl call uses, so that the system's openssl.cnf does not
// matter.
constexpr char kConfig[] = R"(# zkcpp test PKI
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[elsewhere]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:zkcpp-elsewhere.invalid
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
)";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::Status WriteAll(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("write ", path, ": failed"));
  return absl::OkStatus();
}

class Maker {
 public:
  explicit Maker(std::string dir) : dir_(std::move(dir)) {}

  std::string Path(const std::string& name) const { return absl::StrCat(dir_, "/", name); }

  // Runs `openssl <args>` in the directory's terms; its output goes to
  // openssl.log.
  absl::Status Run(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    absl::StatusOr<ChildProcess> child = ChildProcess::Spawn(args, Path("openssl.log"));
    if (!child.ok()) return child.status();
    absl::StatusOr<int> status = child->WaitForExit(absl::Now() + absl::Seconds(30));
    if (!status.ok()) return status.status();
    if (*status != 0) {
      std::string command;
      for (const std::string& arg : args)
        absl::StrAppend(&command, command.empty() ? "" : " ", arg);
      return absl::InternalError(absl::StrCat("test certificates: `", command, "` ",
                                              DescribeWaitStatus(*status), "; output:\n",
                                              ReadAll(Path("openssl.log"))));
    }
    return absl::OkStatus();
  }

  // A self-signed CA: <name>.pem and <name>.key.
  absl::Status MakeCa(const std::string& name, const std::string& subject) {
    return Run({"req", "-x509", "-config", Path("pki.cnf"), "-extensions", "ca", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", Path(name + ".key"),
                "-out", Path(name + ".pem"), "-days", "30", "-subj", subject});
  }

  // A certificate of `extensions` signed by `ca`, valid for `days` (negative:
  // expired): <name>.pem and <name>.key.
  absl::Status MakeLeaf(const std::string& name, const std::string& subject, const std::string& ca,
                        const std::string& extensions, int days) {
    if (absl::Status s = Run({"req", "-new", "-config", Path("pki.cnf"), "-newkey", "ec",
                              "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                              Path(name + ".key"), "-out", Path(name + ".csr"), "-subj", subject});
        !s.ok()) {
      return s;
    }
    return Run({"x509", "-req", "-in", Path(name + ".csr"), "-CA", Path(ca + ".pem"), "-CAkey",
                Path(ca + ".key"), "-set_serial", absl::StrCat(++serial_), "-days",
                absl::StrCat(days), "-extfile", Path("pki.cnf"), "-extensions", extensions, "-out",
                Path(name + ".pem")});
  }

  // `directory` holding <ca>.pem under its subject hash, as TlsOptions::ca_directory reads it.
  absl::Status MakeCaDirectory(const std::string& ca, const std::string& directory) {
    std::error_code error;
    std::filesystem::create_directory(Path(directory), error);
    if (error) {
      return absl::InternalError(absl::StrCat("create ", Path(directory), ": ", error.message()));
    }
    if (absl::Status s = WriteAll(Path(directory + "/" + ca + ".pem"), ReadAll(Path(ca + ".pem")));
        !s.ok()) {
      return s;
    }
    return Run({"rehash", Path(directory)});
  }

  // <name>-keystore.pem: the key and the certificate of <name>, as ZooKeeper
  // reads a PEM store.
  absl::Status MakeKeyStore(const std::string& name) {
    return WriteAll(Path(name + "-keystore.pem"),
                    ReadAll(Path(name + ".key")) + ReadAll(Path(name + ".pem")));
  }

 private:
  const std::string dir_;
  int serial_ = 1000;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TestCertificates>> TestCertificates::Create() {
  absl::StatusOr<std::string> dir = MakeTempDir("zkcpp-pki-");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<TestCertificates> pki(new TestCertificates(*dir));
  Maker maker(*dir);
  const std::vector<std::function<absl::Status()>> steps = {
      [&] { return WriteAll(maker.Path("pki.cnf"), kConfig); },
      [&] { return maker.MakeCa("ca", "/CN=zkcpp test CA"); },
      [&] { return maker.MakeCa("other-ca", "/CN=zkcpp unrelated test CA"); },
      [&] { return maker.MakeLeaf("server", "/CN=localhost", "ca", "server", 30); },
      [&] { return maker.MakeLeaf("expired", "/CN=localhost", "ca", "server", -1); },
      [&] {
        return maker.MakeLeaf("elsewhere", "/CN=zkcpp-elsewhere.invalid", "ca", "elsewhere", 30);
      },
      [&] { return maker.MakeLeaf("client", "/CN=zkcpp test client", "ca", "client", 30); },
      [&] { return maker.MakeKeyStore("server"); },
      [&] { return maker.MakeKeyStore("expired"); },
      [&] { return maker.MakeKeyStore("elsewhere"); },
      [&] { return maker.MakeCaDirectory("ca", "ca-dir"); },
  };
  for (const auto& step : steps) {
    if (absl::Status s = step(); !s.ok()) return s;
  }
  return pki;
}

TestCertificates::~TestCertificates() { RemoveTempDir(directory_); }

}  // namespace zk::testing
