// A bounded, thread-safe cache from a pre-token's raw bytes to its BPE ids,
// so that a word seen before costs one probe instead of a merge loop.
//
// The cache is a fixed, direct-mapped array of 64-byte entries (bounded by
// construction: a new word overwrites the entry it hashes to). Words of up
// to kMaxWordBytes bytes with up to kMaxIds ids are cached; longer ones are
// rare (hash fragments, base64) and seldom repeat.
//
// Synchronization is a per-entry sequence lock on std::atomic fields, so
// readers never write shared memory and concurrent encoders scale with the
// cores: a reader copies an entry and keeps the copy only if the entry's
// version was even (no writer) and unchanged around the copy; a writer
// claims an entry by moving its version from even to odd with a CAS (or
// gives up if another writer holds it), writes, and publishes version + 2.
// A failed read is just a miss. No mutex, so no lock to annotate: every
// shared field is atomic.
//
// Owned by Tokenizer; Lookup and Insert are called by any number of encoding
// threads at once. Thread safety: all methods are safe concurrently.
#ifndef SECUREBERT_SERVER_TOKENIZER_WORD_CACHE_H_
#define SECUREBERT_SERVER_TOKENIZER_WORD_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace securebert::tokenizer {

class WordCache {
 public:
  struct Options {
    // Entries (rounded up to a power of two); 64 bytes each.
    size_t capacity_words = size_t{1} << 16;
  };
  static constexpr size_t kMaxWordBytes = 24;  // longer words are not cached
  static constexpr size_t kMaxIds = 8;         // nor words with more ids

  explicit WordCache(const Options& options);
  WordCache(const WordCache&) = delete;
  WordCache& operator=(const WordCache&) = delete;

  // Appends the cached ids of `word` to *ids and returns true, or returns
  // false (leaving *ids alone) when `word` is not cached.
  bool Lookup(std::string_view word, std::vector<int32_t>* ids) const;

  // Caches `ids` for `word`; a no-op for words or id lists over the limits,
  // or when another thread is writing the same entry.
  void Insert(std::string_view word, absl::Span<const int32_t> ids);

  // Entries now in use (for tests and metrics; a racy snapshot).
  size_t size() const;

 private:
  struct alignas(64) Entry {
    std::atomic<uint32_t> version{0};        // odd while a writer holds the entry
    std::atomic<uint32_t> shape{0};          // word length << 8 | id count; 0 = empty
    std::atomic<uint64_t> word[3] = {};      // the word's bytes, zero-padded
    std::atomic<int32_t> ids[kMaxIds] = {};  // its ids
  };
  static_assert(sizeof(Entry) == 64, "one cache line per entry");

  // The word's bytes zero-padded to three words, and its entry.
  struct Probe {
    uint64_t word[3] = {0, 0, 0};
    size_t index = 0;
  };
  Probe ProbeFor(std::string_view word) const;

  // Constant after construction (the entries themselves are atomic).
  const size_t mask_;                 // entry count - 1
  std::unique_ptr<Entry[]> entries_;  // the cache
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_WORD_CACHE_H_
