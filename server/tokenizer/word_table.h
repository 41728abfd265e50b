// An immutable open-addressing map from words (raw bytes) to one id: the
// BPE model's whole-word table, which answers most pre-tokens ("Ġthe",
// "Ġattacker") with one probe and no lock.
//
// Owned by BpeModel. Thread safety: immutable after Build; Find is safe from
// any number of threads.
#ifndef SECUREBERT_SERVER_TOKENIZER_WORD_TABLE_H_
#define SECUREBERT_SERVER_TOKENIZER_WORD_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/word_key.h"

namespace securebert::tokenizer {

class WordTable {
 public:
  WordTable() = default;

  // Replaces the contents with `entries` (distinct, non-empty words).
  void Build(const std::vector<std::pair<std::string_view, int32_t>>& entries);

  // The id of `word`, or -1.
  int32_t Find(std::string_view word) const {
    if (slots_.empty() || word.empty()) return -1;
    const WordKey key = WordKey::Of(word);
    for (size_t i = key.Hash(word) & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.key.length == 0) return -1;
      if (slot.key == key && (key.length <= WordKey::kExactBytes || MiddleMatches(slot, word))) {
        return slot.id;
      }
    }
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    WordKey key;  // length 0 marks an empty slot
    int32_t id = -1;
    uint32_t long_offset = 0;  // offset in long_words_ when key.length > kExactBytes
  };

  bool MiddleMatches(const Slot& slot, std::string_view word) const {
    return std::string_view(long_words_).substr(slot.long_offset, word.size()) == word;
  }

  // Constant after Build.
  std::vector<Slot> slots_;  // power-of-two size, at most half full
  size_t mask_ = 0;          // slots_.size() - 1
  size_t size_ = 0;          // entries
  std::string long_words_;   // the words longer than WordKey::kExactBytes
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_WORD_TABLE_H_
