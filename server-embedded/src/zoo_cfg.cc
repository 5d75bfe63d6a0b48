#include "zoo_cfg.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace zk::internal {
namespace {

absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Why a ZooKeeper setting has no effect here. A key matches an entry that ends in '.' by
// prefix ("server.1", "autopurge.purgeInterval"), any other entry exactly; the first group
// that matches gives the reason ("ssl.quorum.*" is about replication, other "ssl.*" about TLS).
struct IgnoredKeys {
  std::vector<std::string_view> keys;
  std::string_view reason;
};

const std::vector<IgnoredKeys>& Ignored() {
  static const std::vector<IgnoredKeys>* const ignored = new std::vector<IgnoredKeys>{
      {{"initLimit", "syncLimit", "server.", "group.", "weight.", "electionAlg",
        "electionPortBindRetry", "peerType", "leaderServes", "cnxTimeout", "quorumListenOnAllIPs",
        "standaloneEnabled", "reconfigEnabled", "dynamicConfigFile", "syncEnabled",
        "observerMasterPort", "connectToLearnerMasterLimit", "multiAddress.", "quorum.",
        "sslQuorum", "ssl.quorum."},
       "no replication: zkcpp-server is one process, not an ensemble member"},
      {{"dataDir", "dataLogDir", "autopurge.", "snapCount", "snapSizeLimitInKb",
        "txnLogSizeLimitInKb", "preAllocSize", "forceSync", "fsync.", "snapshot."},
       "no persistence: ZooKeeper's snapshots and logs are neither read nor written "
       "(--data_dir keeps a snapshot of zkcpp-server's own)"},
      {{"secureClientPort", "secureClientPortAddress", "serverCnxnFactory", "client.secure",
        "ssl."},
       "TLS is not read from zoo.cfg (nor are Java key stores): give --secure_port and "
       "--tls_cert_file, --tls_key_file, --tls_ca_file, --tls_client_auth (PEM files)"},
      {{"admin."}, "no AdminServer: use the four-letter words on clientPort"},
      {{"authProvider."},
       "no pluggable authentication: the digest, ip, world and auth schemes are built in"},
      {{"metricsProvider."}, "no metrics provider: use the mntr four-letter word"},
      {{"globalOutstandingLimit", "clientPortListenBacklog", "maxCnxns", "localSessionsEnabled",
        "localSessionsUpgradingEnabled", "audit.enable"},
       "not implemented by zkcpp-server"},
  };
  return *ignored;
}

std::string_view WhyIgnored(std::string_view key) {
  for (const IgnoredKeys& group : Ignored()) {
    for (std::string_view entry : group.keys) {
      const bool prefix = entry.back() == '.';
      if (prefix ? key.starts_with(entry) : key == entry) return group.reason;
    }
  }
  return "unknown key";
}

bool IsPropertiesSpace(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// Appends the code point `code` to `out` as UTF-8 (\uXXXX escapes are UTF-16 units; a surrogate
// is written as is, which no zoo.cfg key or honoured value needs).
void AppendUtf8(uint32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

// One `key value` pair of a logical line, with the properties escapes (\t, \n, \r, \f, \uXXXX,
// \<any> for the character itself) resolved.
struct Property {
  std::string key;
  std::string value;
};

Property SplitProperty(std::string_view line) {
  Property property;
  std::string* out = &property.key;
  bool in_key = true;
  size_t i = 0;
  while (i < line.size()) {
    char c = line[i++];
    if (in_key && (c == '=' || c == ':' || IsPropertiesSpace(c))) {
      // The key ends: skip whitespace, at most one separator, whitespace again.
      while (i < line.size() && IsPropertiesSpace(line[i])) ++i;
      if (IsPropertiesSpace(c) && i < line.size() && (line[i] == '=' || line[i] == ':')) ++i;
      while (i < line.size() && IsPropertiesSpace(line[i])) ++i;
      in_key = false;
      out = &property.value;
      continue;
    }
    if (c != '\\' || i == line.size()) {
      out->push_back(c);
      continue;
    }
    c = line[i++];
    switch (c) {
      case 't':
        out->push_back('\t');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'u': {
        uint32_t code = 0;
        if (i + 4 <= line.size() && absl::SimpleHexAtoi(AsAbsl(line.substr(i, 4)), &code)) {
          AppendUtf8(code, out);
          i += 4;
        } else {
          out->push_back('u');
        }
        break;
      }
      default:
        out->push_back(c);
    }
  }
  // ZooKeeper trims every value it reads.
  property.value = std::string(absl::StripAsciiWhitespace(property.value));
  return property;
}

// True if `line` ends in an odd number of backslashes: it continues on the next line.
bool Continues(std::string_view line) {
  size_t backslashes = 0;
  while (backslashes < line.size() && line[line.size() - 1 - backslashes] == '\\') ++backslashes;
  return backslashes % 2 == 1;
}

class Parser {
 public:
  explicit Parser(std::string_view file_name) : file_name_(file_name) {}

  absl::Status Apply(int line_number, const Property& property, ZooConfig* config) {
    line_number_ = line_number;
    key_ = property.key;
    const std::string& value = property.value;
    if (key_ == "tickTime") return Number(value, 1, kMaxInt, &config->tick_time_ms);
    if (key_ == "clientPort") return Number(value, 0, 65535, &config->client_port);
    if (key_ == "maxClientCnxns") return Number(value, 0, kMaxInt, &config->max_client_connections);
    if (key_ == "minSessionTimeout") return Timeout(value, &config->min_session_timeout_ms);
    if (key_ == "maxSessionTimeout") return Timeout(value, &config->max_session_timeout_ms);
    if (key_ == "clientPortAddress") {
      in_addr address;
      if (inet_pton(AF_INET, value.c_str(), &address) != 1) {
        return Problem(absl::StrCat("not an IPv4 address: \"", absl::CHexEscape(value),
                                    "\" (zkcpp-server binds dotted IPv4 addresses only)"));
      }
      config->client_address = value;
      return absl::OkStatus();
    }
    if (key_ == "4lw.commands.whitelist") {
      std::vector<std::string> words;
      for (absl::string_view word : absl::StrSplit(value, ',')) {
        word = absl::StripAsciiWhitespace(word);
        if (!word.empty()) words.emplace_back(word);
      }
      config->four_letter_words = std::move(words);
      return absl::OkStatus();
    }
    const std::string where = absl::StrCat(file_name_, ":", line_number_, ": ");
    config->notes.push_back(key_.empty() ? where + "a line without a key ignored"
                                         : absl::StrCat(where, absl::CHexEscape(key_),
                                                        " ignored: ", AsAbsl(WhyIgnored(key_))));
    return absl::OkStatus();
  }

 private:
  static constexpr int kMaxInt = 2147483647;

  absl::Status Problem(std::string_view problem) const {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name_, ":", line_number_, ": ", key_, ": ", AsAbsl(problem)));
  }

  absl::Status Number(const std::string& value, int min, int max, std::optional<int>* out) const {
    int number = 0;
    if (!absl::SimpleAtoi(value, &number)) {
      return Problem(absl::StrCat("not a number: \"", absl::CHexEscape(value), "\""));
    }
    if (number < min || number > max) {
      if (max != kMaxInt)
        return Problem(absl::StrCat("must be in ", min, "..", max, ", got ", number));
      return Problem(
          absl::StrCat(min == 0 ? "must not be negative" : "must be positive", ", got ", number));
    }
    *out = number;
    return absl::OkStatus();
  }

  // As ZooKeeper, -1 (its default) leaves the bound at its default (2 or 20
  // ticks).
  absl::Status Timeout(const std::string& value, std::optional<int>* out) const {
    if (value == "-1") {
      out->reset();
      return absl::OkStatus();
    }
    return Number(value, 1, kMaxInt, out);
  }

  const std::string file_name_;
  int line_number_ = 0;
  std::string key_;
};

}  // namespace

absl::StatusOr<ZooConfig> ParseZooConfig(std::string_view text, std::string_view file_name) {
  ZooConfig config;
  Parser parser(file_name);
  std::vector<absl::string_view> lines = absl::StrSplit(AsAbsl(text), '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    const int line_number = static_cast<int>(i) + 1;
    std::string logical(absl::StripLeadingAsciiWhitespace(absl::StripSuffix(lines[i], "\r")));
    if (logical.empty() || logical[0] == '#' || logical[0] == '!') continue;
    while (Continues(logical) && i + 1 < lines.size()) {
      logical.pop_back();
      absl::StrAppend(&logical,
                      absl::StripLeadingAsciiWhitespace(absl::StripSuffix(lines[++i], "\r")));
    }
    if (Continues(logical)) logical.pop_back();  // a backslash on the last line continues nothing
    Property property = SplitProperty(logical);
    if (absl::Status s = parser.Apply(line_number, property, &config); !s.ok()) return s;
  }
  return config;
}

absl::StatusOr<std::string> ReadConfigText(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int error = errno;
    std::string message = absl::StrCat(path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    if (error == EACCES) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

absl::StatusOr<ZooConfig> ReadZooConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigText(path);
  if (!text.ok()) return text.status();
  return ParseZooConfig(*text, path);
}

void ApplyZooConfig(const ZooConfig& config, testing::EmbeddedServerOptions* options) {
  if (config.tick_time_ms) options->tick_time = std::chrono::milliseconds(*config.tick_time_ms);
  if (config.client_port) options->port = *config.client_port;
  if (config.client_address) options->bind_address = *config.client_address;
  if (config.max_client_connections) {
    options->max_client_connections = *config.max_client_connections;
  }
  if (config.min_session_timeout_ms) {
    options->min_session_timeout = std::chrono::milliseconds(*config.min_session_timeout_ms);
  }
  if (config.max_session_timeout_ms) {
    options->max_session_timeout = std::chrono::milliseconds(*config.max_session_timeout_ms);
  }
  if (config.four_letter_words) options->four_letter_words = *config.four_letter_words;
}

}  // namespace zk::internal
