#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tokenizer/byte_level_alphabet.h"

namespace securebert::tokenizer {
namespace {

constexpr uint32_t kNoMerge = std::numeric_limits<uint32_t>::max();
// Words up to this many bytes take the scan loop under BpeAlgorithm::kAuto.
constexpr size_t kScanMaxBytes = 48;
// Scratch buffers grown past this many elements are released after use, so a
// huge word does not pin memory in every thread that ever saw one.
constexpr size_t kScratchKeepElements = size_t{1} << 16;

// Per-thread buffers of the merge loops: no allocation per word once warm.
struct ScanScratch {
  std::vector<int32_t> ids;      // current symbols
  std::vector<uint32_t> ranks;   // ranks[i]: rank of merging ids[i], ids[i+1]
  std::vector<int32_t> results;  // results[i]: id that merge produces
};

struct HeapSymbol {
  int32_t id;    // current symbol id
  int32_t prev;  // index of the previous live symbol, or -1
  int32_t next;  // index of the next live symbol, or -1
  bool dead;     // merged into its left neighbour
};

struct HeapEntry {
  uint32_t rank;   // merge rank
  int32_t pos;     // index of the left symbol
  int32_t result;  // id the merge produces (stale entries no longer match)
  // std::push_heap / pop_heap keep the largest on top: make that the lowest
  // rank, then the leftmost position, as HF's BPE does.
  bool operator<(const HeapEntry& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

struct HeapScratch {
  std::vector<HeapSymbol> symbols;
  std::vector<HeapEntry> queue;  // pending merges, a binary heap
};

template <typename T>
void ReleaseIfHuge(std::vector<T>* v) {
  if (v->capacity() > kScratchKeepElements) std::vector<T>().swap(*v);
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::Create(
    const absl::flat_hash_map<std::string, int32_t>& vocab,
    const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges) {
  std::unique_ptr<BpeModel> model(new BpeModel());
  absl::Status status = model->Build(vocab, merges);
  if (!status.ok()) return status;
  model->BuildWholeWords(ignore_merges);
  return model;
}

absl::Status BpeModel::Build(const absl::flat_hash_map<std::string, int32_t>& vocab,
                             const std::vector<std::pair<std::string, std::string>>& merges) {
  if (vocab.empty()) return absl::InvalidArgumentError("the vocabulary is empty");
  int32_t max_id = -1;
  for (const auto& [spelling, id] : vocab) {
    if (id < 0)
      return absl::InvalidArgumentError(absl::StrCat("negative id ", id, " for ", spelling));
    max_id = std::max(max_id, id);
  }
  std::vector<const std::string*> by_id(static_cast<size_t>(max_id) + 1, nullptr);
  for (const auto& [spelling, id] : vocab) {
    if (by_id[id] != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("id ", id, " is used by both \"", *by_id[id], "\" and \"", spelling, "\""));
    }
    by_id[id] = &spelling;
  }
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::Get();
  spelling_offset_.assign(by_id.size(), 0);
  spelling_length_.assign(by_id.size(), 0);
  bytes_offset_.assign(by_id.size(), 0);
  bytes_length_.assign(by_id.size(), 0);
  std::string raw;
  for (size_t id = 0; id < by_id.size(); ++id) {
    if (by_id[id] == nullptr) continue;
    spelling_offset_[id] = static_cast<uint32_t>(spellings_.size());
    spelling_length_[id] = static_cast<uint32_t>(by_id[id]->size());
    spellings_.append(*by_id[id]);
    if (alphabet.ToBytes(*by_id[id], &raw)) {
      bytes_offset_[id] = static_cast<uint32_t>(bytes_.size());
      bytes_length_[id] = static_cast<uint32_t>(raw.size());
      bytes_.append(raw);
    }
  }
  ids_by_spelling_.reserve(vocab.size());
  for (size_t id = 0; id < by_id.size(); ++id) {
    if (by_id[id] != nullptr)
      ids_by_spelling_.emplace(ToAbsl(Spelling(static_cast<int32_t>(id))), id);
  }
  for (int b = 0; b < 256; ++b) {
    byte_ids_[b] = IdOf(alphabet.CharOf(static_cast<uint8_t>(b)));
    if (byte_ids_[b] < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("the vocabulary lacks the byte-level symbol \"%s\" (byte 0x%02X)",
                          ToAbsl(alphabet.CharOf(static_cast<uint8_t>(b))), b));
    }
  }
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const int32_t left_id = IdOf(left);
    const int32_t right_id = IdOf(right);
    const std::string merged = absl::StrCat(left, right);
    const int32_t result = IdOf(merged);
    for (const auto& [part, id] : {std::pair<const std::string&, int32_t>(left, left_id),
                                   std::pair<const std::string&, int32_t>(right, right_id),
                                   std::pair<const std::string&, int32_t>(merged, result)}) {
      if (id < 0) {
        return absl::InvalidArgumentError(absl::StrCat("merge ", rank + 1, " (\"", left, " ", right,
                                                       "\"): \"", part,
                                                       "\" is not in the vocabulary"));
      }
    }
    merges_.Insert(left_id, right_id, Merge{static_cast<uint32_t>(rank), result});
  }
  return absl::OkStatus();
}

void BpeModel::BuildWholeWords(bool ignore_merges) {
  std::vector<std::pair<std::string_view, int32_t>> entries;
  std::vector<int32_t> ids;
  for (size_t id = 0; id < bytes_length_.size(); ++id) {
    const std::string_view word = Bytes(static_cast<int32_t>(id));
    if (word.empty()) continue;
    if (!ignore_merges) {
      ids.clear();
      Tokenize(word, &ids);
      if (ids.size() != 1 || ids[0] != static_cast<int32_t>(id)) continue;
    }
    entries.emplace_back(word, static_cast<int32_t>(id));
  }
  whole_words_.Build(entries);
}

std::string_view BpeModel::Spelling(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= spelling_length_.size()) return {};
  return std::string_view(spellings_).substr(spelling_offset_[id], spelling_length_[id]);
}

std::string_view BpeModel::Bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= bytes_length_.size()) return {};
  return std::string_view(bytes_).substr(bytes_offset_[id], bytes_length_[id]);
}

int32_t BpeModel::IdOf(std::string_view spelling) const {
  const auto it = ids_by_spelling_.find(ToAbsl(spelling));
  return it == ids_by_spelling_.end() ? -1 : it->second;
}

void BpeModel::Tokenize(std::string_view word, std::vector<int32_t>* ids,
                        BpeAlgorithm algorithm) const {
  if (word.empty()) return;
  if (word.size() == 1) {
    ids->push_back(byte_ids_[static_cast<uint8_t>(word[0])]);
    return;
  }
  const bool scan = algorithm == BpeAlgorithm::kScan ||
                    (algorithm == BpeAlgorithm::kAuto && word.size() <= kScanMaxBytes);
  if (scan) {
    TokenizeScan(word, ids);
  } else {
    TokenizeHeap(word, ids);
  }
}

void BpeModel::TokenizeScan(std::string_view word, std::vector<int32_t>* out) const {
  thread_local ScanScratch scratch;
  std::vector<int32_t>& ids = scratch.ids;
  std::vector<uint32_t>& ranks = scratch.ranks;
  std::vector<int32_t>& results = scratch.results;
  size_t n = word.size();
  ids.resize(n);
  ranks.resize(n);
  results.resize(n);
  for (size_t i = 0; i < n; ++i) ids[i] = byte_ids_[static_cast<uint8_t>(word[i])];
  auto update_pair = [&](size_t i) {  // refreshes the pair (ids[i], ids[i + 1])
    const Merge* merge = FindMerge(ids[i], ids[i + 1]);
    ranks[i] = merge == nullptr ? kNoMerge : merge->rank;
    results[i] = merge == nullptr ? -1 : merge->result;
  };
  for (size_t i = 0; i + 1 < n; ++i) update_pair(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i) {
      if (ranks[i] < ranks[best]) best = i;
    }
    if (ranks[best] == kNoMerge) break;
    ids[best] = results[best];
    // Drop symbol best + 1 and the pair it started.
    const size_t tail = n - (best + 2);
    std::memmove(&ids[best + 1], &ids[best + 2], tail * sizeof(int32_t));
    std::memmove(&ranks[best + 1], &ranks[best + 2], tail * sizeof(uint32_t));
    std::memmove(&results[best + 1], &results[best + 2], tail * sizeof(int32_t));
    --n;
    if (best > 0) update_pair(best - 1);
    if (best + 1 < n) {
      update_pair(best);
    } else {
      ranks[best] = kNoMerge;
    }
  }
  out->insert(out->end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n));
  ReleaseIfHuge(&ids);
  ReleaseIfHuge(&ranks);
  ReleaseIfHuge(&results);
}

void BpeModel::TokenizeHeap(std::string_view word, std::vector<int32_t>* out) const {
  thread_local HeapScratch scratch;
  std::vector<HeapSymbol>& symbols = scratch.symbols;
  const auto n = static_cast<int32_t>(word.size());
  symbols.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    symbols[i] =
        HeapSymbol{byte_ids_[static_cast<uint8_t>(word[i])], i - 1, i + 1 < n ? i + 1 : -1, false};
  }
  std::vector<HeapEntry>& queue = scratch.queue;  // a binary heap, see HeapEntry
  queue.clear();
  auto push_pair = [&](int32_t pos) {  // queues the pair starting at symbol pos
    const int32_t next = symbols[pos].next;
    if (next < 0) return;
    const Merge* merge = FindMerge(symbols[pos].id, symbols[next].id);
    if (merge == nullptr) return;
    queue.push_back(HeapEntry{merge->rank, pos, merge->result});
    std::push_heap(queue.begin(), queue.end());
  };
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(i);
  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end());
    const HeapEntry top = queue.back();
    queue.pop_back();
    HeapSymbol& left = symbols[top.pos];
    if (left.dead || left.next < 0) continue;
    HeapSymbol& right = symbols[left.next];
    const Merge* merge = FindMerge(left.id, right.id);
    if (merge == nullptr || merge->result != top.result) continue;  // stale entry
    left.id = merge->result;
    right.dead = true;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) out->push_back(symbols[i].id);
  ReleaseIfHuge(&symbols);
  ReleaseIfHuge(&scratch.queue);
}

}  // namespace securebert::tokenizer
