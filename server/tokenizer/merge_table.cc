#include "tokenizer/merge_table.h"

#include <utility>

namespace securebert::tokenizer {

void MergeTable::Insert(int32_t left, int32_t right, const Merge& merge) {
  if (2 * (size_ + 1) > slots_.size()) Grow();  // keep it at most half full
  const uint64_t key = Key(left, right);
  size_t i = Index(key);
  while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask_;
  if (slots_[i].key == kEmpty) ++size_;
  slots_[i] = Slot{key, merge};
}

void MergeTable::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{kEmpty, Merge{}});
  mask_ = slots_.size() - 1;
  --shift_;
  for (const Slot& slot : old) {
    if (slot.key == kEmpty) continue;
    size_t i = Index(slot.key);
    while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
}

}  // namespace securebert::tokenizer
