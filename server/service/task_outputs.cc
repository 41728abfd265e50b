#include "service/task_outputs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "tokenizer/char_classifier.h"
#include "tokenizer/utf8.h"

namespace securebert::service {
namespace {

// The pipeline's ignore_labels default.
constexpr std::string_view kOutsideLabel = "O";
// "Ġ", the byte-level alphabet's character for a space, which tokenizers'
// trim_offsets strips from a token's ends besides White_Space.
constexpr uint32_t kByteLevelSpace = 0x0120;
// numpy's pairwise summation block (PW_BLOCKSIZE).
constexpr size_t kPairwiseBlock = 128;

// ndarray.sum of float32 values as numpy computes it: pairwise, eight
// accumulators per block, so that means match the pipeline's to the bit as
// far as the order of additions goes.
float PairwiseSum(const float* a, size_t n) {
  if (n < 8) {
    float sum = -0.0f;
    for (size_t i = 0; i < n; ++i) sum += a[i];
    return sum;
  }
  if (n <= kPairwiseBlock) {
    float r[8];
    std::copy(a, a + 8, r);
    size_t i = 8;
    for (; i < n - n % 8; i += 8) {
      for (size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    float sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  size_t half = n / 2;
  half -= half % 8;
  return PairwiseSum(a, half) + PairwiseSum(a + half, n - half);
}

// np.exp on float32 arrays as numpy runs it on x86 with AVX2 (AVX-512 does
// the same operations), the pipeline's usual platform, rather than libm's
// expf, which differs from it in the last bit for about 40% of inputs:
// Cody-Waite reduction by k = rint(x / ln 2), a degree-5 over degree-2
// rational approximation in fused multiply-adds, then scaling by 2^k.
// Bit-identical to numpy 2.4 (AVX2) on 16 million inputs, so scores are the
// pipeline's to the bit and near-ties (two tokens' or labels' scores equal
// but for rounding) break the same way.
float NumpyExp(float x) {
  constexpr float kOverflow = 88.72283935546875f;
  constexpr float kUnderflow = -103.97208404541015625f;
  constexpr float kLog2E = 1.44269504088896340736f;
  constexpr float kLn2High = -6.93145752e-1f;
  constexpr float kLn2Low = -1.42860677e-6f;
  constexpr float kP[] = {9.999999999980870924916e-01f, 7.257664613233124478488e-01f,
                          2.473615434895520810817e-01f, 5.114512081637298353406e-02f,
                          6.757896990527504603057e-03f, 5.082762527590693718096e-04f};
  constexpr float kQ[] = {1.0f, -2.742335390411667452936e-01f, 2.159509375685829852307e-02f};
  if (std::isnan(x)) return x;
  if (x >= kOverflow) return std::numeric_limits<float>::infinity();
  if (x <= kUnderflow) return 0.0f;
  const float k = std::nearbyint(x * kLog2E);
  const float r = std::fma(k, kLn2Low, std::fma(k, kLn2High, x));
  float num = kP[5];
  for (int i = 4; i >= 0; --i) num = std::fma(num, r, kP[i]);
  const float den = std::fma(std::fma(kQ[2], r, kQ[1]), r, kQ[0]);
  return std::ldexp(num / den, static_cast<int>(k));
}

// A float32 total divided by a count as numpy's mean does it (in double,
// rounded back to float32).
float MeanOf(float total, size_t count) {
  return static_cast<float>(static_cast<double>(total) / static_cast<double>(count));
}

// The pipeline's softmax (max-shifted, float32) of one row into `out`.
void Softmax(const float* logits, size_t n, float* out) {
  const float max = *std::max_element(logits, logits + n);
  for (size_t i = 0; i < n; ++i) out[i] = NumpyExp(logits[i] - max);
  const float sum = PairwiseSum(out, n);
  for (size_t i = 0; i < n; ++i) out[i] /= sum;
}

// numpy's argmax: the first of equal maxima.
int32_t ArgMax(const float* values, size_t n) {
  return static_cast<int32_t>(std::max_element(values, values + n) - values);
}

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Whether tokenizers' trim_offsets strips the character at text[pos] from an
// added token's ends; stores its length in *length.
bool IsTrimmedChar(std::string_view text, size_t pos, size_t* length) {
  const uint32_t c = tokenizer::DecodeUtf8At(text, pos, length);
  return c == kByteLevelSpace || tokenizer::CharClassifier::Get().IsWhitespace(c);
}

// Hugging Face's offsets of `token`, as bytes: ours widened to whole
// characters (its character offsets cover every character a token touches),
// then trimmed. A BPE token's own string is its bytes, in which only the
// space ("Ġ") is trimmed (newlines are "Ċ" and stay); an added token's
// string is the text it covers, any White_Space of which is trimmed.
std::pair<uint32_t, uint32_t> HfOffsets(std::string_view text, const TokenSpan& token) {
  ABSL_RAW_CHECK(token.start <= token.end && token.end <= text.size(),
                 "token offsets outside the text");
  size_t start = token.start;
  size_t end = token.end;
  while (start > 0 && start < text.size() && IsContinuationByte(text[start])) --start;
  if (end > start) {
    while (end < text.size() && IsContinuationByte(text[end])) ++end;
  }
  if (token.kind == TokenKind::kText) {
    while (start < end && text[start] == ' ') ++start;
    while (end > start && text[end - 1] == ' ') --end;
  } else {
    size_t length = 0;
    while (start < end && IsTrimmedChar(text, start, &length)) start += length;
    while (end > start) {
      const size_t previous = tokenizer::PreviousCharStart(text, end);
      if (!IsTrimmedChar(text, previous, &length)) break;
      end = previous;
    }
  }
  return {static_cast<uint32_t>(start), static_cast<uint32_t>(end)};
}

// A token as gather_pre_entities leaves it.
struct PreEntity {
  const float* scores;  // its label probabilities
  uint32_t start;       // Hugging Face's offsets, as bytes
  uint32_t end;
  int32_t index;    // model-input index
  bool is_subword;  // continues the previous token's word
};

// A token's or a word's best label, before grouping.
struct Labelled {
  int32_t label_id;  // best label
  float score;       // its probability
  uint32_t start;    // span of the token or word
  uint32_t end;
  int32_t index;  // model-input index of the first token
};

// The fast RoBERTa tokenizer's model has an empty continuing_subword_prefix,
// so the pipeline takes its fallback rule: a subword neither follows nor
// starts with a space (in characters; a space is one byte, so the bytes
// around `start` say the same). An unknown token always starts a word.
bool IsSubword(std::string_view text, uint32_t start, int32_t id, int32_t unk_id) {
  if (id == unk_id) return false;
  return start > 0 && text[start - 1] != ' ' && (start >= text.size() || text[start] != ' ');
}

std::vector<PreEntity> GatherPreEntities(std::string_view text, absl::Span<const TokenSpan> tokens,
                                         const std::vector<float>& scores, size_t num_labels,
                                         int32_t unk_id) {
  std::vector<PreEntity> out;
  out.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].kind == TokenKind::kSpecial) continue;
    const auto [start, end] = HfOffsets(text, tokens[i]);
    out.push_back({scores.data() + i * num_labels, start, end, static_cast<int32_t>(i),
                   IsSubword(text, start, tokens[i].id, unk_id)});
  }
  return out;
}

Labelled BestLabel(const PreEntity& token, size_t num_labels) {
  const int32_t id = ArgMax(token.scores, num_labels);
  return {id, token.scores[id], token.start, token.end, token.index};
}

// aggregate_word: one label for the tokens of a word.
Labelled AggregateWord(absl::Span<const PreEntity> word, Aggregation aggregation,
                       size_t num_labels) {
  int32_t id = 0;
  float score = 0.0f;
  if (aggregation == Aggregation::kAverage) {
    // np.nanmean over the tokens: float32 sums token by token, then divided.
    std::vector<float> mean(word[0].scores, word[0].scores + num_labels);
    for (size_t t = 1; t < word.size(); ++t) {
      for (size_t j = 0; j < num_labels; ++j) mean[j] += word[t].scores[j];
    }
    for (float& m : mean) m = MeanOf(m, word.size());
    id = ArgMax(mean.data(), num_labels);
    score = mean[id];
  } else {
    // kFirst: the first token; kMax: the first token with the highest score.
    const PreEntity* chosen = &word[0];
    if (aggregation == Aggregation::kMax) {
      const auto max_score = [num_labels](const PreEntity& token) {
        return *std::max_element(token.scores, token.scores + num_labels);
      };
      for (const PreEntity& token : word) {
        if (max_score(token) > max_score(*chosen)) chosen = &token;
      }
    }
    id = ArgMax(chosen->scores, num_labels);
    score = chosen->scores[id];
  }
  return {id, score, word.front().start, word.back().end, word.front().index};
}

// aggregate_words: a word is a token and the subwords after it (the first
// token starts a word even when it is a subword).
std::vector<Labelled> AggregateWords(const std::vector<PreEntity>& tokens, Aggregation aggregation,
                                     size_t num_labels) {
  std::vector<Labelled> out;
  size_t word_start = 0;
  for (size_t i = 1; i <= tokens.size(); ++i) {
    if (i < tokens.size() && tokens[i].is_subword) continue;
    out.push_back(AggregateWord(absl::MakeConstSpan(tokens).subspan(word_start, i - word_start),
                                aggregation, num_labels));
    word_start = i;
  }
  return out;
}

// get_tag: "B-X" begins X, "I-X" continues it; any other label continues
// itself.
struct Tag {
  bool begins;            // a B- label
  std::string_view name;  // the label without its B- / I- prefix
};

Tag GetTag(std::string_view label) {
  if (label.substr(0, 2) == "B-") return {true, label.substr(2)};
  if (label.substr(0, 2) == "I-") return {false, label.substr(2)};
  return {false, label};
}

// group_sub_entities' entity_group: the label after its first "-" (not
// get_tag's rule: "E-PER" gives "PER", "X-O" gives "O").
std::string_view GroupName(std::string_view label) {
  const size_t dash = label.find('-');
  return dash == std::string_view::npos ? label : label.substr(dash + 1);
}

EntitySpan GroupSubEntities(absl::Span<const Labelled> members,
                            absl::Span<const std::string> labels) {
  std::vector<float> scores;
  scores.reserve(members.size());
  for (const Labelled& m : members) scores.push_back(m.score);
  const Labelled& first = members.front();
  return {first.label_id, MeanOf(PairwiseSum(scores.data(), scores.size()), scores.size()),
          first.start,    members.back().end,
          first.index,    std::string(GroupName(labels[first.label_id]))};
}

// group_entities: adjacent entities of the same tag form a group unless the
// later one is a B- label.
std::vector<EntitySpan> GroupEntities(const std::vector<Labelled>& entities,
                                      absl::Span<const std::string> labels) {
  std::vector<EntitySpan> out;
  size_t group_start = 0;
  for (size_t i = 1; i <= entities.size(); ++i) {
    if (i < entities.size()) {
      const Tag tag = GetTag(labels[entities[i].label_id]);
      const Tag last = GetTag(labels[entities[i - 1].label_id]);
      if (tag.name == last.name && !tag.begins) continue;
    }
    out.push_back(GroupSubEntities(
        absl::MakeConstSpan(entities).subspan(group_start, i - group_start), labels));
    group_start = i;
  }
  return out;
}

}  // namespace

LabelActivation DefaultLabelActivation(bool multi_label, size_t num_labels) {
  return multi_label || num_labels == 1 ? LabelActivation::kSigmoid : LabelActivation::kSoftmax;
}

std::vector<LabelScore> ClassificationScores(absl::Span<const float> logits,
                                             LabelActivation activation, int32_t top_k) {
  std::vector<float> scores(logits.size());
  if (activation == LabelActivation::kSigmoid) {
    for (size_t i = 0; i < logits.size(); ++i) scores[i] = 1.0f / (1.0f + NumpyExp(-logits[i]));
  } else if (!logits.empty()) {
    Softmax(logits.data(), logits.size(), scores.data());
  }
  std::vector<LabelScore> out;
  out.reserve(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) out.push_back({static_cast<int32_t>(i), scores[i]});
  std::stable_sort(out.begin(), out.end(),
                   [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
  if (top_k > 0 && static_cast<size_t>(top_k) < out.size()) out.resize(top_k);
  return out;
}

std::vector<EntitySpan> ExtractEntitySpans(std::string_view text,
                                           absl::Span<const TokenSpan> tokens,
                                           absl::Span<const float> logits,
                                           absl::Span<const std::string> labels,
                                           const EntityOptions& options) {
  const size_t num_labels = labels.size();
  ABSL_RAW_CHECK(num_labels > 0 && logits.size() == tokens.size() * num_labels,
                 "logits are not [tokens, labels]");
  std::vector<float> scores(logits.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    Softmax(logits.data() + i * num_labels, num_labels, scores.data() + i * num_labels);
  }
  const std::vector<PreEntity> pre =
      GatherPreEntities(text, tokens, scores, num_labels, options.unk_id);

  std::vector<EntitySpan> entities;
  if (options.aggregation == Aggregation::kNone) {
    for (const PreEntity& token : pre) {
      const Labelled best = BestLabel(token, num_labels);
      entities.push_back(
          {best.label_id, best.score, best.start, best.end, best.index, labels[best.label_id]});
    }
  } else {
    std::vector<Labelled> labelled;
    if (options.aggregation == Aggregation::kSimple) {
      labelled.reserve(pre.size());
      for (const PreEntity& token : pre) labelled.push_back(BestLabel(token, num_labels));
    } else {
      labelled = AggregateWords(pre, options.aggregation, num_labels);
    }
    entities = GroupEntities(labelled, labels);
  }
  // ignore_labels=["O"] compares the token's label (kNone) or the group's.
  entities.erase(std::remove_if(entities.begin(), entities.end(),
                                [&](const EntitySpan& e) {
                                  return e.label == kOutsideLabel || e.score < options.threshold;
                                }),
                 entities.end());
  return entities;
}

}  // namespace securebert::service
