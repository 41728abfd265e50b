// SecureBERT's tokenizer: RoBERTa's byte-level BPE, giving exactly the ids of
// Hugging Face's fast RoBERTa tokenizer, with byte offsets into the input
// and Hugging Face's decode.
//
// Encode runs: UTF-8 check -> split out added tokens (<s> </s> <pad> <unk>
// <mask>; <mask> absorbs the whitespace before it) -> pre-tokenize each
// segment (GPT-2 pattern) -> BPE each piece (whole-word table, then the word
// cache, then the merge loop) -> <s> ... </s> -> truncation.
//
// Used by the server's tokenizer stage (service requests), the
// securebert-tokenize CLI, tests, the fuzzer and the benchmark.
//
// Thread safety: a Tokenizer is immutable after its factory returns, except
// for its internal word cache, which is internally synchronized; Encode,
// Decode and every accessor are const and safe from any number of threads
// at once. Ownership: the factories return a unique_ptr the caller owns;
// string_views returned point into the Tokenizer (or into the caller's text
// for TokenString) and live as long as it (or that text).
#ifndef SECUREBERT_SERVER_TOKENIZER_TOKENIZER_H_
#define SECUREBERT_SERVER_TOKENIZER_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tokenizer/tokenizer_config.h"

namespace securebert::tokenizer {

class AddedTokenMatcher;
class BpeModel;
class WordCache;
struct ModelFiles;

enum class Truncation {
  kNone,   // a longer input is an error
  kRight,  // keep the first tokens
  kLeft,   // keep the last tokens
};

struct EncodeOptions {
  Truncation truncation = Truncation::kNone;  // what to do past max_tokens
  // Longest output in tokens, <s> and </s> included; 0 = no limit. With kNone
  // and a longer input, Encode returns InvalidArgument naming the length and
  // the limit ("input has 700 tokens, more than max_input_tokens=512").
  size_t max_tokens = 0;
  bool add_special_tokens = true;  // wrap in <s> ... </s>
};

struct Encoding {
  std::vector<int32_t> ids;  // <s> ... </s>
  // Byte range [start, end) of each token in the text; {0, 0} for the added
  // <s> and </s>. A <mask> that absorbed whitespace covers that whitespace.
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  bool truncated = false;  // tokens were dropped to fit max_tokens
};

struct DecodeOptions {
  bool skip_special_tokens = false;  // drop <s>, </s>, <pad>, <mask>, ...
};

class Tokenizer {
 public:
  // Loads `dir`/tokenizer.json when present, else `dir`/vocab.json and
  // `dir`/merges.txt; tokenizer_config.json and special_tokens_map.json are
  // read when present. NotFound for missing files; InvalidArgument for
  // malformed or inconsistent ones (a merge whose parts or result are not in
  // the vocabulary, a missing special token); Unimplemented for tokenizer
  // features other than RoBERTa's.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromModelDir(const std::string& dir);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromFiles(const std::string& vocab_json,
                                                              const std::string& merges_txt,
                                                              const TokenizerConfig& config = {});
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromTokenizerJson(
      const std::string& tokenizer_json, const TokenizerConfig& config = {});

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // InvalidArgument for text that is not valid UTF-8 (naming the byte
  // offset), or longer than max_tokens under Truncation::kNone.
  absl::StatusOr<Encoding> Encode(std::string_view text, const EncodeOptions& options) const;

  // Vocabulary string of `id`, e.g. "Ġworld" or "<mask>"; empty if unknown.
  std::string_view TokenText(int32_t id) const;
  // Token `index` of `encoding` (of `text`) as Hugging Face's
  // Encoding.tokens shows it: the vocabulary string, except that an added
  // token found in the text shows the text it covers (" <mask>").
  std::string_view TokenString(std::string_view text, const Encoding& encoding, size_t index) const;

  // Hugging Face's decode: byte-level, unknown ids dropped, invalid UTF-8
  // replaced by U+FFFD, clean_up_tokenization_spaces when the config says so.
  std::string Decode(absl::Span<const int32_t> ids, const DecodeOptions& options) const;
  std::string Decode(absl::Span<const int32_t> ids, bool skip_special_tokens) const {
    return Decode(ids, DecodeOptions{skip_special_tokens});
  }
  // One candidate token as the fill-mask model card prints it:
  // decode([id]) with surrounding whitespace stripped (Python's str.strip()).
  std::string DecodeToken(int32_t id) const;
  // The fill-mask pipeline's "sequence": `ids` (an encoding's) with the token
  // at `position` replaced by `candidate`, <pad> removed, decoded with
  // special tokens skipped when the input holds one mask (`masks` == 1) and
  // kept when it holds several (Hugging Face keeps the other <mask>s).
  std::string DecodeFilled(absl::Span<const int32_t> ids, size_t position, int32_t candidate,
                           size_t masks) const;

  bool IsSpecial(int32_t id) const;
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  int32_t mask_id() const { return mask_id_; }
  std::string_view mask_token() const { return mask_token_; }  // "<mask>"
  size_t vocab_size() const { return vocab_size_; }            // largest id + 1
  // The most bytes any one id decodes to (before U+FFFD replacement).
  size_t max_token_bytes() const { return max_token_bytes_; }
  // From tokenizer_config.json: 512 for SecureBERT; 0 if unknown.
  size_t model_max_length() const { return model_max_length_; }

 private:
  Tokenizer();
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Build(const ModelFiles& files,
                                                          const TokenizerConfig& config);
  absl::Status BuildAddedTokens(const ModelFiles& files, const TokenizerConfig& config);

  // Appends the tokens of plain text[begin, end) to *out, stopping once
  // out->ids holds more than `id_limit` ids.
  void EncodeSegment(std::string_view text, uint32_t begin, uint32_t end, size_t id_limit,
                     Encoding* out) const;
  // Appends the tokens of one pre-token; offsets are max(word_start + i,
  // min_offset) for the word's byte i.
  void EncodeWord(std::string_view word, int64_t word_start, uint32_t min_offset,
                  Encoding* out) const;
  absl::Status Truncate(const EncodeOptions& options, Encoding* encoding) const;
  // The bytes `id` decodes to (see Decode).
  std::string_view DecodeBytes(int32_t id) const;

  // Constant after construction.
  std::unique_ptr<BpeModel> bpe_;                            // vocabulary, merges, whole words
  std::unique_ptr<AddedTokenMatcher> matcher_;               // splits added tokens out of text
  absl::flat_hash_map<int32_t, std::string> added_content_;  // added id -> content
  absl::flat_hash_map<int32_t, std::string> added_bytes_;    // added id -> decoded bytes
  std::vector<bool> special_;                                // per id: special token
  int32_t cls_id_ = -1;                                      // first token of every encoding (<s>)
  int32_t sep_id_ = -1;                                      // last token of every encoding (</s>)
  int32_t bos_id_ = -1;                                      // bos_token's id
  int32_t eos_id_ = -1;                                      // eos_token's id
  int32_t pad_id_ = -1;                                      // pad_token's id
  int32_t unk_id_ = -1;                                      // unk_token's id
  int32_t mask_id_ = -1;                                     // mask_token's id
  std::string mask_token_;                                   // "<mask>"
  bool add_bos_eos_ = true;                                  // post-processor wraps in <s> ... </s>
  bool add_prefix_space_ = false;                            // ByteLevel add_prefix_space
  bool use_regex_ = true;                      // ByteLevel splits with the GPT-2 pattern
  bool clean_up_tokenization_spaces_ = false;  // Decode's transformers clean-up
  size_t vocab_size_ = 0;                      // largest id + 1
  size_t max_token_bytes_ = 0;                 // longest DecodeBytes of any id
  size_t model_max_length_ = 0;                // tokens, <s> </s> included; 0 = unknown

  // Internally synchronized; filled by Encode.
  std::unique_ptr<WordCache> cache_;
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_TOKENIZER_H_
