#include "tokenizer/word_cache.h"

#include <cstring>

namespace securebert::tokenizer {
namespace {

size_t RoundUpToPowerOfTwo(size_t n) {
  size_t power = 1;
  while (power < n) power *= 2;
  return power;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  const __uint128_t product = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

}  // namespace

WordCache::WordCache(const Options& options)
    : mask_(RoundUpToPowerOfTwo(options.capacity_words < 2 ? 2 : options.capacity_words) - 1),
      entries_(new Entry[mask_ + 1]) {}

WordCache::Probe WordCache::ProbeFor(std::string_view word) const {
  Probe probe;
  std::memcpy(probe.word, word.data(), word.size());
  const uint64_t h = Mix(probe.word[0] ^ 0xa0761d6478bd642fULL,
                         probe.word[1] ^ 0xe7037ed1a0b428dbULL ^ word.size());
  probe.index = Mix(h ^ probe.word[2], 0x8ebc6af09c88c6e3ULL) & mask_;
  return probe;
}

bool WordCache::Lookup(std::string_view word, std::vector<int32_t>* ids) const {
  if (word.empty() || word.size() > kMaxWordBytes) return false;
  const Probe probe = ProbeFor(word);
  const Entry& entry = entries_[probe.index];
  const uint32_t version = entry.version.load(std::memory_order_acquire);
  if (version & 1) return false;  // a writer holds it
  const uint32_t shape = entry.shape.load(std::memory_order_relaxed);
  if ((shape >> 8) != word.size()) return false;
  for (int i = 0; i < 3; ++i) {
    if (entry.word[i].load(std::memory_order_relaxed) != probe.word[i]) return false;
  }
  const size_t count = shape & 0xFF;
  int32_t copy[kMaxIds];
  for (size_t i = 0; i < count; ++i) copy[i] = entry.ids[i].load(std::memory_order_relaxed);
  // Keep the copy only if no writer touched the entry meanwhile.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (entry.version.load(std::memory_order_relaxed) != version) return false;
  ids->insert(ids->end(), copy, copy + count);
  return true;
}

void WordCache::Insert(std::string_view word, absl::Span<const int32_t> ids) {
  if (word.empty() || word.size() > kMaxWordBytes || ids.empty() || ids.size() > kMaxIds) return;
  const Probe probe = ProbeFor(word);
  Entry& entry = entries_[probe.index];
  uint32_t version = entry.version.load(std::memory_order_relaxed);
  if ((version & 1) ||
      !entry.version.compare_exchange_strong(version, version + 1, std::memory_order_relaxed)) {
    return;  // another writer has it: skip, a cache may forget
  }
  std::atomic_thread_fence(std::memory_order_release);
  entry.shape.store(static_cast<uint32_t>(word.size() << 8 | ids.size()),
                    std::memory_order_relaxed);
  for (int i = 0; i < 3; ++i) entry.word[i].store(probe.word[i], std::memory_order_relaxed);
  for (size_t i = 0; i < ids.size(); ++i) entry.ids[i].store(ids[i], std::memory_order_relaxed);
  entry.version.store(version + 2, std::memory_order_release);
}

size_t WordCache::size() const {
  size_t used = 0;
  for (size_t i = 0; i <= mask_; ++i) {
    if (entries_[i].shape.load(std::memory_order_relaxed) != 0) ++used;
  }
  return used;
}

}  // namespace securebert::tokenizer
