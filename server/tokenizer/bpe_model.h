// Byte-level BPE: turns one pre-token (raw bytes) into vocabulary ids by
// merge rank, exactly as Hugging Face's BPE model does (lowest rank first;
// equal ranks left to right). Works on raw bytes and ids: the byte-to-unicode
// spelling of vocabulary strings is undone once, at construction.
//
// Also keeps, read-only, a whole-word table: every vocabulary entry whose
// own BPE is itself (most frequent words: "Ġthe", "Ġattacker"), so the
// common case is one hash lookup with no lock (the Tokenizer's word cache
// holds the rest).
//
// Owned by Tokenizer. Thread safety: immutable after construction; Tokenize
// uses thread-local scratch buffers, so it is safe from many threads.
#ifndef SECUREBERT_SERVER_TOKENIZER_BPE_MODEL_H_
#define SECUREBERT_SERVER_TOKENIZER_BPE_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tokenizer/merge_table.h"
#include "tokenizer/string_view_compat.h"
#include "tokenizer/word_table.h"

namespace securebert::tokenizer {

// Which merge loop Tokenize runs; both give the same ids (tests check).
enum class BpeAlgorithm {
  kAuto,  // kScan for short words, kHeap for long ones
  kScan,  // rescans the pair ranks for the minimum: fastest on short words
  kHeap,  // priority queue: O(n log n) for words of any length
};

class BpeModel {
 public:
  // `vocab`: vocabulary spelling -> id (ids >= 0, each used once).
  // `merges`: merge pairs of spellings, best (rank 0) first; a later
  // duplicate of a pair takes over its rank, as in HF. Fails with
  // InvalidArgument when a merge's parts or result are not in the
  // vocabulary or a byte's symbol is missing from it. `ignore_merges`: a
  // word that is itself in the vocabulary maps to that id without merging.
  static absl::StatusOr<std::unique_ptr<BpeModel>> Create(
      const absl::flat_hash_map<std::string, int32_t>& vocab,
      const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges);

  // Appends the ids of `word` (raw bytes, not empty) to *ids.
  void Tokenize(std::string_view word, std::vector<int32_t>* ids,
                BpeAlgorithm algorithm = BpeAlgorithm::kAuto) const;

  // The id of `word` when its BPE is the single token spelled like it, else -1.
  int32_t WholeWordId(std::string_view word) const { return whole_words_.Find(word); }

  // The vocabulary spelling of `id` ("Ġworld"); empty for an unknown id.
  std::string_view Spelling(int32_t id) const;
  // The raw bytes `id` stands for (" world"); empty for an unknown id or a
  // spelling outside the byte-level alphabet.
  std::string_view Bytes(int32_t id) const;
  // Bytes(id).size() for an id Tokenize or WholeWordId returned.
  uint32_t ByteLength(int32_t id) const { return bytes_length_[id]; }
  // The id of a vocabulary spelling, or -1.
  int32_t IdOf(std::string_view spelling) const;
  // Number of ids: the largest id + 1.
  size_t vocab_size() const { return spelling_offset_.size(); }

 private:
  using Merge = MergeTable::Merge;

  BpeModel() = default;
  absl::Status Build(const absl::flat_hash_map<std::string, int32_t>& vocab,
                     const std::vector<std::pair<std::string, std::string>>& merges);
  void BuildWholeWords(bool ignore_merges);

  const Merge* FindMerge(int32_t left, int32_t right) const { return merges_.Find(left, right); }
  void TokenizeScan(std::string_view word, std::vector<int32_t>* ids) const;
  void TokenizeHeap(std::string_view word, std::vector<int32_t>* ids) const;

  // Constant after construction.
  std::string spellings_;                  // all spellings, back to back
  std::vector<uint32_t> spelling_offset_;  // per id: offset in spellings_
  std::vector<uint32_t> spelling_length_;  // per id: length (0 = unknown id)
  std::string bytes_;                      // all raw byte forms, back to back
  std::vector<uint32_t> bytes_offset_;     // per id: offset in bytes_
  std::vector<uint32_t> bytes_length_;     // per id: length (0 = none)
  absl::flat_hash_map<absl::string_view, int32_t> ids_by_spelling_;  // views into spellings_
  int32_t byte_ids_[256] = {};  // id of each single byte's symbol
  MergeTable merges_;           // (left, right) -> rank and result
  WordTable whole_words_;       // words whose BPE is themselves
};

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_BPE_MODEL_H_
