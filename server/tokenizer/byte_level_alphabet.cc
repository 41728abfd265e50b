#include "tokenizer/byte_level_alphabet.h"

#include "tokenizer/utf8.h"

namespace securebert::tokenizer {
namespace {

// Bytes that stand for themselves: '!'..'~', 0xA1..0xAC and 0xAE..0xFF.
bool IsSelfMapped(uint32_t b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

}  // namespace

const ByteLevelAlphabet& ByteLevelAlphabet::Get() {
  static const ByteLevelAlphabet* const kInstance = new ByteLevelAlphabet();
  return *kInstance;
}

ByteLevelAlphabet::ByteLevelAlphabet() {
  byte_of_.fill(-1);
  uint32_t next_shifted = 256;  // the others take U+0100.. in byte order
  for (uint32_t b = 0; b < 256; ++b) {
    const uint32_t code_point = IsSelfMapped(b) ? b : next_shifted++;
    AppendUtf8(code_point, &chars_[b]);
    byte_of_[code_point] = static_cast<int16_t>(b);
  }
}

void ByteLevelAlphabet::AppendSpelling(std::string_view bytes, std::string* out) const {
  for (const char c : bytes) out->append(chars_[static_cast<uint8_t>(c)]);
}

bool ByteLevelAlphabet::ToBytes(std::string_view spelling, std::string* bytes) const {
  bytes->clear();
  if (FindInvalidUtf8(spelling) != spelling.size()) return false;
  size_t pos = 0;
  while (pos < spelling.size()) {
    size_t length = 0;
    const uint32_t code_point = DecodeUtf8At(spelling, pos, &length);
    if (code_point >= byte_of_.size() || byte_of_[code_point] < 0) return false;
    bytes->push_back(static_cast<char>(byte_of_[code_point]));
    pos += length;
  }
  return true;
}

}  // namespace securebert::tokenizer
