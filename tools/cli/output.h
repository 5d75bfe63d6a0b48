// zkcpp CLI — where results, events and messages are written.
//
// Results and events go to one stream (stdout; stderr for lock and elect with a command, whose
// stdout belongs to the command), as text or, with --json, as one compact JSON object per line.
// Messages and errors always go to stderr, prefixed "zkcpp: ". Every write is flushed at once,
// so that a pipe sees each event as it happens.
//
// User bytes are made safe for a terminal (escape.h): messages are always escaped; results are
// escaped (text) or ASCII-only (JSON) when their stream is a terminal, and left exact otherwise.
//
// Thread-safety: thread-safe; lines written from several threads never interleave.

#ifndef ZKCPP_TOOLS_CLI_OUTPUT_H_
#define ZKCPP_TOOLS_CLI_OUTPUT_H_

#include <cstdio>
#include <mutex>
#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace zk::cli {

// JSON objects keep their keys in insertion order ("path" first), for people reading them.
using Json = nlohmann::ordered_json;

class Output {
 public:
  // Writes results to `results` (stdout or stderr) as JSON lines if `json`, else as text.
  Output(bool json, std::FILE* results);
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  bool json() const { return json_; }

  // Writes one result or event: `object` in JSON mode, else `text` (if not empty) and a newline.
  void Emit(const Json& object, std::string_view text);
  // Reports an event of the CLI itself (lock acquired, leader elected): `object` in JSON mode,
  // else Note(text).
  void EmitOrNote(const Json& object, std::string_view text);
  // Writes `bytes` exactly as they are (get in text mode); escaped if results go to a terminal.
  void Raw(std::string_view bytes);
  // Writes "zkcpp: <message>" and a newline to stderr, the message escaped onto one line.
  void Note(std::string_view message);
  // Notes the message of `status` ("<op> <path>: <problem>").
  void Error(const absl::Status& status);

  // Serializes `object` on one line; invalid UTF-8 in strings becomes U+FFFD. `ascii_only`
  // writes every other character as \uXXXX too (for a terminal).
  static std::string Dump(const Json& object, bool ascii_only = false);

 private:
  // Called with mu_ held.
  void WriteLocked(std::FILE* stream, std::string_view bytes);

  const bool json_;
  std::FILE* const results_;
  const bool results_on_terminal_;
  std::mutex mu_;  // one line at a time, results and notes alike
};

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_OUTPUT_H_
