// What the service layer hands the engine and what it gets back.
//
// A Request is one gRPC call whose inputs are already tokenized; the engine
// answers it with one Response (or one error status) through its
// DoneCallback. Plain data: no locking of its own. The engine owns a Request
// from a successful Engine::Submit until it has answered it.
#ifndef SECUREBERT_SERVER_BATCHING_REQUEST_H_
#define SECUREBERT_SERVER_BATCHING_REQUEST_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace securebert::batching {

// How token vectors become one vector per input (Embed only).
enum class Pooling {
  kNone,  // every token's vector, <s> and </s> included, no padding rows
  kCls,   // the <s> (first) token's vector
  kMean,  // the mean over the input's real tokens, <s> and </s> included
};

// Where a request's time went; copied into the response's Timing.
struct Timing {
  int64_t tokenize_us = 0;   // tokenizing its inputs (stamped before Submit)
  int64_t queue_us = 0;      // admission to the start of the batch that ran
                             // its longest-waiting input
  int64_t inference_us = 0;  // model compute, summed over the batches it ran in
  int32_t batch_size = 0;    // rows of the largest batch it ran in
};

// One model-bound gRPC call, tokenized. The one description of a request:
// the service fills it (the handler its settings, the tokenizer stage its
// sequences) and the engine runs it.
struct Request {
  enum class Kind {
    kEmbed,            // hidden states, pooled or not
    kPredictMask,      // LM-head top-k at each <mask>
    kClassify,         // the sequence-classification head's logits
    kExtractEntities,  // the token-classification head's logits per token
  };

  Kind kind = Kind::kEmbed;  // what to compute
  // Token ids per input, <s> and </s> included; each 1..max_input_tokens long.
  std::vector<std::vector<int32_t>> sequences;
  Pooling pooling = Pooling::kNone;  // Embed: how to pool
  bool normalize = false;            // Embed: L2-normalize pooled vectors
                                     // (ignored for kNone)
  int32_t top_k = 10;                // PredictMask: candidates per mask, >= 1
                                     // (clamped to the vocabulary)
  // PredictMask: per input, the strictly ascending token indices of <mask>.
  std::vector<std::vector<int32_t>> mask_positions;
  absl::Time deadline = absl::InfiniteFuture();  // the call's gRPC deadline
  // Set by the transport when the client goes away; may be null.
  std::shared_ptr<const std::atomic<bool>> cancelled;
  int64_t tokenize_us = 0;  // stamped by the tokenizer stage
};

// The answer for one input of a request.
struct SequenceOutput {
  // One <mask> position's candidates, best first.
  struct Mask {
    int32_t position = 0;       // token index of the <mask>
    std::vector<int32_t> ids;   // vocabulary ids, top_k of them
    std::vector<float> scores;  // softmax probabilities matching `ids`
  };

  // Embed: row-major values; [num_tokens, hidden] for kNone, [hidden] pooled
  // (pooled by the model, see ModelInput::rows). Classify: the head's
  // [num_labels] logits. ExtractEntities: [num_tokens, num_labels] logits.
  std::vector<float> values;
  std::vector<int64_t> shape;  // Embed, Classify, ExtractEntities: the shape of `values`
  uint32_t num_tokens = 0;     // tokens the model saw, <s> and </s> included
  std::vector<Mask> masks;     // PredictMask: one per mask position, in order
};

// The answer for a whole request.
struct Response {
  std::vector<SequenceOutput> outputs;  // one per input, in request order
  Timing timing;                        // where the time went
  // The request's token ids (Request::sequences), handed back with the
  // answer so that the caller need not keep a copy to build its response.
  std::vector<std::vector<int32_t>> sequences;
};

// Called exactly once per accepted request, with its Response or an error
// status (DEADLINE_EXCEEDED, CANCELLED, INTERNAL, UNAVAILABLE).
using DoneCallback = absl::AnyInvocable<void(absl::StatusOr<Response>)>;

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_REQUEST_H_
