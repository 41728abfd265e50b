// Readers for the files a byte-level BPE tokenizer is built from: the
// Hugging Face `tokenizer.json`, or the older `vocab.json` + `merges.txt`
// pair. They check the format only; Tokenizer checks that the pieces agree
// (merges against the vocabulary, special tokens present).
//
// Supported tokenizer.json: model BPE (no dropout, no subword prefix or
// suffix, no byte fallback), no normalizer, a ByteLevel pre-tokenizer (alone
// or as the only step of a Sequence), a RobertaProcessing, BertProcessing,
// ByteLevel or "<cls> $A <sep>" TemplateProcessing post-processor. Anything
// else is refused with Unimplemented rather than tokenized differently.
//
// Thread safety: stateless functions.
#ifndef SECUREBERT_SERVER_TOKENIZER_MODEL_FILES_H_
#define SECUREBERT_SERVER_TOKENIZER_MODEL_FILES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "tokenizer/tokenizer_config.h"

namespace securebert::tokenizer {

// Everything read from the model files, before it is checked and built.
struct ModelFiles {
  absl::flat_hash_map<std::string, int32_t> vocab;          // spelling -> id
  std::vector<std::pair<std::string, std::string>> merges;  // best first
  // tokenizer.json only: its added tokens with their ids (empty otherwise).
  std::vector<std::pair<AddedTokenSpec, int32_t>> added_tokens;
  std::optional<bool> add_prefix_space;  // pre_tokenizer's, when given
  bool use_regex = true;                 // ByteLevel splits with the pattern
  bool ignore_merges = false;            // BPE: whole vocabulary words first
  bool add_bos_eos = true;               // the post-processor adds <s> </s>
  std::optional<std::string> cls_token;  // post-processor's first token
  std::optional<std::string> sep_token;  // post-processor's last token
};

// vocab.json: an object of spelling -> id.
absl::Status ReadVocabJson(const std::string& path, ModelFiles* files);

// merges.txt: an optional "#version" line, then "left right" per line.
absl::Status ReadMergesTxt(const std::string& path, ModelFiles* files);

// tokenizer.json, into a fresh *files.
absl::Status ReadTokenizerJson(const std::string& path, ModelFiles* files);

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_MODEL_FILES_H_
