// CyberTextGenerator: deterministic synthetic cybersecurity prose for
// securebert-load, so a benchmark needs no data set. Each text's length is
// drawn uniformly from [min_tokens, max_tokens] (estimated RoBERTa BPE
// tokens, <s> and </s> included). Against the roberta-base BPE in
// tests/data/tokenizer the real counts of the default mix average 1.02x the
// estimate (0.86x to 1.44x per text); the load generator reports the
// server's counts, not the estimate. Sentences are assembled from
// templates about actors, malware, CVEs, techniques and defences.
//
// Same options, same seed: the same texts, on every machine (the generator
// draws with its own arithmetic, not std:: distributions, whose results
// differ between standard libraries).
//
// Thread safety: none; one generator per thread.
#ifndef SECUREBERT_CLIENT_LOAD_TEXT_GENERATOR_H_
#define SECUREBERT_CLIENT_LOAD_TEXT_GENERATOR_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace securebert::client {

class CyberTextGenerator {
 public:
  struct Options {
    // Shortest text in estimated tokens, <s> and </s> included; >= 3.
    int min_tokens = 8;
    // Longest text in estimated tokens; >= min_tokens.
    int max_tokens = 256;
    // Seed of the draw.
    uint64_t seed = 1;
    // Replace one word of every text by "<mask>" (for PredictMask).
    bool insert_mask = false;
  };

  explicit CyberTextGenerator(const Options& options);

  // The next text.
  std::string Next();

  // Estimated BPE tokens of one space-separated word (with its leading
  // space): 1 for a short plain word, more for long, numeric or punctuated
  // ones.
  static int EstimateWordTokens(absl::string_view word);
  // Estimated tokens of a text, <s> and </s> included.
  static int EstimateTokens(absl::string_view text);

 private:
  // Uniform index in [0, n).
  size_t Pick(size_t n);
  // One sentence, as words.
  std::vector<std::string> Sentence();

  // Constant after construction.
  const Options options_;
  std::mt19937_64 rng_;
};

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_LOAD_TEXT_GENERATOR_H_
