#include "tokenizer/utf8.h"

#include <cstring>

namespace securebert::tokenizer {
namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// Checks the sequence that starts at s[0] (s[0] >= 0x80). Returns its length
// when valid; otherwise minus the length of its maximal invalid subpart (the
// longest prefix that could still have begun a valid sequence, at least 1).
int CheckSequence(const unsigned char* s, size_t available) {
  const unsigned char b0 = s[0];
  size_t continuation_bytes = 0;
  unsigned char low = 0x80;  // allowed range of the second byte
  unsigned char high = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    continuation_bytes = 1;
  } else if (b0 == 0xE0) {
    continuation_bytes = 2;
    low = 0xA0;  // no overlong 3-byte forms
  } else if (b0 == 0xED) {
    continuation_bytes = 2;
    high = 0x9F;  // no surrogates
  } else if (b0 >= 0xE1 && b0 <= 0xEF) {
    continuation_bytes = 2;
  } else if (b0 == 0xF0) {
    continuation_bytes = 3;
    low = 0x90;  // no overlong 4-byte forms
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    continuation_bytes = 3;
  } else if (b0 == 0xF4) {
    continuation_bytes = 3;
    high = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;  // stray continuation byte, C0, C1 or F5..FF
  }
  for (size_t i = 1; i <= continuation_bytes; ++i) {
    if (i >= available) return -static_cast<int>(i);
    const unsigned char b = s[i];
    const bool ok = (i == 1) ? (b >= low && b <= high) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return -static_cast<int>(i);
  }
  return static_cast<int>(continuation_bytes + 1);
}

// Index of the first byte >= 0x80 at or after `pos`, or size.
size_t SkipAscii(const unsigned char* s, size_t pos, size_t size) {
  while (pos + 8 <= size) {
    uint64_t word;
    std::memcpy(&word, s + pos, sizeof(word));
    if ((word & kHighBits) != 0) break;
    pos += 8;
  }
  while (pos < size && s[pos] < 0x80) ++pos;
  return pos;
}

}  // namespace

size_t FindInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t pos = 0;
  while (true) {
    pos = SkipAscii(s, pos, size);
    if (pos >= size) return size;
    const int n = CheckSequence(s + pos, size - pos);
    if (n < 0) return pos;
    pos += static_cast<size_t>(n);
  }
}

void AppendUtf8Lossy(std::string_view bytes, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t size = bytes.size();
  out->reserve(out->size() + size);
  size_t pos = 0;
  while (pos < size) {
    const size_t ascii_end = SkipAscii(s, pos, size);
    size_t valid_end = ascii_end;
    int n = 0;
    while (valid_end < size) {
      if (s[valid_end] < 0x80) {
        ++valid_end;
        continue;
      }
      n = CheckSequence(s + valid_end, size - valid_end);
      if (n < 0) break;
      valid_end += static_cast<size_t>(n);
    }
    out->append(bytes.data() + pos, valid_end - pos);
    if (valid_end >= size) return;
    out->append("\xEF\xBF\xBD");  // U+FFFD
    pos = valid_end + static_cast<size_t>(-n);
  }
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

}  // namespace securebert::tokenizer
