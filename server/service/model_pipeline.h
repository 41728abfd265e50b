// ModelPipeline: the one-directional path of a request after its handler has
// validated it: tokenizer pool -> engine queue -> batch worker -> callback.
//
// Handlers (SecureBertService, EmbedStreamCall) call Submit or Tokenize and
// return; nothing here blocks the caller. Tokenization runs on the CpuPool,
// never on a gRPC thread or a batch worker. Bad UTF-8 and over-long inputs
// are refused at the tokenizer stage with INVALID_ARGUMENT naming the input.
//
// Ownership: the pipeline references the tokenizer, pool, engine and metrics
// it is given; all of them outlive it. Each call's `done` runs exactly once,
// on a pool thread, an engine thread, or inline when the pool refuses.
// Thread safety: Submit and Tokenize may be called from any thread.
#ifndef SECUREBERT_SERVER_SERVICE_MODEL_PIPELINE_H_
#define SECUREBERT_SERVER_SERVICE_MODEL_PIPELINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "batching/engine.h"
#include "service/cpu_pool.h"
#include "service/metrics.h"
#include "tokenizer/tokenizer.h"

namespace securebert::service {

// One model-bound request, as the handler mapped it from its proto.
struct ModelCall {
  batching::Request::Kind kind = batching::Request::Kind::kEmbed;
  // The request's texts; shared so they outlive the handler's proto.
  std::shared_ptr<const std::vector<std::string>> texts;
  tokenizer::Truncation truncation = tokenizer::Truncation::kNone;
  batching::Pooling pooling = batching::Pooling::kNone;  // Embed
  bool normalize = false;                                // Embed
  int32_t top_k = 10;                                    // PredictMask
  absl::Time deadline = absl::InfiniteFuture();          // the RPC's deadline
  std::shared_ptr<const std::atomic<bool>> cancelled;    // set when the client goes away
};

// What the model produced, with what the model saw.
struct ModelCallResult {
  batching::Response response;            // one output per text, in order
  std::vector<std::vector<int32_t>> ids;  // the token ids of each text
  std::vector<bool> truncated;            // whether each text was truncated
};

class ModelPipeline {
 public:
  using Done = std::function<void(absl::StatusOr<ModelCallResult>)>;
  using TokenizeDone = std::function<void(absl::StatusOr<std::vector<tokenizer::Encoding>>)>;

  ModelPipeline(const tokenizer::Tokenizer* tokenizer, CpuPool* pool, batching::Engine* engine,
                ServerMetrics* metrics, int32_t max_input_tokens);

  // Tokenizes call.texts on the pool, then queues them in the engine.
  void Submit(ModelCall call, Done done);
  // Tokenizes `texts` on the pool without model compute.
  void Tokenize(std::shared_ptr<const std::vector<std::string>> texts,
                tokenizer::Truncation truncation, TokenizeDone done);

  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  int32_t max_input_tokens() const { return max_input_tokens_; }

 private:
  // Runs on a pool thread.
  absl::StatusOr<std::vector<tokenizer::Encoding>> Encode(const std::vector<std::string>& texts,
                                                          tokenizer::Truncation truncation) const;
  void TokenizeAndQueue(ModelCall call, Done done);

  // Constant after construction; not owned.
  const tokenizer::Tokenizer* const tokenizer_;
  CpuPool* const pool_;
  batching::Engine* const engine_;
  ServerMetrics* const metrics_;
  const int32_t max_input_tokens_;
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_MODEL_PIPELINE_H_
