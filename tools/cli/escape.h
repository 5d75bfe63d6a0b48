// zkcpp CLI — user bytes shown safely on a terminal.
//
// Node data, paths, ids and metadata come from other users of the ensemble.
// Written raw to a terminal, an escape sequence in them can recolour, retitle
// or rewrite the screen (or worse, on some terminals, answer back). zkcpp
// therefore escapes them where a person reads them: always in messages on
// stderr, and in results when stdout is a terminal; results into a pipe or a
// file stay byte-exact (`zkcpp get /a > file` copies the data).
//
// What is escaped: C0 control characters and DEL (as \xNN, \n and \t unless
// kept), C1 control characters (U+0080-U+009F, as \u0080), and bytes that are
// not UTF-8 (as \xNN). Backslashes are left alone, so the escaped text reads
// naturally; it is for eyes, not for parsing back.

#ifndef ZKCPP_TOOLS_CLI_ESCAPE_H_
#define ZKCPP_TOOLS_CLI_ESCAPE_H_

#include <string>
#include <string_view>

namespace zk::cli {

enum class LineBreaks {
  kKeep,    // results: newlines and tabs are layout
  kEscape,  // messages: one line each
};

// Returns `bytes` with control characters and invalid UTF-8 escaped (see
// above).
std::string EscapeForTerminal(std::string_view bytes, LineBreaks line_breaks);

}  // namespace zk::cli

#endif  // ZKCPP_TOOLS_CLI_ESCAPE_H_
