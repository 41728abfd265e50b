#include "service/model_pipeline.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace securebert::service {

ModelPipeline::ModelPipeline(const tokenizer::Tokenizer* tokenizer, CpuPool* pool,
                             batching::Engine* engine, ServerMetrics* metrics,
                             int32_t max_input_tokens)
    : tokenizer_(tokenizer),
      pool_(pool),
      engine_(engine),
      metrics_(metrics),
      max_input_tokens_(max_input_tokens) {}

absl::StatusOr<std::vector<tokenizer::Encoding>> ModelPipeline::Encode(
    const std::vector<std::string>& texts, tokenizer::Truncation truncation) const {
  tokenizer::EncodeOptions options;
  options.truncation = truncation;
  options.max_tokens = static_cast<size_t>(max_input_tokens_);
  std::vector<tokenizer::Encoding> encodings;
  encodings.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<tokenizer::Encoding> e = tokenizer_->Encode(texts[i], options);
    if (!e.ok()) {
      return absl::Status(e.status().code(),
                          absl::StrCat("inputs[", i, "]: ", e.status().message()));
    }
    encodings.push_back(*std::move(e));
  }
  return encodings;
}

void ModelPipeline::Tokenize(std::shared_ptr<const std::vector<std::string>> texts,
                             tokenizer::Truncation truncation, TokenizeDone done) {
  auto shared_done = std::make_shared<TokenizeDone>(std::move(done));
  absl::Status scheduled = pool_->TrySchedule([this, texts, truncation, shared_done] {
    const absl::Time start = absl::Now();
    auto encodings = Encode(*texts, truncation);
    metrics_->ObserveTokenize(absl::Now() - start);
    (*shared_done)(std::move(encodings));
  });
  if (!scheduled.ok()) (*shared_done)(scheduled);
}

void ModelPipeline::Submit(ModelCall call, Done done) {
  // std::function needs copyable captures: share the call and the callback.
  auto shared_call = std::make_shared<ModelCall>(std::move(call));
  auto shared_done = std::make_shared<Done>(std::move(done));
  absl::Status scheduled = pool_->TrySchedule([this, shared_call, shared_done] {
    TokenizeAndQueue(std::move(*shared_call), std::move(*shared_done));
  });
  if (!scheduled.ok()) (*shared_done)(scheduled);
}

void ModelPipeline::TokenizeAndQueue(ModelCall call, Done done) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<tokenizer::Encoding>> encodings = Encode(*call.texts, call.truncation);
  const absl::Duration tokenize_time = absl::Now() - start;
  metrics_->ObserveTokenize(tokenize_time);
  if (!encodings.ok()) return done(encodings.status());

  batching::Request request;
  request.kind = call.kind;
  request.pooling = call.pooling;
  request.normalize = call.normalize;
  request.top_k = call.top_k;
  request.deadline = call.deadline;
  request.cancelled = call.cancelled;
  request.tokenize_us = absl::ToInt64Microseconds(tokenize_time);
  auto result = std::make_shared<ModelCallResult>();
  for (size_t i = 0; i < encodings->size(); ++i) {
    tokenizer::Encoding& e = (*encodings)[i];
    if (call.kind == batching::Request::Kind::kPredictMask) {
      std::vector<int32_t> masks;
      for (size_t t = 0; t < e.ids.size(); ++t) {
        if (e.ids[t] == tokenizer_->mask_id()) masks.push_back(static_cast<int32_t>(t));
      }
      if (masks.empty()) {
        return done(absl::InvalidArgumentError(
            absl::StrCat("inputs[", i, "]: no ", std::string(tokenizer_->mask_token()), " token",
                         e.truncated ? " left after truncation" : "",
                         "; PredictMask needs at least one per input")));
      }
      request.mask_positions.push_back(std::move(masks));
    }
    request.sequences.push_back(e.ids);
    result->truncated.push_back(e.truncated);
    result->ids.push_back(std::move(e.ids));
  }

  auto shared_done = std::make_shared<Done>(std::move(done));
  absl::Status queued = engine_->Submit(
      std::move(request), [result, shared_done](absl::StatusOr<batching::Response> response) {
        if (!response.ok()) return (*shared_done)(response.status());
        result->response = *std::move(response);
        (*shared_done)(std::move(*result));
      });
  if (!queued.ok()) (*shared_done)(queued);
}

}  // namespace securebert::service
