// The BPE merge rules as an immutable open-addressing table from a pair of
// symbol ids to the merge's rank and result: one probe (one cache line) per
// lookup on the merge loop's hot path.
//
// Owned by BpeModel. Thread safety: immutable after Build; Find is safe from
// any number of threads.
#ifndef SECUREBERT_SERVER_TOKENIZER_MERGE_TABLE_H_
#define SECUREBERT_SERVER_TOKENIZER_MERGE_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace securebert::tokenizer {

class MergeTable {
 public:
  struct Merge {
    uint32_t rank = 0;   // position in the merge list, lower merges first
    int32_t result = 0;  // id of the merged symbol
  };

  // Adds or replaces the merge of (left, right); ids are >= 0. Call before
  // the first Find (it may grow the table).
  void Insert(int32_t left, int32_t right, const Merge& merge);

  // The merge of (left, right), or nullptr.
  const Merge* Find(int32_t left, int32_t right) const {
    const uint64_t key = Key(left, right);
    for (size_t i = Index(key);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.key == key) return &slot.merge;
      if (slot.key == kEmpty) return nullptr;
    }
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t key;  // Key(left, right), or kEmpty
    Merge merge;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // no valid pair has it

  static uint64_t Key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  size_t Index(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_) & mask_;
  }
  void Grow();

  // Constant after the last Insert.
  std::vector<Slot> slots_ = std::vector<Slot>(16, Slot{kEmpty, Merge{}});
  size_t mask_ = 15;  // slots_.size() - 1
  int shift_ = 60;    // 64 - log2(slots_.size())
  size_t size_ = 0;   // merges held
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_MERGE_TABLE_H_
