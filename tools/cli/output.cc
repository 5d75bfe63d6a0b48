#include "cli/output.h"

#include <unistd.h>

#include <string>

#include "cli/escape.h"

namespace zk::cli {

Output::Output(bool json, std::FILE* results)
    : json_(json), results_(results), results_on_terminal_(::isatty(::fileno(results)) == 1) {}

std::string Output::Dump(const Json& object, bool ascii_only) {
  return object.dump(-1, ' ', ascii_only, nlohmann::ordered_json::error_handler_t::replace);
}

void Output::Emit(const Json& object, std::string_view text) {
  std::string line = json_                  ? Dump(object, results_on_terminal_)
                     : results_on_terminal_ ? EscapeForTerminal(text, LineBreaks::kKeep)
                                            : std::string(text);
  if (line.empty()) return;
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  WriteLocked(results_, line);
}

void Output::EmitOrNote(const Json& object, std::string_view text) {
  if (json_) {
    Emit(object, "");
  } else {
    Note(text);
  }
}

void Output::Raw(std::string_view bytes) {
  const std::string escaped =
      results_on_terminal_ ? EscapeForTerminal(bytes, LineBreaks::kKeep) : std::string();
  std::lock_guard<std::mutex> lock(mu_);
  WriteLocked(results_, results_on_terminal_ ? std::string_view(escaped) : bytes);
}

void Output::Note(std::string_view message) {
  std::string line = "zkcpp: ";
  line.append(EscapeForTerminal(message, LineBreaks::kEscape));
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  WriteLocked(stderr, line);
}

void Output::Error(const absl::Status& status) {
  const absl::string_view message = status.message();
  Note(std::string_view(message.data(), message.size()));
}

void Output::WriteLocked(std::FILE* stream, std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stream);
  std::fflush(stream);
}

}  // namespace zk::cli
