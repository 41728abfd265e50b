#include "tokenizer/word_table.h"

namespace securebert::tokenizer {

void WordTable::Build(const std::vector<std::pair<std::string_view, int32_t>>& entries) {
  size_t capacity = 16;
  while (capacity < 2 * entries.size()) capacity *= 2;
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  size_ = 0;
  long_words_.clear();
  for (const auto& [word, id] : entries) {
    if (word.empty() || Find(word) >= 0) continue;
    const WordKey key = WordKey::Of(word);
    size_t i = key.Hash(word) & mask_;
    while (slots_[i].key.length != 0) i = (i + 1) & mask_;
    slots_[i].key = key;
    slots_[i].id = id;
    if (word.size() > WordKey::kExactBytes) {
      slots_[i].long_offset = static_cast<uint32_t>(long_words_.size());
      long_words_.append(word);
    }
    ++size_;
  }
}

}  // namespace securebert::tokenizer
