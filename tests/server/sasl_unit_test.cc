// Unit tests of the embedded server's SASL DIGEST-MD5 pieces: MD5 (RFC 1321's vectors), the
// DIGEST-MD5 response value (RFC 2831's worked example), the server's exchange against a
// client response computed here from RFC 2831's formulas, the JAAS file reader, and the
// "sasl" ACL scheme.

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "acl_policy.h"
#include "gtest/gtest.h"
#include "jaas_config.h"
#include "md5.h"
#include "sasl_digest_md5.h"

namespace zk::testing::internal {
namespace {

TEST(Md5Test, Rfc1321Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for (const auto& [input, hex] : vectors) {
    EXPECT_EQ(Md5Hex(input), hex) << "MD5(\"" << input << "\")";
    EXPECT_EQ(absl::BytesToHexString(Md5(input)), hex);
  }
}

TEST(Md5Test, PaddingBoundaries) {
  // 55, 56 and 64 bytes: the length field fits, does not fit, and a whole extra block.
  EXPECT_EQ(Md5Hex(std::string(55, 'a')), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(Md5Hex(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(Md5Hex(std::string(64, 'a')), "014842d480b571495a4a0363793f7367");
}

// RFC 2831 section 4: chris / secret on imap/elwood.innosoft.com.
TEST(DigestMd5Test, Rfc2831Example) {
  EXPECT_EQ(DigestMd5ResponseValue("AUTHENTICATE", "imap/elwood.innosoft.com", "chris",
                                   "elwood.innosoft.com", "secret", "OA6MG9tEQGm2hh",
                                   "OA6MHXh6VqTrRk", nullptr),
            "d388dad90d4bbd760a152321f2143af7");
  EXPECT_EQ(DigestMd5ResponseValue("", "imap/elwood.innosoft.com", "chris",
                                   "elwood.innosoft.com", "secret", "OA6MG9tEQGm2hh",
                                   "OA6MHXh6VqTrRk", nullptr),
            "ea40f60335c427b5527b84dbabcdfffd");
}

// A client's digest-response, computed from RFC 2831 2.1.2.1 without the server's code:
// response = HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2)))).
std::string ClientResponse(const std::string& user, const std::string& hashed_user,
                           const std::string& password, const std::string& nonce,
                           const std::string& digest_uri = "zookeeper/zk-sasl-md5",
                           const std::string& authzid = "") {
  const std::string cnonce = "Zm9vYmFyYmF6";
  std::string a1 = Md5(hashed_user + ":zk-sasl-md5:" + password) + ":" + nonce + ":" + cnonce;
  if (!authzid.empty()) a1 += ":" + authzid;
  const std::string a2 = "AUTHENTICATE:" + digest_uri;
  const std::string response =
      Md5Hex(Md5Hex(a1) + ":" + nonce + ":00000001:" + cnonce + ":auth:" + Md5Hex(a2));
  std::string text = "charset=utf-8,username=\"" + user + "\",realm=\"zk-sasl-md5\",nonce=\"" +
                     nonce + "\",nc=00000001,cnonce=\"" + cnonce + "\",digest-uri=\"" +
                     digest_uri + "\",maxbuf=65536,response=" + response + ",qop=auth";
  if (!authzid.empty()) text += ",authzid=\"" + authzid + "\"";
  return text;
}

class DigestMd5ServerTest : public ::testing::Test {
 protected:
  const std::string nonce_ = DigestMd5Server::NewNonce();
  std::map<std::string, std::string> users_ = {{"alice", "secret"}, {"j\xc3\xbcrgen", "pw"}};
  DigestMd5Server server_{&users_, nonce_};

  void Challenge() {
    SaslStep step = server_.Evaluate("");
    ASSERT_EQ(step.outcome, SaslStep::Outcome::kChallenge) << step.error;
    EXPECT_EQ(step.token, "realm=\"zk-sasl-md5\",nonce=\"" + nonce_ +
                              "\",charset=utf-8,algorithm=md5-sess");
  }
};

TEST_F(DigestMd5ServerTest, NonceIsFortyBase64Characters) {
  EXPECT_EQ(nonce_.size(), 40u);
  EXPECT_EQ(nonce_.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
            std::string::npos);
  EXPECT_NE(DigestMd5Server::NewNonce(), nonce_);
}

TEST_F(DigestMd5ServerTest, AuthenticatesAndProvesItKnowsThePassword) {
  Challenge();
  SaslStep step = server_.Evaluate(ClientResponse("alice", "alice", "secret", nonce_));
  ASSERT_EQ(step.outcome, SaslStep::Outcome::kComplete) << step.error;
  EXPECT_EQ(step.authorization_id, "alice");
  // rspauth: the same KD with A2 = ":" digest-uri.
  const std::string cnonce = "Zm9vYmFyYmF6";
  const std::string a1 = Md5("alice:zk-sasl-md5:secret") + ":" + nonce_ + ":" + cnonce;
  EXPECT_EQ(step.token, "rspauth=" + Md5Hex(Md5Hex(a1) + ":" + nonce_ + ":00000001:" + cnonce +
                                            ":auth:" + Md5Hex(":zookeeper/zk-sasl-md5")));
  // The exchange is over: another token fails, as Java's server does.
  EXPECT_EQ(server_.Evaluate("").outcome, SaslStep::Outcome::kFailed);
}

TEST_F(DigestMd5ServerTest, HashesLatin1NamesInIso88591) {
  Challenge();
  SaslStep step = server_.Evaluate(ClientResponse("j\xc3\xbcrgen", "j\xfcrgen", "pw", nonce_));
  ASSERT_EQ(step.outcome, SaslStep::Outcome::kComplete) << step.error;
  EXPECT_EQ(step.authorization_id, "j\xc3\xbcrgen");
}

TEST_F(DigestMd5ServerTest, AuthzidEntersA1ButTheIdIsTheUser) {
  Challenge();
  SaslStep step = server_.Evaluate(
      ClientResponse("alice", "alice", "secret", nonce_, "zookeeper/zk-sasl-md5", "bob"));
  ASSERT_EQ(step.outcome, SaslStep::Outcome::kComplete) << step.error;
  EXPECT_EQ(step.authorization_id, "alice");
}

TEST_F(DigestMd5ServerTest, IgnoresTheNcDirectiveAsJavaDoes) {
  Challenge();
  std::string response = ClientResponse("alice", "alice", "secret", nonce_);
  response.replace(response.find("nc=00000001"), 11, "nc=00000002");
  EXPECT_EQ(server_.Evaluate(response).outcome, SaslStep::Outcome::kComplete);
}

TEST_F(DigestMd5ServerTest, DigestUriIsCaseInsensitive) {
  Challenge();
  SaslStep step = server_.Evaluate(
      ClientResponse("alice", "alice", "secret", nonce_, "ZooKeeper/ZK-SASL-MD5"));
  EXPECT_EQ(step.outcome, SaslStep::Outcome::kComplete) << step.error;
}

TEST_F(DigestMd5ServerTest, RefusesWrongCredentialsAndMalformedResponses) {
  struct Case {
    std::string name;
    std::string response;
    SaslStep::Outcome outcome;
  };
  const std::string good = ClientResponse("alice", "alice", "secret", nonce_);
  auto replace = [&good](const std::string& from, const std::string& to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  const std::vector<Case> cases = {
      {"wrong password", ClientResponse("alice", "alice", "nope", nonce_),
       SaslStep::Outcome::kFailed},
      {"unknown user", ClientResponse("mallory", "mallory", "secret", nonce_),
       SaslStep::Outcome::kFailed},
      {"other nonce", ClientResponse("alice", "alice", "secret", std::string(40, 'A')),
       SaslStep::Outcome::kFailed},
      {"other digest-uri", ClientResponse("alice", "alice", "secret", nonce_, "zookeeper/x"),
       SaslStep::Outcome::kFailed},
      {"no realm", replace("realm=\"zk-sasl-md5\",", ""), SaslStep::Outcome::kFailed},
      {"qop auth-int", replace("qop=auth", "qop=auth-int"), SaslStep::Outcome::kFailed},
      // Java's server reads "nonce-count" (not RFC 2831's "nc", which it ignores).
      {"nonce-count 2", good + ",nonce-count=2", SaslStep::Outcome::kFailed},
      {"charset latin1", replace("charset=utf-8", "charset=iso-8859-1"),
       SaslStep::Outcome::kFailed},
      {"duplicate username", good + ",username=\"alice\"", SaslStep::Outcome::kFailed},
      {"unterminated quote", replace("cnonce=\"", "cnonce=\"x\\"), SaslStep::Outcome::kFailed},
      {"garbage", std::string("\0\xff=,,\"", 6), SaslStep::Outcome::kFailed},
      {"too long", good + "," + std::string(4096, 'x'), SaslStep::Outcome::kFailed},
      {"maxbuf not a number", replace("maxbuf=65536", "maxbuf=lots"),
       SaslStep::Outcome::kDropped},
      {"nonce-count not hex", good + ",nonce-count=zz", SaslStep::Outcome::kDropped},
  };
  for (const Case& c : cases) {
    DigestMd5Server server(&users_, nonce_);
    ASSERT_EQ(server.Evaluate("").outcome, SaslStep::Outcome::kChallenge);
    SaslStep step = server.Evaluate(c.response);
    EXPECT_EQ(step.outcome, c.outcome) << c.name << ": " << step.error;
    EXPECT_FALSE(step.error.empty()) << c.name;
    // Failed once, failed for good; only a token over the size limit is refused before the
    // exchange looks at it (ZooKeeper closes the connection anyway).
    EXPECT_EQ(server.Evaluate(good).outcome, c.name == "too long"
                                                 ? SaslStep::Outcome::kComplete
                                                 : SaslStep::Outcome::kFailed)
        << c.name;
  }
}

TEST_F(DigestMd5ServerTest, AnyFirstTokenUpTo4096BytesGetsTheChallenge) {
  EXPECT_EQ(server_.Evaluate(std::string(4096, 'x')).outcome, SaslStep::Outcome::kChallenge);
  DigestMd5Server other(&users_, nonce_);
  EXPECT_EQ(other.Evaluate(std::string(4097, 'x')).outcome, SaslStep::Outcome::kFailed);
}

TEST(JaasConfigTest, ReadsTheServerSectionUsers) {
  auto users = zk::internal::ParseJaasServerUsers(R"(
    /* a real server's file */
    QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required user_q="q"; };
    Server {
      # comment
      org.apache.zookeeper.server.auth.DigestLoginModule required
      user_alice="se\"cret"   // trailing comment
      user_bob=plain
      debug="true";
    };
    Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="alice"
             password="x"; };
  )", "jaas.conf");
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_EQ(*users, (std::map<std::string, std::string>{{"alice", "se\"cret"}, {"bob", "plain"}}));
}

TEST(JaasConfigTest, NamesTheFileAndTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Client { org.apache.zookeeper.server.auth.DigestLoginModule required; };",
       "jaas.conf: no \"Server\" section"},
      {"Server {\n com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };",
       "jaas.conf:2: section Server uses com.sun.security.auth.module.Krb5LoginModule; only "
       "org.apache.zookeeper.server.auth.DigestLoginModule (SASL DIGEST-MD5) is supported"},
      {"Server { org.apache.zookeeper.server.auth.DigestLoginModule required debug=true; };",
       "jaas.conf: section Server has no user_<name>=\"<password>\" option"},
      {"Server {\n org.apache.zookeeper.server.auth.DigestLoginModule mandatory user_a=b; };",
       "jaas.conf:2: expected required, requisite, sufficient or optional, found \"mandatory\""},
      {"Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required\n user_a \"b\"; };",
       "jaas.conf:3: expected '=', found \"b\""},
      {"Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_a=\"b\"; }",
       "jaas.conf:1: expected ';' after '}', found the end of the file"},
      {"Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_a=\"b",
       "jaas.conf:1: unterminated quoted string"},
  };
  for (const auto& [text, message] : cases) {
    auto users = zk::internal::ParseJaasServerUsers(text, "jaas.conf");
    ASSERT_FALSE(users.ok()) << text;
    EXPECT_EQ(users.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(users.status().message(), message);
  }
  auto missing = zk::internal::ReadJaasServerUsers("/nonexistent/jaas.conf");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(SaslAclTest, SchemeIsKnownOnlyWithSaslAndValidatesKerberosNames) {
  const std::vector<Id> ids = {{"ip", "127.0.0.1"}, {"sasl", "alice"}};
  std::vector<Acl> fixed;
  EXPECT_FALSE(FixupAcl({{perm::kAll, {"sasl", "alice"}}}, ids, false, &fixed));
  EXPECT_TRUE(FixupAcl({{perm::kAll, {"sasl", "alice"}}}, ids, true, &fixed));
  for (const char* valid : {"alice", "a/b", "zk/host@REALM", "@", "svc@R"}) {
    EXPECT_TRUE(FixupAcl({{perm::kRead, {"sasl", valid}}}, ids, true, &fixed)) << valid;
  }
  for (const char* invalid : {"a@b@c", "a/b/c@R", "a@R/x"}) {
    EXPECT_FALSE(FixupAcl({{perm::kRead, {"sasl", invalid}}}, ids, true, &fixed)) << invalid;
  }
  // "auth" expands to the digest and sasl ids, never to ip.
  ASSERT_TRUE(FixupAcl({{perm::kAll, {"auth", ""}}}, ids, true, &fixed));
  EXPECT_EQ(fixed, (std::vector<Acl>{{perm::kAll, {"sasl", "alice"}}}));
  EXPECT_FALSE(FixupAcl({{perm::kAll, {"auth", ""}}}, ids, false, &fixed));
}

TEST(SaslAclTest, SaslIdsMatchTheirEntriesAndSaslSuperMatchesAll) {
  const std::vector<Acl> acl = {{perm::kRead, {"sasl", "alice"}}};
  EXPECT_TRUE(CheckAcl(acl, perm::kRead, {{"sasl", "alice"}}));
  EXPECT_FALSE(CheckAcl(acl, perm::kWrite, {{"sasl", "alice"}}));
  EXPECT_FALSE(CheckAcl(acl, perm::kRead, {{"sasl", "bob"}}));
  EXPECT_FALSE(CheckAcl(acl, perm::kRead, {{"digest", "alice"}}));
  EXPECT_TRUE(CheckAcl(acl, perm::kRead, {{"sasl", "super"}}));
  EXPECT_FALSE(CheckAcl({{perm::kRead, {"digest", "alice:x"}}}, perm::kRead, {{"sasl", "super"}}));
}

}  // namespace
}  // namespace zk::testing::internal
