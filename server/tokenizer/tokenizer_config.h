// The settings a Hugging Face model directory gives its tokenizer beside the
// vocabulary: special tokens and their matching flags, add_prefix_space,
// model_max_length, clean_up_tokenization_spaces. The defaults are
// RoBERTa's, so vocab.json + merges.txt alone give the RoBERTa tokenizer.
//
// ReadTokenizerConfigFiles reads tokenizer_config.json and then
// special_tokens_map.json (each when present; the latter wins, as in
// transformers). A special token given as a plain string keeps its role's
// default flags (<mask>: lstrip) unless tokenizer_config.json's
// added_tokens_decoder lists flags for that content; one given as an object
// carries its own flags.
//
// Thread safety: plain values; the function touches only its arguments.
#ifndef SECUREBERT_SERVER_TOKENIZER_TOKENIZER_CONFIG_H_
#define SECUREBERT_SERVER_TOKENIZER_TOKENIZER_CONFIG_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace securebert::tokenizer {

// One added token as the Hugging Face files describe it.
struct AddedTokenSpec {
  std::string content;       // text of the token, e.g. "<mask>"
  bool lstrip = false;       // absorbs the whitespace before it in user text
  bool rstrip = false;       // absorbs the whitespace after it in user text
  bool single_word = false;  // matches only where no word character touches it
  bool normalized = false;   // matched after normalization (second pass)
  bool special = true;       // dropped by Decode with skip_special_tokens
};

struct TokenizerConfig {
  // Prepend a space to each text segment that does not start with one, so the
  // first word is tokenized like any other ("Ġhello"). RoBERTa: false. When
  // unset, tokenizer.json's pre_tokenizer decides (false without one).
  std::optional<bool> add_prefix_space;
  // Longest model input in tokens, <s> and </s> included; 0 when unknown.
  // tokenizer_config.json's model_max_length (or the older max_len).
  size_t model_max_length = 0;
  // transformers' clean_up_tokenization_spaces on decode (" ." -> ".", ...).
  bool clean_up_tokenization_spaces = false;
  AddedTokenSpec bos_token{"<s>"};                        // beginning of sequence
  AddedTokenSpec eos_token{"</s>"};                       // end of sequence
  AddedTokenSpec cls_token{"<s>"};                        // Encode puts it first
  AddedTokenSpec sep_token{"</s>"};                       // Encode puts it last
  AddedTokenSpec pad_token{"<pad>"};                      // fills batches
  AddedTokenSpec unk_token{"<unk>"};                      // unknown token
  AddedTokenSpec mask_token{"<mask>", /*lstrip=*/true};   // what PredictMask fills
  std::vector<AddedTokenSpec> additional_special_tokens;  // any others
};

// Updates *config from `dir`/tokenizer_config.json and
// `dir`/special_tokens_map.json, each only when present. Malformed JSON or
// fields of the wrong type give InvalidArgument naming the file.
absl::Status ReadTokenizerConfigFiles(const std::string& dir, TokenizerConfig* config);

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_TOKENIZER_CONFIG_H_
