#include "service/model_pipeline.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/responses.h"
#include "service/windowed_requests.h"
#include "tokenizer/string_view_compat.h"

namespace securebert::service {
namespace {

// A PoolTask that answers `done` with what `work` returns, or with the
// pool's refusal: the callback is shared by the two, only one of which runs.
template <typename Callback, typename Work>
PoolTask AnswerOnPool(std::shared_ptr<Callback> done, Work work) {
  return PoolTask{[done, work = std::move(work)]() mutable { (*done)(work()); },
                  [done](absl::Status refusal) { (*done)(std::move(refusal)); }};
}

WindowShape ResolveWindowShape(int32_t max_input_tokens, const RequestLimits& limits) {
  WindowShape shape;
  shape.window = std::max(1, max_input_tokens - 2);
  shape.overlap = std::clamp(limits.window_overlap_tokens, 0, shape.window / 2);
  return shape;
}

constexpr char kPredictMaskAdvice[] =
    "lower top_k, send fewer masks or inputs per request, or set omit_sequence";

}  // namespace

ModelPipeline::ModelPipeline(const tokenizer::Tokenizer* tokenizer, CpuPool* pool,
                             batching::Engine* engine, ServerMetrics* metrics,
                             const RequestLimits& limits, int32_t max_input_tokens)
    : tokenizer_(tokenizer),
      pool_(pool),
      engine_(engine),
      metrics_(metrics),
      limits_(limits),
      max_input_tokens_(max_input_tokens),
      window_shape_(ResolveWindowShape(max_input_tokens, limits)) {}

absl::StatusOr<std::vector<tokenizer::Encoding>> ModelPipeline::Encode(
    const std::vector<std::string>& texts, InputTruncation truncation) const {
  const absl::Time start = absl::Now();
  tokenizer::EncodeOptions options;
  options.max_tokens = static_cast<size_t>(max_input_tokens_);
  const bool windowed = truncation == InputTruncation::kWindow;
  switch (truncation) {
    case InputTruncation::kNone:
      options.truncation = tokenizer::Truncation::kNone;
      break;
    case InputTruncation::kRight:
      options.truncation = tokenizer::Truncation::kRight;
      break;
    case InputTruncation::kLeft:
      options.truncation = tokenizer::Truncation::kLeft;
      break;
    case InputTruncation::kWindow:
      // As much as the windows hold, <s> and </s> besides: an input cut to
      // it is refused below.
      options.truncation = tokenizer::Truncation::kRight;
      options.max_tokens =
          static_cast<size_t>(MaxContentTokens(limits_.max_windows_per_input, window_shape_) + 2);
      break;
  }
  std::vector<tokenizer::Encoding> encodings;
  encodings.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<tokenizer::Encoding> e = tokenizer_->Encode(texts[i], options);
    if (!e.ok()) {
      return absl::Status(e.status().code(),
                          absl::StrCat("inputs[", i, "]: ", e.status().message()));
    }
    if (windowed && e->truncated) {
      return absl::InvalidArgumentError(absl::StrCat(
          "inputs[", i,
          "]: input needs more than max_windows_per_input=", limits_.max_windows_per_input,
          " windows of ", max_input_tokens_, " tokens overlapping by ", window_shape_.overlap, " (",
          MaxContentTokens(limits_.max_windows_per_input, window_shape_),
          " tokens besides <s> and </s>); split the document"));
    }
    encodings.push_back(*std::move(e));
  }
  metrics_->ObserveTokenize(absl::Now() - start);
  return encodings;
}

void ModelPipeline::Tokenize(std::shared_ptr<const std::vector<std::string>> texts,
                             InputTruncation truncation, TokenizeDone done) {
  pool_->Submit(AnswerOnPool(
      std::make_shared<TokenizeDone>(std::move(done)),
      [this, texts = std::move(texts), truncation] { return Encode(*texts, truncation); }));
}

void ModelPipeline::Submit(ModelRequest request, Done done) {
  auto shared_done = std::make_shared<Done>(std::move(done));
  pool_->Submit(
      PoolTask{[this, request = std::move(request), shared_done]() mutable {
                 TokenizeAndQueue(std::move(request), std::move(*shared_done));
               },
               [shared_done](absl::Status refusal) { (*shared_done)(std::move(refusal)); }});
}

void ModelPipeline::FillSequences(std::vector<tokenizer::Encoding> encodings,
                                  batching::Request* request, ModelResult* result) const {
  std::vector<bool>& truncated = result->truncated;
  const bool masks = request->kind == batching::Request::Kind::kPredictMask;
  const bool offsets = request->kind == batching::Request::Kind::kExtractEntities;
  for (tokenizer::Encoding& e : encodings) {
    if (offsets) result->offsets.push_back(std::move(e.offsets));
    if (masks) {
      std::vector<int32_t>& positions = request->mask_positions.emplace_back();
      for (size_t t = 0; t < e.ids.size(); ++t) {
        if (e.ids[t] == tokenizer_->mask_id()) positions.push_back(static_cast<int32_t>(t));
      }
    }
    truncated.push_back(e.truncated);
    request->sequences.push_back(std::move(e.ids));
  }
}

absl::Status ModelPipeline::CheckTokenized(const ModelRequest& request,
                                           const std::vector<bool>& truncated) const {
  const batching::Request& r = request.request;
  // A label list per input, or entities that cannot outnumber its tokens:
  // bounded by the inputs themselves.
  if (r.kind == batching::Request::Kind::kClassify ||
      r.kind == batching::Request::Kind::kExtractEntities) {
    return absl::OkStatus();
  }
  if (r.kind == batching::Request::Kind::kEmbed) {
    return CheckResponseBytes(
        EstimateEmbedResponseBytes(r, engine_->spec().hidden_size),
        "send fewer or shorter inputs per request, or pool them (POOLING_CLS, POOLING_MEAN)",
        limits_);
  }
  if (absl::Status s = CheckMasks(r.mask_positions, truncated, r.top_k,
                                  tokenizer::ToAbsl(tokenizer_->mask_token()), limits_);
      !s.ok()) {
    return s;
  }
  return CheckResponseBytes(MinPredictMaskResponseBytes(r, request.omit_sequence, *tokenizer_),
                            kPredictMaskAdvice, limits_);
}

void ModelPipeline::TokenizeAndQueue(ModelRequest request, Done done) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<tokenizer::Encoding>> encodings =
      Encode(*request.texts, request.truncation);
  if (!encodings.ok()) return done(encodings.status());
  request.request.tokenize_us = absl::ToInt64Microseconds(absl::Now() - start);
  // What the answer needs besides the engine's response.
  ModelResult base;
  base.omit_sequence = request.omit_sequence;
  base.kind = request.request.kind;
  base.task = request.task;
  if (request.request.kind == batching::Request::Kind::kExtractEntities) base.texts = request.texts;
  FillSequences(*std::move(encodings), &request.request, &base);
  if (absl::Status s = CheckTokenized(request, base.truncated); !s.ok()) return done(s);
  if (request.truncation == InputTruncation::kWindow) {
    ExpandWindows(window_shape_, &request.request, &base);
  }
  // The engine takes its callback only when it accepts the request; the
  // callback is shared so that a refusal can still be answered here.
  auto shared_done = std::make_shared<Done>(std::move(done));
  absl::Status queued =
      engine_->Submit(std::move(request.request), Continuation(std::move(base), shared_done));
  if (!queued.ok()) (*shared_done)(queued);
}

batching::DoneCallback ModelPipeline::Continuation(ModelResult base, std::shared_ptr<Done> done) {
  // Runs on a batch worker: only hands the answer over to the pool, where
  // the callback builds the response.
  return [this, base = std::move(base),
          done = std::move(done)](absl::StatusOr<batching::Response> response) mutable {
    pool_->Continue(AnswerOnPool(
        std::move(done),
        [this, response = std::move(response),
         base = std::move(base)]() mutable -> absl::StatusOr<ModelResult> {
          if (!response.ok()) return response.status();
          metrics_->ObserveTiming(response->timing);
          const batching::Request::Kind kind = base.kind;
          ModelResult result = std::move(base);
          result.response = *std::move(response);
          if (absl::Status s = MergeWindows(kind, &result); !s.ok()) return s;
          // The candidates are known now: bound the answer before building it.
          if (!result.response.outputs.empty() && !result.response.outputs[0].masks.empty()) {
            if (absl::Status s = CheckResponseBytes(PredictMaskResponseBytes(result, *tokenizer_),
                                                    kPredictMaskAdvice, limits_);
                !s.ok()) {
              return s;
            }
          }
          return result;
        }));
  };
}

}  // namespace securebert::service
