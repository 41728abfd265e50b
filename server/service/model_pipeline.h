// ModelPipeline: the one-directional path of a request after its handler has
// validated it: tokenizer pool -> engine queue -> batch worker -> the pool
// again for the answer -> callback.
//
// Handlers (SecureBertService, EmbedStreamCall) call Submit or Tokenize and
// return; nothing here blocks the caller. Tokenization runs on the CpuPool,
// never on a gRPC thread or a batch worker. Bad UTF-8 and over-long inputs
// are refused at the tokenizer stage with INVALID_ARGUMENT naming the input,
// and so is what only the tokens tell (request_limits.h: masks per input,
// candidates per request, an answer sure to be too large), before any
// compute. The engine's answer is handed back to the pool
// (CpuPool::Continue), where a PredictMask answer is bounded once more, now
// with its candidates known, before the callback builds the response; so the
// callback never runs on a batch worker and never builds an answer over the
// message limit.
//
// Ownership: the pipeline references the tokenizer, pool, engine and metrics
// it is given; all of them outlive it. Each call's `done` runs exactly once:
// on a pool thread, or inline when the pool refuses (also once it has
// stopped). Thread safety: Submit and Tokenize may be called from any thread.
#ifndef SECUREBERT_SERVER_SERVICE_MODEL_PIPELINE_H_
#define SECUREBERT_SERVER_SERVICE_MODEL_PIPELINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "batching/engine.h"
#include "service/cpu_pool.h"
#include "service/metrics.h"
#include "service/model_request.h"
#include "service/request_limits.h"
#include "service/windows.h"
#include "tokenizer/tokenizer.h"

namespace securebert::service {

class ModelPipeline {
 public:
  using Done = absl::AnyInvocable<void(absl::StatusOr<ModelResult>)>;
  using TokenizeDone = absl::AnyInvocable<void(absl::StatusOr<std::vector<tokenizer::Encoding>>)>;

  // `max_input_tokens` is the engine's resolved limit.
  ModelPipeline(const tokenizer::Tokenizer* tokenizer, CpuPool* pool, batching::Engine* engine,
                ServerMetrics* metrics, const RequestLimits& limits, int32_t max_input_tokens);

  // Tokenizes request.texts on the pool, checks the limits the tokens tell,
  // then queues the request in the engine.
  void Submit(ModelRequest request, Done done);
  // Tokenizes `texts` on the pool without model compute.
  void Tokenize(std::shared_ptr<const std::vector<std::string>> texts, InputTruncation truncation,
                TokenizeDone done);

  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  int32_t max_input_tokens() const { return max_input_tokens_; }
  // How TRUNCATION_WINDOW cuts long inputs: windows of max_input_tokens, the
  // overlap RequestLimits asks for, at most half a window.
  const WindowShape& window_shape() const { return window_shape_; }

 private:
  // Runs on a pool thread.
  absl::StatusOr<std::vector<tokenizer::Encoding>> Encode(const std::vector<std::string>& texts,
                                                          InputTruncation truncation) const;
  void TokenizeAndQueue(ModelRequest request, Done done);
  // Moves the encodings' ids into `request` (and the masks' positions), and
  // into `result` which texts were truncated (and, for ExtractEntities, the
  // tokens' offsets).
  void FillSequences(std::vector<tokenizer::Encoding> encodings, batching::Request* request,
                     ModelResult* result) const;
  // The limits that tokens tell, and the estimated size of the answer.
  absl::Status CheckTokenized(const ModelRequest& request,
                              const std::vector<bool>& truncated) const;
  // The engine's reply, handed to the pool to finish the call there, where
  // it completes `base` (ModelResult::response).
  batching::DoneCallback Continuation(ModelResult base, std::shared_ptr<Done> done);

  // Constant after construction; pointers not owned.
  const tokenizer::Tokenizer* const tokenizer_;
  CpuPool* const pool_;
  batching::Engine* const engine_;
  ServerMetrics* const metrics_;
  const RequestLimits limits_;
  const int32_t max_input_tokens_;
  const WindowShape window_shape_;
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_MODEL_PIPELINE_H_
