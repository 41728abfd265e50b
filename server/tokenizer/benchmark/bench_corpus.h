// The tokenizer benchmark's corpus: cybersecurity-like documents (advisory
// and threat-report prose, syslog / web / firewall / EDR log lines, IOCs)
// generated from tests/data/tokenizer/bench_corpus_seed.txt, mixed with the
// parity texts (non-Latin scripts, emoji, control characters). Deterministic
// for a given seed, so runs compare.
//
// Used only by tokenizer_benchmark.cc. Thread safety: plain functions.
#ifndef SECUREBERT_SERVER_TOKENIZER_BENCHMARK_BENCH_CORPUS_H_
#define SECUREBERT_SERVER_TOKENIZER_BENCHMARK_BENCH_CORPUS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace securebert::tokenizer {

struct BenchCorpusOptions {
  std::string seed_path;             // bench_corpus_seed.txt
  std::string parity_path;           // parity.jsonl (texts mixed in), may be empty
  size_t min_total_bytes = 6 << 20;  // stop once the documents reach this size
  size_t document_bytes = 1500;      // rough size of one document (one request)
  uint32_t random_seed = 20240531;   // fixes the output
};

// Documents of about options.document_bytes each, totalling at least
// options.min_total_bytes.
absl::StatusOr<std::vector<std::string>> MakeBenchCorpus(const BenchCorpusOptions& options);

// The "text" of every line of a JSONL file, one document each; a line that is
// not {"text": "..."} is InvalidArgument naming the line.
absl::StatusOr<std::vector<std::string>> ReadJsonlTexts(const std::string& path);

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_BENCHMARK_BENCH_CORPUS_H_
