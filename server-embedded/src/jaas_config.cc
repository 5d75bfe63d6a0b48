#include "jaas_config.h"

#include "absl/strings/str_cat.h"
#include "zoo_cfg.h"

namespace zk::internal {
namespace {

constexpr std::string_view kDigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule";

struct Token {
  enum class Kind { kWord, kQuoted, kPunct, kEnd } kind = Kind::kEnd;
  std::string text;
  int line = 0;
};

// Splits a JAAS file into words, quoted strings and the punctuation { } ; =.
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {}

  // Returns the next token, or an error message.
  absl::StatusOr<Token> Next() {
    SkipBlanksAndComments();
    Token token;
    token.line = line_;
    if (pos_ >= text_.size()) return token;
    const char c = text_[pos_];
    if (c == '{' || c == '}' || c == ';' || c == '=') {
      token.kind = Token::Kind::kPunct;
      token.text = std::string(1, c);
      ++pos_;
      return token;
    }
    if (c == '"') {
      token.kind = Token::Kind::kQuoted;
      for (++pos_; pos_ < text_.size() && text_[pos_] != '"'; ++pos_) {
        if (text_[pos_] == '\n') return absl::InvalidArgumentError("unterminated quoted string");
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
        token.text.push_back(text_[pos_]);
      }
      if (pos_ >= text_.size()) return absl::InvalidArgumentError("unterminated quoted string");
      ++pos_;
      return token;
    }
    token.kind = Token::Kind::kWord;
    while (pos_ < text_.size() && !IsBlank(text_[pos_]) &&
           std::string_view("{};=\"").find(text_[pos_]) == std::string_view::npos) {
      token.text.push_back(text_[pos_++]);
    }
    return token;
  }

  int line() const { return line_; }

 private:
  static bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

  void SkipBlanksAndComments() {
    while (pos_ < text_.size()) {
      const std::string_view rest = text_.substr(pos_);
      if (IsBlank(rest[0])) {
        if (rest[0] == '\n') ++line_;
        ++pos_;
      } else if (rest[0] == '#' || rest.starts_with("//")) {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (rest.starts_with("/*")) {
        size_t end = rest.find("*/", 2);
        std::string_view comment = rest.substr(0, end == std::string_view::npos ? rest.size() : end + 2);
        for (char c : comment) line_ += c == '\n';
        pos_ += comment.size();
      } else {
        return;
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseJaasServerUsers(
    std::string_view text, std::string_view file_name_view) {
  const std::string file_name(file_name_view);
  Tokenizer tokenizer(text);
  auto next = [&]() -> absl::StatusOr<Token> {
    absl::StatusOr<Token> token = tokenizer.Next();
    if (!token.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_name, ":", tokenizer.line(), ": ", token.status().message()));
    }
    return token;
  };
  auto syntax_error = [&](const Token& token, std::string_view expected) {
    std::string found = token.kind == Token::Kind::kEnd ? "the end of the file"
                                                        : absl::StrCat("\"", token.text, "\"");
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", token.line, ": expected ", std::string(expected), ", found ", found));
  };
  auto is_punct = [](const Token& token, char c) {
    return token.kind == Token::Kind::kPunct && token.text[0] == c;
  };

  std::map<std::string, std::string> users;
  bool found_server = false;
  while (true) {
    absl::StatusOr<Token> name = next();
    if (!name.ok()) return name.status();
    if (name->kind == Token::Kind::kEnd) break;
    if (name->kind != Token::Kind::kWord) return syntax_error(*name, "a section name");
    const bool server = name->text == "Server";
    found_server |= server;
    absl::StatusOr<Token> open = next();
    if (!open.ok()) return open.status();
    if (!is_punct(*open, '{')) return syntax_error(*open, "'{'");
    // Login modules until '}'.
    while (true) {
      absl::StatusOr<Token> module = next();
      if (!module.ok()) return module.status();
      if (is_punct(*module, '}')) break;
      if (module->kind != Token::Kind::kWord) return syntax_error(*module, "a login module or '}'");
      if (server && module->text != kDigestLoginModule) {
        return absl::InvalidArgumentError(absl::StrCat(
            file_name, ":", module->line, ": section Server uses ", module->text, "; only ",
            std::string(kDigestLoginModule), " (SASL DIGEST-MD5) is supported"));
      }
      absl::StatusOr<Token> flag = next();
      if (!flag.ok()) return flag.status();
      if (flag->kind != Token::Kind::kWord ||
          (flag->text != "required" && flag->text != "requisite" &&
           flag->text != "sufficient" && flag->text != "optional")) {
        return syntax_error(*flag, "required, requisite, sufficient or optional");
      }
      // key=value options until ';'.
      while (true) {
        absl::StatusOr<Token> key = next();
        if (!key.ok()) return key.status();
        if (is_punct(*key, ';')) break;
        if (key->kind != Token::Kind::kWord) return syntax_error(*key, "an option name or ';'");
        absl::StatusOr<Token> equals = next();
        if (!equals.ok()) return equals.status();
        if (!is_punct(*equals, '=')) return syntax_error(*equals, "'='");
        absl::StatusOr<Token> value = next();
        if (!value.ok()) return value.status();
        if (value->kind != Token::Kind::kWord && value->kind != Token::Kind::kQuoted) {
          return syntax_error(*value, "a value");
        }
        if (server && key->text.starts_with("user_")) {
          users[key->text.substr(5)] = value->text;
        }
      }
    }
    absl::StatusOr<Token> close = next();
    if (!close.ok()) return close.status();
    if (!is_punct(*close, ';')) return syntax_error(*close, "';' after '}'");
  }
  if (!found_server) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": no \"Server\" section"));
  }
  if (users.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": section Server has no user_<name>=\"<password>\" option"));
  }
  return users;
}

absl::StatusOr<std::map<std::string, std::string>> ReadJaasServerUsers(const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigText(path);
  if (!text.ok()) return text.status();
  return ParseJaasServerUsers(*text, path);
}

}  // namespace zk::internal
