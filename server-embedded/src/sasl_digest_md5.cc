#include "sasl_digest_md5.h"

#include <array>
#include <cstdint>
#include <optional>
#include <random>

#include "absl/strings/escaping.h"
#include "md5.h"

namespace zk::testing::internal {
namespace {

// The directives a digest-response may carry (RFC 2831 section 2.1.2), in the order of
// kDirectiveNames. Others are ignored.
enum Directive {
  kUsername, kRealm, kNonce, kCnonce, kNonceCount, kQop, kDigestUri, kResponse, kMaxbuf,
  kCharset, kCipher, kAuthzid, kAuthParam, kDirectiveCount
};
constexpr std::array<std::string_view, kDirectiveCount> kDirectiveNames = {
    "username", "realm", "nonce", "cnonce", "nonce-count", "qop", "digest-uri", "response",
    "maxbuf", "charset", "cipher", "authzid", "auth-param"};

using Directives = std::array<std::optional<std::string>, kDirectiveCount>;

// ASCII case-insensitive equality (Java's equalsIgnoreCase on these ASCII names).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool IsLinearWhiteSpace(char c) { return c == '\r' || c == '\n' || c == ' ' || c == '\t'; }

size_t SkipLinearWhiteSpace(std::string_view text, size_t i) {
  while (i < text.size() && IsLinearWhiteSpace(text[i])) ++i;
  return i;
}

// Records one key=value pair; a known directive given twice is an error.
bool Store(std::string_view key, std::string value, Directives& out, std::string* error) {
  for (size_t k = 0; k < kDirectiveNames.size(); ++k) {
    if (!EqualsIgnoreCase(key, kDirectiveNames[k])) continue;
    if (out[k].has_value()) {
      *error = "more than one " + std::string(key) + " directive";
      return false;
    }
    out[k] = std::move(value);
    return true;
  }
  return true;
}

// Parses a comma-separated list of key=value / key="quoted value" pairs, with the leniencies
// of Java's parser (empty elements, linear white space around keys and separators, a bare key
// at the very end taken as an empty value).
std::optional<Directives> ParseDirectives(std::string_view text, std::string* error) {
  Directives out;
  std::string key, value;
  bool in_key = true, in_quotes = false, expect_separator = false;
  size_t i = SkipLinearWhiteSpace(text, 0);
  while (i < text.size()) {
    const char c = text[i];
    if (in_key) {
      if (c == ',') {
        if (!key.empty()) {
          *error = "a directive key holds a ','";
          return std::nullopt;
        }
        i = SkipLinearWhiteSpace(text, i + 1);
      } else if (c == '=') {
        if (key.empty()) {
          *error = "an empty directive key";
          return std::nullopt;
        }
        in_key = false;
        i = SkipLinearWhiteSpace(text, i + 1);
        if (i >= text.size()) {
          *error = "directive " + key + " has no value";
          return std::nullopt;
        }
        if (text[i] == '"') {
          in_quotes = true;
          ++i;
        }
      } else if (IsLinearWhiteSpace(c)) {
        i = SkipLinearWhiteSpace(text, i + 1);
        if (i >= text.size() || text[i] != '=') {
          *error = "'=' expected after directive key " + key;
          return std::nullopt;
        }
      } else {
        key.push_back(c);
        ++i;
      }
    } else if (in_quotes) {
      if (c == '\\') {
        if (++i >= text.size()) {
          *error = "unterminated quoted value of " + key;
          return std::nullopt;
        }
        value.push_back(text[i++]);
      } else if (c == '"') {
        ++i;
        in_quotes = false;
        expect_separator = true;
      } else {
        value.push_back(c);
        ++i;
      }
    } else if (IsLinearWhiteSpace(c) || c == ',') {
      if (!Store(key, std::move(value), out, error)) return std::nullopt;
      key.clear();
      value.clear();
      in_key = true;
      in_quotes = expect_separator = false;
      i = SkipLinearWhiteSpace(text, i + 1);
    } else if (expect_separator) {
      *error = "a separator expected after the quoted value of " + key;
      return std::nullopt;
    } else {
      value.push_back(c);
      ++i;
    }
  }
  if (in_quotes) {
    *error = "unterminated quoted value of " + key;
    return std::nullopt;
  }
  if (!key.empty() && !Store(key, std::move(value), out, error)) return std::nullopt;
  return out;
}

// Parses an int as Java's Integer.parseInt(text, radix) does for ASCII digits: an optional
// sign, at least one digit, no overflow.
std::optional<int32_t> ParseJavaInt(std::string_view text, int radix) {
  size_t i = 0;
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size()) return std::nullopt;
  int64_t value = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'z' ? c - 'a' + 10
                : c >= 'A' && c <= 'Z' ? c - 'A' + 10
                                       : radix;
    if (digit >= radix) return std::nullopt;
    value = value * radix + digit;
    if (value > int64_t{1} << 31) return std::nullopt;
  }
  if (negative) value = -value;
  if (value > INT32_MAX || value < INT32_MIN) return std::nullopt;
  return static_cast<int32_t>(value);
}

// Returns `utf8` in ISO 8859-1 if every character fits it, else unchanged (RFC 2831 2.1.2.1).
std::string InHashEncoding(std::string_view utf8) {
  std::string latin1;
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto lead = static_cast<uint8_t>(utf8[i]);
    if (lead < 0x80) {
      latin1.push_back(static_cast<char>(lead));
    } else if ((lead == 0xC2 || lead == 0xC3) && i + 1 < utf8.size() &&
               (static_cast<uint8_t>(utf8[i + 1]) & 0xC0) == 0x80) {
      latin1.push_back(static_cast<char>(((lead & 0x03) << 6) |
                                         (static_cast<uint8_t>(utf8[i + 1]) & 0x3F)));
      ++i;
    } else {
      return std::string(utf8);
    }
  }
  return latin1;
}

}  // namespace

std::string DigestMd5ResponseValue(std::string_view method, std::string_view digest_uri,
                                   std::string_view username, std::string_view realm,
                                   std::string_view password, std::string_view nonce,
                                   std::string_view cnonce, const std::string* authzid) {
  const std::string a2 = std::string(method) + ":" + std::string(digest_uri);
  std::string a1 = Md5(InHashEncoding(username) + ":" + InHashEncoding(realm) + ":" +
                       InHashEncoding(password));
  a1.append(":").append(nonce).append(":").append(cnonce);
  if (authzid != nullptr) a1.append(":").append(*authzid);
  std::string kd = Md5Hex(a1);
  kd.append(":").append(nonce).append(":00000001:").append(cnonce).append(":auth:");
  kd.append(Md5Hex(a2));
  return Md5Hex(kd);
}

DigestMd5Server::DigestMd5Server(const std::map<std::string, std::string>* users,
                                 std::string nonce)
    : users_(users), nonce_(std::move(nonce)) {}

std::string DigestMd5Server::NewNonce() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::string raw(30, '\0');
  for (char& c : raw) c = static_cast<char>(generator() & 0xff);
  return absl::Base64Escape(raw);
}

SaslStep DigestMd5Server::Evaluate(std::string_view response) {
  SaslStep step;
  if (response.size() > kSaslMaxResponseLength) {
    step.error = "a token of " + std::to_string(response.size()) + " bytes (at most 4096)";
    return step;
  }
  switch (stage_) {
    case Stage::kInitial:
      // Java's server ignores an initial response (no "subsequent authentication").
      stage_ = Stage::kAwaitingResponse;
      step.outcome = SaslStep::Outcome::kChallenge;
      step.token = "realm=\"" + std::string(kSaslRealm) + "\",nonce=\"" + nonce_ +
                   "\",charset=utf-8,algorithm=md5-sess";
      return step;
    case Stage::kAwaitingResponse:
      stage_ = Stage::kDone;
      return Verify(response);
    case Stage::kDone:
      break;
  }
  step.error = "the exchange is already over";
  return step;
}

SaslStep DigestMd5Server::Verify(std::string_view response) {
  SaslStep step;
  auto fail = [&step](std::string why) {
    step.outcome = SaslStep::Outcome::kFailed;
    step.error = std::move(why);
    return step;
  };
  std::string error;
  std::optional<Directives> parsed = ParseDirectives(response, &error);
  if (!parsed) return fail(error);
  const Directives& d = *parsed;
  if (d[kCharset] && *d[kCharset] != "utf-8") return fail("charset " + *d[kCharset]);
  if (d[kMaxbuf] && !ParseJavaInt(*d[kMaxbuf], 10)) {
    step.outcome = SaslStep::Outcome::kDropped;
    step.error = "maxbuf " + *d[kMaxbuf] + " is not a number";
    return step;
  }
  if (!d[kUsername]) return fail("no username");
  const std::string realm = d[kRealm].value_or("");
  if (realm != kSaslRealm) return fail("realm \"" + realm + "\" was not offered");
  if (!d[kNonce]) return fail("no nonce");
  if (*d[kNonce] != nonce_) return fail("a nonce that was not sent");
  if (!d[kCnonce]) return fail("no cnonce");
  if (d[kNonceCount]) {
    std::optional<int32_t> count = ParseJavaInt(*d[kNonceCount], 16);
    if (!count) {
      step.outcome = SaslStep::Outcome::kDropped;
      step.error = "nonce-count " + *d[kNonceCount] + " is not a number";
      return step;
    }
    if (*count != 1) return fail("nonce-count " + *d[kNonceCount]);
  }
  const std::string qop = d[kQop].value_or("auth");
  if (qop != "auth") return fail("qop " + qop + " (only auth is offered)");
  if (!d[kDigestUri] || !EqualsIgnoreCase(*d[kDigestUri], kSaslDigestUri)) {
    return fail("digest-uri " + d[kDigestUri].value_or("(none)") + ", expected " +
                std::string(kSaslDigestUri));
  }
  if (!d[kResponse]) return fail("no response");
  const std::string& username = *d[kUsername];
  auto user = users_->find(username);
  if (user == users_->end()) return fail("unknown user " + username);
  const std::string* authzid = d[kAuthzid] ? &*d[kAuthzid] : nullptr;
  const std::string expected =
      DigestMd5ResponseValue("AUTHENTICATE", *d[kDigestUri], username, realm, user->second,
                             nonce_, *d[kCnonce], authzid);
  if (*d[kResponse] != expected) return fail("wrong password for " + username);
  step.outcome = SaslStep::Outcome::kComplete;
  // ZooKeeper authorizes the authentication id (a name without '@' is its own short name),
  // whatever authzid the client asked for.
  step.authorization_id = username;
  step.token = "rspauth=" + DigestMd5ResponseValue("", *d[kDigestUri], username, realm,
                                                   user->second, nonce_, *d[kCnonce], authzid);
  return step;
}

}  // namespace zk::testing::internal
