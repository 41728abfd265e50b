// A fast fingerprint of a short byte string (a pre-token), shared by the
// whole-word table and the word cache.
//
// WordKey holds the length and two 64-bit loads that between them cover
// every byte of a word of up to 16 bytes (first and last 8 bytes, first and
// last 4, or bytes 0, n/2, n-1), so two such words are equal exactly when
// their keys are: no memcmp on the hot path. Longer words compare their
// middle bytes separately. The loads never read outside the word.
//
// Thread safety: plain values and pure functions.
#ifndef SECUREBERT_SERVER_TOKENIZER_WORD_KEY_H_
#define SECUREBERT_SERVER_TOKENIZER_WORD_KEY_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace securebert::tokenizer {

struct WordKey {
  uint64_t head = 0;    // first bytes (see above)
  uint64_t tail = 0;    // last bytes
  uint32_t length = 0;  // bytes in the word

  // Longest word a key identifies by itself.
  static constexpr size_t kExactBytes = 16;

  static WordKey Of(std::string_view word) {
    const char* p = word.data();
    const size_t n = word.size();
    WordKey key;
    key.length = static_cast<uint32_t>(n);
    if (n >= 8) {
      key.head = Load64(p);
      key.tail = Load64(p + n - 8);
    } else if (n >= 4) {
      key.head = Load32(p);
      key.tail = Load32(p + n - 4);
    } else if (n > 0) {
      key.head = (uint64_t{static_cast<uint8_t>(p[0])} << 16) |
                 (uint64_t{static_cast<uint8_t>(p[n / 2])} << 8) | static_cast<uint8_t>(p[n - 1]);
    }
    return key;
  }

  bool operator==(const WordKey& other) const {
    return head == other.head && tail == other.tail && length == other.length;
  }

  // A well-mixed 64-bit hash (wyhash-style multiply-fold); for words longer
  // than kExactBytes pass the word to mix in its middle bytes.
  uint64_t Hash(std::string_view word) const {
    uint64_t h = Mix(head ^ kSeed0, tail ^ kSeed1 ^ length);
    for (size_t i = 8; i + 8 < word.size(); i += 8) h = Mix(h ^ Load64(word.data() + i), kSeed2);
    return h;
  }

 private:
  static constexpr uint64_t kSeed0 = 0xa0761d6478bd642fULL;
  static constexpr uint64_t kSeed1 = 0xe7037ed1a0b428dbULL;
  static constexpr uint64_t kSeed2 = 0x8ebc6af09c88c6e3ULL;

  static uint64_t Load64(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static uint64_t Load32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static uint64_t Mix(uint64_t a, uint64_t b) {
    const __uint128_t product = static_cast<__uint128_t>(a) * b;
    return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
  }
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_WORD_KEY_H_
