// The small interface the batching engine runs models through.
//
// Implemented by model/TorchModel (LibTorch) and, in tests, by fake models.
// Nothing here includes torch: the batching code compiles and is tested
// without it.
//
// Thread safety: one Model instance is driven by exactly one engine worker
// thread; Forward is never called concurrently on the same instance. Separate
// instances may run concurrently.
#ifndef SECUREBERT_SERVER_BATCHING_MODEL_H_
#define SECUREBERT_SERVER_BATCHING_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace securebert::batching {

// A row of the batch whose hidden state at `position` goes through the LM head.
struct LmRow {
  int32_t row = 0;       // index of the sequence in the batch
  int32_t position = 0;  // token index within that sequence (<s> is 0)
};

// What a row of the batch needs back from the encoder's last_hidden_state.
// The model pools, so that only what is asked for leaves the device.
enum class RowOutput {
  kNothing,  // nothing (a PredictMask row: only its LmRows)
  kTokens,   // every real token's vector: [num_tokens, hidden]
  kCls,      // the <s> (first) token's vector: [hidden]
  kMean,     // the mean over the row's real tokens, <s> and </s> included: [hidden]
  // The sequence-classification head on the <s> vector: [num_labels] logits.
  kSequenceLogits,
  // The token-classification head on every real token: [num_tokens, num_labels]
  // logits.
  kTokenLogits,
};

// The fine-tuned head a model carries beside its encoder, if any.
enum class TaskHead {
  kNone,
  kSequenceClassification,  // answers kSequenceLogits rows
  kTokenClassification,     // answers kTokenLogits rows
};

// One padded batch, built by the engine.
struct ModelInput {
  int32_t batch_size = 0;  // rows in the batch
  int32_t seq_len = 0;     // padded length (longest sequence in the batch)
  // Row-major [batch_size, seq_len]; padding positions hold the pad id.
  std::vector<int64_t> input_ids;
  // Row-major [batch_size, seq_len]; 1 for real tokens, 0 for padding.
  std::vector<int64_t> attention_mask;
  // Per row: what it needs of the hidden states; batch_size entries.
  std::vector<RowOutput> row_outputs;
  // Positions that need LM-head top-k (PredictMask rows); may be empty.
  std::vector<LmRow> lm_rows;
  // Candidates per LM row (the largest top_k any row asked for); 0 if no rows.
  int32_t top_k = 0;
  // How many instances' cores this forward may use: 1, or more when idle
  // instances lend theirs (EngineOptions::lend_idle_cores). An instance with
  // T intra-op threads runs it on T x core_slots threads.
  int32_t core_slots = 1;
};

// What a forward produced.
struct ModelOutput {
  // Per row, what row_outputs asked for, row-major float32: num_tokens x
  // hidden values for kTokens (real tokens only, no padding), hidden for
  // kCls and kMean, num_labels for kSequenceLogits, num_tokens x num_labels
  // for kTokenLogits, none for kNothing. batch_size entries.
  std::vector<std::vector<float>> embeddings;
  // Row-major [lm_rows.size(), top_k]: vocabulary ids, best first.
  std::vector<int32_t> topk_ids;
  // Row-major [lm_rows.size(), top_k]: softmax probabilities over the
  // vocabulary, matching topk_ids.
  std::vector<float> topk_scores;
};

// Static facts about a loaded model.
struct ModelSpec {
  std::string model_id;          // e.g. "ehsanaghaei/SecureBERT"
  int32_t hidden_size = 0;       // 768 for SecureBERT
  int32_t num_layers = 0;        // 12 for SecureBERT
  int32_t vocab_size = 0;        // 50265 for SecureBERT
  int32_t max_input_tokens = 0;  // 512 for SecureBERT, <s> and </s> included
  int32_t pad_id = 1;            // id written into padding positions
  std::string device;            // "cpu", "cuda:0", ...
  std::string dtype;             // "float32", "float16", "bfloat16"
  bool has_lm_head = true;       // can answer lm_rows (PredictMask)
  TaskHead task_head = TaskHead::kNone;
  int32_t num_labels = 0;  // the task head's outputs; 0 without one
};

class Model {
 public:
  virtual ~Model() = default;

  // Static facts; constant after construction.
  virtual const ModelSpec& spec() const = 0;

  // Called once by the worker thread that will drive this instance, before
  // its first Forward (e.g. to set that thread's intra-op thread count).
  virtual void BindToCurrentThread() {}

  // Runs the encoder on `input`, pools what each row asks for
  // (input.row_outputs) and runs the LM head on `input.lm_rows`. Errors are
  // statuses with context; no exception escapes. RESOURCE_EXHAUSTED means
  // out of device memory: the engine retries the batch in smaller parts.
  virtual absl::StatusOr<ModelOutput> Forward(const ModelInput& input) = 0;
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_MODEL_H_
