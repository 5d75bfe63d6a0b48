#include "cli/output.h"

#include <string>

namespace zk::cli {

std::string Output::Dump(const Json& object) {
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void Output::Emit(const Json& object, std::string_view text) {
  std::string line = json_ ? Dump(object) : std::string(text);
  if (line.empty()) return;
  line.push_back('\n');
  zk::internal::MutexLock lock(&mu_);
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
  zk::internal::MutexLock lock(&mu_);
  WriteLocked(results_, bytes);
}

void Output::Note(std::string_view message) {
  std::string line = "zkcpp: ";
  line.append(message);
  line.push_back('\n');
  zk::internal::MutexLock lock(&mu_);
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
