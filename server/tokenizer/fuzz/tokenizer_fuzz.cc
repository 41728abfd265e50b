// libFuzzer target for the tokenizer: arbitrary bytes must never crash
// Encode or Decode (ASan + UBSan in CI), and for valid UTF-8 without added
// tokens decode(encode(text)) must give the text back, since byte-level BPE
// loses nothing. Run with tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS.
//
// The vocabulary is tests/data/tokenizer/ (roberta-base); set
// SECUREBERT_TOKENIZER_DIR to fuzz another model directory.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

using securebert::tokenizer::EncodeOptions;
using securebert::tokenizer::Encoding;
using securebert::tokenizer::FindInvalidUtf8;
using securebert::tokenizer::Tokenizer;
using securebert::tokenizer::Truncation;

const Tokenizer& GetTokenizer() {
  static const Tokenizer* const kTokenizer = [] {
    const char* dir = std::getenv("SECUREBERT_TOKENIZER_DIR");
    auto tokenizer = dir != nullptr ? Tokenizer::FromModelDir(dir)
                                    : Tokenizer::FromFiles(
                                          SECUREBERT_SOURCE_DIR "/tests/data/tokenizer/vocab.json",
                                          SECUREBERT_SOURCE_DIR "/tests/data/tokenizer/merges.txt");
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "cannot load the tokenizer: %s\n",
                   tokenizer.status().ToString().c_str());
      std::abort();
    }
    return tokenizer->release();
  }();
  return *kTokenizer;
}

void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "check failed: %s\n", what);
  std::abort();
}

bool HasAddedToken(std::string_view text) {
  for (const char* token : {"<s>", "</s>", "<pad>", "<unk>", "<mask>"}) {
    if (text.find(token) != std::string_view::npos) return true;
  }
  return false;
}

// Offsets lie inside the text and never go backwards.
void CheckOffsets(const Encoding& encoding, size_t text_size) {
  Check(encoding.ids.size() == encoding.offsets.size(), "one offset per id");
  uint32_t previous_end = 0;
  for (size_t i = 1; i + 1 < encoding.offsets.size(); ++i) {
    const auto [start, end] = encoding.offsets[i];
    Check(start <= end && end <= text_size, "offset inside the text");
    Check(start >= previous_end, "offsets in order");
    previous_end = end;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Tokenizer& tokenizer = GetTokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = FindInvalidUtf8(text) == size;

  const auto encoding = tokenizer.Encode(text, EncodeOptions{});
  Check(encoding.ok() == valid, "Encode fails exactly on invalid UTF-8");
  if (encoding.ok()) {
    CheckOffsets(*encoding, size);
    if (!HasAddedToken(text)) {
      Check(tokenizer.Decode(encoding->ids, /*skip_special_tokens=*/true) == text,
            "decode(encode(text)) == text");
    }
    EncodeOptions cut;
    cut.truncation = size % 2 == 0 ? Truncation::kRight : Truncation::kLeft;
    cut.max_tokens = 2 + size % 7;
    const auto truncated = tokenizer.Encode(text, cut);
    Check(truncated.ok() && truncated->ids.size() <= cut.max_tokens, "truncation fits");
    Check(truncated->truncated == (encoding->ids.size() > cut.max_tokens), "truncated flag");
  }

  // Any ids, known or not, decode to valid UTF-8.
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 1 < size; i += 2) {
    const int32_t raw = data[i] | (data[i + 1] << 8);
    ids.push_back(raw * 13 % 50300 - 10);
  }
  const std::string decoded = tokenizer.Decode(ids, /*skip_special_tokens=*/size % 3 == 0);
  Check(FindInvalidUtf8(decoded) == decoded.size(), "decode gives valid UTF-8");
  if (!ids.empty()) {
    const std::string token = tokenizer.DecodeToken(ids[0]);
    Check(FindInvalidUtf8(token) == token.size(), "DecodeToken gives valid UTF-8");
  }
  return 0;
}
