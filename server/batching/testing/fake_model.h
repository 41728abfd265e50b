// A deterministic stand-in for the torch model, for engine tests.
//
// Outputs depend only on each row's own ids and positions, never on the rest
// of the batch, so a test can compute every request's expected answer alone
// (Expected* below) and catch cross-talk and reordering.
// Every forward is recorded in a BatchLog; a ForwardGate lets a test hold
// forwards and release them one at a time; a poison id makes a forward fail.
//
// Thread safety: ForwardGate and BatchLog are thread-safe and shared by all
// instances of a test. A FakeModel follows the Model contract (one driving
// thread); its log and gate must outlive it.
#ifndef SECUREBERT_SERVER_BATCHING_TESTING_FAKE_MODEL_H_
#define SECUREBERT_SERVER_BATCHING_TESTING_FAKE_MODEL_H_

#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "batching/model.h"
#include "batching/request.h"

namespace securebert::batching::testing {

// Holds model forwards until a test lets them through.
class ForwardGate {
 public:
  void Close() ABSL_LOCKS_EXCLUDED(mu_);  // forwards block from now on
  void Open() ABSL_LOCKS_EXCLUDED(mu_);   // forwards run freely (default)
  // Lets `count` blocked or future forwards through while closed.
  void Release(int64_t count) ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until `count` forwards have entered the gate in total.
  void AwaitEntered(int64_t count) ABSL_LOCKS_EXCLUDED(mu_);
  int64_t entered() ABSL_LOCKS_EXCLUDED(mu_);
  // Called by FakeModel::Forward: blocks while closed and without a permit.
  void Pass() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int64_t permits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t entered_ ABSL_GUARDED_BY(mu_) = 0;
};

// What a FakeModel saw in one Forward.
struct SeenBatch {
  int32_t instance = 0;                // FakeModelOptions::instance
  int32_t rows = 0;                    // batch_size
  int32_t seq_len = 0;                 // padded length
  std::vector<int32_t> lengths;        // real tokens per row
  std::vector<int32_t> tags;           // per row: its id at position 1 (or 0)
  std::vector<RowOutput> row_outputs;  // ModelInput::row_outputs
  int32_t lm_rows = 0;                 // ModelInput::lm_rows.size()
  int32_t top_k = 0;                   // ModelInput::top_k
  bool on_bound_thread = false;        // ran on the BindToCurrentThread thread
  int32_t core_slots = 1;              // ModelInput::core_slots
};

// Every forward of every FakeModel sharing it, in order.
class BatchLog {
 public:
  void Add(SeenBatch batch) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<SeenBatch> batches() ABSL_LOCKS_EXCLUDED(mu_);
  // Core slots of forwards running now: FakeModel enters a forward's
  // ModelInput::core_slots when it starts and leaves them when it returns.
  void EnterSlots(int32_t slots) ABSL_LOCKS_EXCLUDED(mu_);
  void LeaveSlots(int32_t slots) ABSL_LOCKS_EXCLUDED(mu_);
  // The most core slots forwards held at once so far.
  int32_t max_slots_in_use() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  std::vector<SeenBatch> batches_ ABSL_GUARDED_BY(mu_);
  int32_t slots_in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int32_t max_slots_in_use_ ABSL_GUARDED_BY(mu_) = 0;
};

struct FakeModelOptions {
  int32_t instance = 0;            // recorded in SeenBatch::instance
  int32_t hidden_size = 4;         // ModelSpec::hidden_size
  int32_t vocab_size = 1000;       // ModelSpec::vocab_size
  int32_t max_input_tokens = 512;  // ModelSpec::max_input_tokens
  int32_t poison_id = -1;          // a forward holding this id fails
  // A forward of more padded tokens (rows x seq_len) fails RESOURCE_EXHAUSTED,
  // as a CUDA out-of-memory does; -1: never.
  int64_t oom_above_padded_tokens = -1;
  bool has_lm_head = true;               // ModelSpec::has_lm_head
  TaskHead task_head = TaskHead::kNone;  // ModelSpec::task_head
  int32_t num_labels = 0;                // ModelSpec::num_labels
  BatchLog* log = nullptr;               // where forwards are recorded; may be null
  ForwardGate* gate = nullptr;           // holds forwards; may be null
};

class FakeModel final : public Model {
 public:
  explicit FakeModel(const FakeModelOptions& options);

  const ModelSpec& spec() const override { return spec_; }
  void BindToCurrentThread() override;
  absl::StatusOr<ModelOutput> Forward(const ModelInput& input) override;

  // The hidden value the fake writes for token `id` at `position`, unit `h`.
  static float Hidden(int32_t id, int32_t position, int32_t h);
  // What the fake returns for a row of `ids` asking for `output`: Hidden()
  // per token, or its first token's or the mean over the row.
  static std::vector<float> Embedding(const std::vector<int32_t>& ids, RowOutput output,
                                      int32_t hidden_size);
  // What the fake's task head returns for a row of `ids` asking for
  // `output` (kSequenceLogits or kTokenLogits): [num_labels] from the first
  // token, or [tokens, num_labels].
  static std::vector<float> Logits(const std::vector<int32_t>& ids, RowOutput output,
                                   int32_t num_labels);
  // The fake's top-`k` at `position` of `ids`: ids and scores, best first.
  static std::pair<std::vector<int32_t>, std::vector<float>> TopK(const std::vector<int32_t>& ids,
                                                                  int32_t position, int32_t k,
                                                                  int32_t vocab_size);
  // The answer the engine should give for one input of `request`.
  static SequenceOutput Expected(const Request& request, size_t index, int32_t hidden_size,
                                 int32_t vocab_size, int32_t num_labels = 0);

 private:
  void Record(const ModelInput& input);

  const FakeModelOptions options_;
  const ModelSpec spec_;
  std::thread::id bound_thread_;  // written by BindToCurrentThread only
};

}  // namespace securebert::batching::testing

#endif  // SECUREBERT_SERVER_BATCHING_TESTING_FAKE_MODEL_H_
