// The client's path check (zk::ValidatePath, client/src/path.cc) and the embedded server's
// (IsValidPath, server-embedded/src/path_validator.cc) are written apart on purpose (the server
// must not depend on the client), but they must agree: a path the client lets through must not
// fail on the server for its form, and the client must not refuse what ZooKeeper accepts. Both
// sides were checked against real ZooKeeper 3.8 (differential_test.cc, InvalidUtf8...). This
// test holds them to each other on a corpus of hand-picked paths and on random byte strings.

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "path_validator.h"
#include "zk/path.h"

namespace zk::testing::internal {
namespace {

void ExpectAgreement(const std::string& path) {
  const bool client = zk::ValidatePath("create", path).ok();
  const bool server = IsValidPath(path);
  EXPECT_EQ(client, server) << "path bytes: " << ::testing::PrintToString(path)
                            << " client " << (client ? "accepts" : "refuses") << ", server "
                            << (server ? "accepts" : "refuses");
}

TEST(PathRulesAgreementTest, HandPickedPaths) {
  const std::vector<std::string> paths = {
      "/", "/a", "/a/b", "/a/", "//", "/a//b", "/.", "/..", "/a/./b", "/a/../b", "/.a", "/a.",
      "/...", "", "a", "/a\x01", "/\x7f", "/a\xc2\x80", "/a\xc2\x9f", "/a\xc2\xa0",
      "/\xc3\xa4", "/\xe2\x82\xac", "/\xef\xbf\xaf", "/\xef\xbf\xb0", "/\xef\xbf\xbf",
      "/\xed\xa0\x80", "/\xee\x80\x80", "/\xef\xa3\xbf", "/\xef\xa4\x80", "/\xf0\x9f\x98\x80",
      "/a\xc0\xaf" "b", "/\xc1\x81", "/\xe0\x80\xaf", "/\xf0\x80\x80\xaf", "/\xc2", "/\xe2\x82",
      "/\x80", "/\xbf", "/\xfe", "/\xff", "/zookeeper", "/zookeeper/quota",
      std::string("/a\0b", 4)};
  for (const std::string& path : paths) ExpectAgreement(path);
}

TEST(PathRulesAgreementTest, RandomByteStrings) {
  std::mt19937 random(20261207);
  // Bytes that matter to the rules: ASCII letters, '/', '.', controls, UTF-8 lead and
  // continuation bytes of every length, and bytes that are never valid.
  const std::string alphabet =
      "ab/./\x01\x1f\x7f\xc0\xc1\xc2\xc3\xdf\xe0\xe2\xed\xee\xef\xf0\xf4\xf5\xff\x80\x8f\x9f\xa0"
      "\xaf\xbf";
  for (int i = 0; i < 200000; ++i) {
    std::string path = "/";
    const int length = static_cast<int>(random() % 7);
    for (int j = 0; j < length; ++j) path += alphabet[random() % alphabet.size()];
    ExpectAgreement(path);
    if (::testing::Test::HasFailure()) return;  // one counterexample is enough to read
  }
}

}  // namespace
}  // namespace zk::testing::internal
