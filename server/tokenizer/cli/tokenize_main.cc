// securebert-tokenize: tokenizes JSONL from stdin with SecureBERT's
// tokenizer and writes one JSONL line per input line to stdout.
//
//   securebert-tokenize --model_dir DIR < in.jsonl > out.jsonl
//   securebert-tokenize --vocab vocab.json --merges merges.txt < in.jsonl
//
// Input lines: {"text": "..."}. Output lines: {"text", "ids", "tokens",
// "offsets"} (offsets are byte ranges [start, end) into the text), or
// {"error": "..."} for a bad line. Flags and wiring only; the line protocol
// is JsonlTokenizer.
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "tokenizer/cli/jsonl_tokenizer.h"
#include "tokenizer/tokenizer.h"

ABSL_FLAG(std::string, model_dir, "",
          "Model directory: tokenizer.json, or vocab.json + merges.txt "
          "(+ tokenizer_config.json, special_tokens_map.json)");
ABSL_FLAG(std::string, vocab, "", "vocab.json (with --merges, instead of --model_dir)");
ABSL_FLAG(std::string, merges, "", "merges.txt (with --vocab, instead of --model_dir)");
ABSL_FLAG(int, max_tokens, 0, "Longest output in tokens, <s> and </s> included; 0 = no limit");
ABSL_FLAG(std::string, truncation, "none",
          "Past --max_tokens: none (the line is an error), right (keep the start) or left "
          "(keep the end)");
ABSL_FLAG(bool, add_special_tokens, true, "Wrap each text in <s> ... </s>");

namespace {

using securebert::tokenizer::EncodeOptions;
using securebert::tokenizer::JsonlTokenizer;
using securebert::tokenizer::Tokenizer;
using securebert::tokenizer::Truncation;

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer() {
  const std::string model_dir = absl::GetFlag(FLAGS_model_dir);
  const std::string vocab = absl::GetFlag(FLAGS_vocab);
  const std::string merges = absl::GetFlag(FLAGS_merges);
  if (!model_dir.empty() && vocab.empty() && merges.empty()) {
    return Tokenizer::FromModelDir(model_dir);
  }
  if (model_dir.empty() && !vocab.empty() && !merges.empty()) {
    return Tokenizer::FromFiles(vocab, merges);
  }
  return absl::InvalidArgumentError("give either --model_dir, or both --vocab and --merges");
}

absl::StatusOr<EncodeOptions> ParseEncodeOptions() {
  EncodeOptions options;
  const int max_tokens = absl::GetFlag(FLAGS_max_tokens);
  if (max_tokens < 0) return absl::InvalidArgumentError("--max_tokens must be >= 0");
  options.max_tokens = static_cast<size_t>(max_tokens);
  options.add_special_tokens = absl::GetFlag(FLAGS_add_special_tokens);
  const std::string truncation = absl::GetFlag(FLAGS_truncation);
  if (truncation == "none") {
    options.truncation = Truncation::kNone;
  } else if (truncation == "right") {
    options.truncation = Truncation::kRight;
  } else if (truncation == "left") {
    options.truncation = Truncation::kLeft;
  } else {
    return absl::InvalidArgumentError("--truncation must be none, right or left");
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Tokenizes JSONL {\"text\": ...} lines from stdin; writes {\"text\", \"ids\", \"tokens\", "
      "\"offsets\"} lines to stdout.\n  securebert-tokenize --model_dir DIR < in.jsonl");
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<EncodeOptions> options = ParseEncodeOptions();
  if (!options.ok()) {
    std::cerr << "securebert-tokenize: " << options.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer();
  if (!tokenizer.ok()) {
    std::cerr << "securebert-tokenize: " << tokenizer.status() << "\n";
    return 1;
  }
  std::ios::sync_with_stdio(false);
  const JsonlTokenizer jsonl(tokenizer->get(), *options);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::cout << jsonl.ProcessLine(line) << '\n';
  }
  std::cout.flush();
  return std::cout.good() ? 0 : 1;
}
