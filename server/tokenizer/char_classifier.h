// Unicode character classes the tokenizer needs, all derived from utf8proc's
// Unicode database at start-up (no hand-made tables).
//
// - Classify: the classes of the pre-tokenizer pattern, as Oniguruma (the
//   reference tokenizer's regex engine) defines them: letters \p{L} (Lu Ll Lt
//   Lm Lo), numbers \p{N} (Nd Nl No), whitespace \s (U+0009..U+000D, U+0085
//   and Zs Zl Zp, which is exactly Unicode's White_Space property), and the
//   rest.
// - IsWhitespace: White_Space, which is also Rust's char::is_whitespace and
//   Rust regex \s (used for AddedToken lstrip / rstrip).
// - IsPythonSpace: Python's str.isspace (Zs, or bidirectional class WS, B or
//   S), used to strip decoded tokens as Python's str.strip() does.
// - IsWordChar: Rust regex \w, for AddedToken single_word. utf8proc has no
//   Other_Alphabetic property, so this is letters, marks, Nd, Nl,
//   connector punctuation and U+200C/U+200D: it differs from \w only on a
//   few symbols such as circled letters.
//
// Thread safety: immutable after construction; Get() returns a process-wide
// instance built on first use (thread-safe static initialisation).
#ifndef SECUREBERT_SERVER_TOKENIZER_CHAR_CLASSIFIER_H_
#define SECUREBERT_SERVER_TOKENIZER_CHAR_CLASSIFIER_H_

#include <array>
#include <cstdint>

namespace securebert::tokenizer {

enum class CharClass : uint8_t {
  kLetter,      // \p{L}
  kNumber,      // \p{N}
  kWhitespace,  // \s
  kOther,       // [^\s\p{L}\p{N}]
};

class CharClassifier {
 public:
  static const CharClassifier& Get();

  CharClass Classify(uint32_t code_point) const {
    return code_point < 128 ? ascii_class_[code_point] : ClassifyNonAscii(code_point);
  }
  bool IsWhitespace(uint32_t code_point) const {
    return Classify(code_point) == CharClass::kWhitespace;
  }
  bool IsPythonSpace(uint32_t code_point) const;
  bool IsWordChar(uint32_t code_point) const;

  // The class of each ASCII character, for scanners' fast paths.
  const std::array<CharClass, 128>& ascii_classes() const { return ascii_class_; }

 private:
  CharClassifier();
  CharClass ClassifyNonAscii(uint32_t code_point) const;

  // Constant after construction.
  std::array<CharClass, 128> ascii_class_;    // Classify() of each ASCII char
  std::array<CharClass, 32> category_class_;  // class of each utf8proc category
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_CHAR_CLASSIFIER_H_
