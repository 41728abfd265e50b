// The ByteLevel pre-tokenizer of GPT-2 / RoBERTa, written as a hand-made
// scanner with exactly the semantics of the reference pattern
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// matched leftmost-first, non-overlapping, over one text segment (the text
// between added tokens). Every character falls in some alternative, so the
// pieces cover the segment. The subtle part is \s+(?!\S): a whitespace run
// followed by a non-space leaves its last character out, so that a final
// space joins the next word (" ?\p{L}+") and any other final whitespace
// character stands alone.
//
// Character classes come from CharClassifier (utf8proc); ASCII takes a table
// fast path.
//
// Called by Tokenizer for every segment. Thread safety: stateless.
#ifndef SECUREBERT_SERVER_TOKENIZER_PRE_TOKENIZER_H_
#define SECUREBERT_SERVER_TOKENIZER_PRE_TOKENIZER_H_

#include <cstddef>
#include <string_view>

namespace securebert::tokenizer {

class PreTokenizer {
 public:
  // End (exclusive byte offset) of the piece that starts at `pos`.
  // Preconditions: `segment` is valid UTF-8, pos < segment.size() and pos is
  // a character start. Iterate with
  //   for (size_t p = 0; p < s.size(); p = PreTokenizer::PieceEnd(s, p)) ...
  static size_t PieceEnd(std::string_view segment, size_t pos);
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_PRE_TOKENIZER_H_
