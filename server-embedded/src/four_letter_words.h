// Four-letter words: ruok, srvr, stat, mntr, conf, cons, envi, wchs, dump,
// isro, answered as plain text on a fresh connection.

#ifndef ZK_SERVER_EMBEDDED_SRC_FOUR_LETTER_WORDS_H_
#define ZK_SERVER_EMBEDDED_SRC_FOUR_LETTER_WORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// Returns the plain-text answer of a four-letter word.
std::string RunFourLetterWord(std::string_view word, const ZooKeeperService& service,
                              const FourLetterContext& context);

}  // namespace zk::testing::internal

#endif  // ZK_SERVER_EMBEDDED_SRC_FOUR_LETTER_WORDS_H_
