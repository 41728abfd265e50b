// Post-processing of the task heads' logits into what Classify and
// ExtractEntities answer, reproducing Hugging Face transformers' (5.24)
// text-classification and token-classification pipelines on RoBERTa's fast
// tokenizer: the same scores, labels, grouping and offsets (as bytes).
//
// ExtractEntitySpans takes the tokenizer's own offsets (tokenizer::Encoding:
// untrimmed byte ranges, a token holding part of a character covers just
// those bytes) and derives Hugging Face's from them first (whole characters,
// then its trim_offsets; tests/parity/test_tokenizers_parity.py proves the
// rule), because the pipeline's subword rule and its spans are stated in
// those.
//
// Pure functions: no torch, no gRPC, no proto. Called on CpuPool threads;
// stateless and thread-safe. Nothing is retained from the arguments.
#ifndef SECUREBERT_SERVER_SERVICE_TASK_OUTPUTS_H_
#define SECUREBERT_SERVER_SERVICE_TASK_OUTPUTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace securebert::service {

// How the sequence head's logits become probabilities.
enum class LabelActivation {
  kSoftmax,  // one label per input: softmax over the labels
  kSigmoid,  // labels independent: a sigmoid per label
};

// The pipeline's default: sigmoid for multi_label_classification models and
// for models with a single label (whatever their problem_type), softmax
// otherwise.
LabelActivation DefaultLabelActivation(bool multi_label, size_t num_labels);

struct LabelScore {
  int32_t id;   // label id: index into the model's labels
  float score;  // probability of the label
};

// Classify's answer for one input: the labels' probabilities, best first,
// equal scores in label-id order (the pipeline's stable sort); the first
// `top_k` of them, all when top_k <= 0 or top_k >= logits.size().
std::vector<LabelScore> ClassificationScores(absl::Span<const float> logits,
                                             LabelActivation activation, int32_t top_k);

// How per-token predictions become entities (the pipeline's
// aggregation_strategy, same semantics).
enum class Aggregation {
  kNone,     // one entity per token, labelled with its best label ("B-MAL")
  kSimple,   // tokens' best labels grouped by B-/I- tags into spans
  kFirst,    // words take their first token's label, then grouped
  kAverage,  // words take the best label of their tokens' mean scores
  kMax,      // words take the best label of their best-scoring token
};

// What a model-input token is, for the pipeline's special_tokens_mask and its
// offsets.
enum class TokenKind {
  kText,     // a byte-level BPE token of the text
  kAdded,    // an added token matched in the text (a typed "<mask>", "<s>",
             // "<unk>"...); its range may hold whitespace it absorbed (lstrip)
  kSpecial,  // the <s> / </s> the tokenizer put around the input: never an
             // entity (the only tokens HF's special_tokens_mask marks)
};

struct TokenSpan {
  int32_t id;      // vocabulary id
  uint32_t start;  // byte offset of the token's first byte (tokenizer::Encoding)
  uint32_t end;    // byte offset one past its last byte
  TokenKind kind;  // text, added or special
};

struct EntityOptions {
  Aggregation aggregation = Aggregation::kNone;  // how tokens become entities
  // Entities scoring below this are dropped; 0 keeps every entity.
  float threshold = 0.0f;
  // The tokenizer's <unk> id: such a token always starts a new word.
  int32_t unk_id = -1;
};

struct EntitySpan {
  int32_t label_id;     // id of the label (of the group's first token or word)
  float score;          // its probability; a group's is its members' mean
  uint32_t start;       // byte offset where the span starts (HF's start)
  uint32_t end;         // byte offset one past its end (HF's end)
  int32_t token_index;  // model-input index of the span's first token (<s> is 0)
  // kNone: the token's label ("B-MAL"); otherwise the group's entity_group,
  // the first member's label after its first "-" ("MAL").
  std::string label;
};

// ExtractEntities' answer for one input: the pipeline's postprocess with
// ignore_labels=["O"], then entities under options.threshold dropped. In
// text order. `text` is the (valid UTF-8) text `tokens` come from; `logits`
// is row-major [tokens.size(), labels.size()]; `labels` in id order, not
// empty. The shapes and offsets must agree (checked: a mismatch is a bug).
std::vector<EntitySpan> ExtractEntitySpans(std::string_view text,
                                           absl::Span<const TokenSpan> tokens,
                                           absl::Span<const float> logits,
                                           absl::Span<const std::string> labels,
                                           const EntityOptions& options);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_TASK_OUTPUTS_H_
