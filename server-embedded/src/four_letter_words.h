// Four-letter words: ruok, srvr, stat, mntr, conf, cons, envi, wchs, dump,
// isro, answered as plain text on a fresh connection.

#ifndef ZK_SERVER_EMBEDDED_SRC_FOUR_LETTER_WORDS_H_
#define ZK_SERVER_EMBEDDED_SRC_FOUR_LETTER_WORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zookeeper_service.h"

namespace zk::testing::internal {

// Holds what a four-letter word reports about the member it runs on.
struct FourLetterContext {
  int member = 0;
  int members = 1;
  int client_port = 0;
};

// Returns the word if the first four bytes of a connection (read as the
// frame length) spell a known four-letter word.
std::optional<std::string> AsFourLetterWord(int32_t first_int);

// Returns true if `word` may run under `whitelist` (ZooKeeper's 4lw.commands.whitelist: "*"
// enables all); `isro` is also enabled when `read_only_enabled`.
bool FourLetterWordEnabled(std::string_view word, const std::vector<std::string>& whitelist,
                           bool read_only_enabled);

// Returns ZooKeeper's answer to a word that is not enabled.
std::string FourLetterWordRefusal(std::string_view word);

// Returns the plain-text answer of a four-letter word.
std::string RunFourLetterWord(std::string_view word, const ZooKeeperService& service,
                              const FourLetterContext& context);

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_FOUR_LETTER_WORDS_H_
