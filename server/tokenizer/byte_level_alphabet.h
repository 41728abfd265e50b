// The GPT-2 / RoBERTa byte-to-unicode mapping: each of the 256 byte values is
// written in vocabulary strings as one printable character (printable Latin-1
// bytes as themselves, the others as U+0100.. in byte order; the space 0x20
// becomes "Ġ" U+0120, the newline "Ċ" U+010A).
//
// The tokenizer works on raw bytes internally and uses this map only to
// translate vocabulary strings to bytes when loading and back for display.
//
// Thread safety: immutable after construction; Get() returns a process-wide
// instance built on first use.
#ifndef SECUREBERT_SERVER_TOKENIZER_BYTE_LEVEL_ALPHABET_H_
#define SECUREBERT_SERVER_TOKENIZER_BYTE_LEVEL_ALPHABET_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace securebert::tokenizer {

class ByteLevelAlphabet {
 public:
  static const ByteLevelAlphabet& Get();

  // The character that stands for byte `b`, as UTF-8 (1 or 2 bytes).
  std::string_view CharOf(uint8_t b) const { return chars_[b]; }

  // Appends the vocabulary spelling of raw `bytes` ("hi there" -> "hiĠthere").
  void AppendSpelling(std::string_view bytes, std::string* out) const;

  // Translates a vocabulary string back to raw bytes. Returns false (and
  // leaves *bytes unspecified) when `spelling` is not valid UTF-8 or has a
  // character outside the alphabet, e.g. added tokens spelled with other
  // characters.
  bool ToBytes(std::string_view spelling, std::string* bytes) const;

 private:
  ByteLevelAlphabet();

  // Constant after construction.
  std::array<std::string, 256> chars_;  // UTF-8 of the char standing for each byte
  std::array<int16_t, 512> byte_of_;    // code point (< 512) -> byte, or -1
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_BYTE_LEVEL_ALPHABET_H_
