// UTF-8 helpers for the tokenizer.
//
// Validation accepts exactly what Rust's `str` accepts (the reference tokenizer
// is Rust): no overlong forms, no surrogates, nothing above U+10FFFF. Lossy
// repair replaces each maximal invalid subpart with U+FFFD, as Rust's
// String::from_utf8_lossy does (Hugging Face's ByteLevel decoder ends with it).
//
// Thread safety: stateless functions, safe from any thread.
#ifndef SECUREBERT_SERVER_TOKENIZER_UTF8_H_
#define SECUREBERT_SERVER_TOKENIZER_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace securebert::tokenizer {

// Byte offset of the first byte of the first invalid sequence in `text`, or
// text.size() when all of `text` is valid UTF-8.
size_t FindInvalidUtf8(std::string_view text);

// Appends `bytes` to `out`, each maximal invalid subpart replaced by U+FFFD.
void AppendUtf8Lossy(std::string_view bytes, std::string* out);

// Decodes the code point starting at text[pos]; stores its length in bytes in
// *length. Precondition: `text` is valid UTF-8 and pos is at a character start.
inline uint32_t DecodeUtf8At(std::string_view text, size_t pos, size_t* length) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data()) + pos;
  const uint32_t b0 = s[0];
  if (b0 < 0x80) {
    *length = 1;
    return b0;
  }
  if (b0 < 0xE0) {
    *length = 2;
    return ((b0 & 0x1F) << 6) | (s[1] & 0x3F);
  }
  if (b0 < 0xF0) {
    *length = 3;
    return ((b0 & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
  }
  *length = 4;
  return ((b0 & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

// Start of the character that ends right before text[pos]. Precondition:
// `text` is valid UTF-8, 0 < pos <= text.size() and pos is a character start.
inline size_t PreviousCharStart(std::string_view text, size_t pos) {
  do {
    --pos;
  } while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80);
  return pos;
}

// Appends the UTF-8 encoding of `code_point` (<= U+10FFFF, not a surrogate).
void AppendUtf8(uint32_t code_point, std::string* out);

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_UTF8_H_
