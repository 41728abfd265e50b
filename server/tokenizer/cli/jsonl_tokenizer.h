// The line protocol of the securebert-tokenize CLI: one JSON object
// {"text": ...} in, one JSON object {"text", "ids", "tokens", "offsets"}
// out (plus "truncated": true when tokens were cut). A bad line (not JSON,
// no string "text", invalid UTF-8, too long) gives {"error": "..."} instead,
// so the output stays one line per input line.
//
// Used by tokenize_main.cc and its tests. Thread safety: const methods only;
// safe from many threads if the Tokenizer outlives this object (it is not
// owned).
#ifndef SECUREBERT_SERVER_TOKENIZER_CLI_JSONL_TOKENIZER_H_
#define SECUREBERT_SERVER_TOKENIZER_CLI_JSONL_TOKENIZER_H_

#include <string>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace securebert::tokenizer {

class JsonlTokenizer {
 public:
  JsonlTokenizer(const Tokenizer* tokenizer, const EncodeOptions& options)
      : tokenizer_(tokenizer), options_(options) {}

  // The output line (no trailing newline) for one input line.
  std::string ProcessLine(std::string_view line) const;

 private:
  // Constant after construction.
  const Tokenizer* const tokenizer_;  // not owned
  const EncodeOptions options_;       // applied to every line
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_CLI_JSONL_TOKENIZER_H_
