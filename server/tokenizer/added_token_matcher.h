// Splits user text on added tokens (<s>, </s>, <pad>, <unk>, <mask>, ...)
// before pre-tokenization, as Hugging Face's AddedVocabulary does:
// leftmost-longest, non-overlapping matches; tokens that are not
// `normalized` are matched first over the whole text, `normalized` ones then
// over what is left between (there is no normalizer, so both passes see the
// same characters); lstrip / rstrip widen a match over the White_Space
// characters before / after it (never into the previous match), and a
// single_word token is dropped where a word character touches it.
//
// Owned by Tokenizer. Thread safety: immutable after construction.
#ifndef SECUREBERT_SERVER_TOKENIZER_ADDED_TOKEN_MATCHER_H_
#define SECUREBERT_SERVER_TOKENIZER_ADDED_TOKEN_MATCHER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace securebert::tokenizer {

// An added token with its id, as the matcher needs it.
struct AddedTokenRule {
  std::string content;       // text to match, e.g. "<mask>"
  int32_t id = 0;            // vocabulary id
  bool lstrip = false;       // absorb whitespace before the token
  bool rstrip = false;       // absorb whitespace after the token
  bool single_word = false;  // match only when no word character touches it
  bool normalized = false;   // matched in the second pass
};

// One piece of the split text.
struct TextSplit {
  uint32_t start = 0;  // byte offset of the first byte
  uint32_t end = 0;    // byte offset one past the last byte
  int32_t id = -1;     // added token id, or -1 for plain text
};

class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(std::vector<AddedTokenRule> rules);

  // Replaces *splits with the pieces of `text` (valid UTF-8): plain-text
  // ranges (id -1) and added-token matches, in order, covering the text.
  // An empty text gives no pieces.
  void Split(std::string_view text, std::vector<TextSplit>* splits) const;

  bool empty() const { return rules_.empty(); }

 private:
  // The rules of one pass, longest content first.
  struct Pass {
    std::vector<const AddedTokenRule*> rules;
    std::array<bool, 256> first_byte{};  // bytes some rule starts with
  };

  // Appends to *out the pieces of text[begin, end) for one pass.
  void SplitRange(std::string_view text, uint32_t begin, uint32_t end, const Pass& pass,
                  std::vector<TextSplit>* out) const;
  // The longest rule of `pass` matching at text[pos], or nullptr.
  static const AddedTokenRule* MatchAt(std::string_view text, size_t pos, size_t end,
                                       const Pass& pass);
  static bool SingleWordOk(std::string_view text, size_t start, size_t stop);

  // Constant after construction.
  std::vector<AddedTokenRule> rules_;
  Pass raw_pass_;         // rules with normalized == false
  Pass normalized_pass_;  // rules with normalized == true
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_ADDED_TOKEN_MATCHER_H_
