#include "service/securebert_service.h"

#include <utility>

#include "service/embed_stream.h"
#include "service/responses.h"
#include "service/unary_call.h"

namespace securebert::service {

SecureBertService::SecureBertService(const ServiceOptions& options, ServerMetrics* metrics)
    : options_(options), metrics_(metrics) {}

void SecureBertService::SetReady(ServiceBackend backend) {
  absl::MutexLock lock(&mu_);
  backend_ = std::move(backend);
  if (state_ == State::kLoading) state_ = State::kServing;
}

void SecureBertService::StartDrain() {
  absl::MutexLock lock(&mu_);
  state_ = State::kDraining;
}

absl::StatusOr<const ServiceBackend*> SecureBertService::Admit() const {
  absl::ReaderMutexLock lock(&mu_);
  switch (state_) {
    case State::kLoading:
      return absl::UnavailableError("model is loading; retry shortly");
    case State::kDraining:
      return absl::UnavailableError("server is draining; retry on another replica");
    case State::kServing:
      break;
  }
  // backend_ is written once, before kServing, and only read afterwards.
  return &backend_;
}

grpc::ServerUnaryReactor* SecureBertService::Embed(grpc::CallbackServerContext* context,
                                                   const v1::EmbedRequest* request,
                                                   v1::EmbedResponse* response) {
  auto* call = new UnaryCall(context, "Embed", metrics_);
  absl::StatusOr<const ServiceBackend*> backend = Admit();
  if (!backend.ok()) return call->Reply(backend.status()), call;
  absl::StatusOr<ModelCall> model_call = MapEmbedRequest(*request, options_.limits);
  if (!model_call.ok()) return call->Reply(model_call.status()), call;
  model_call->deadline = call->deadline();
  model_call->cancelled = call->cancelled();
  ServerMetrics* metrics = metrics_;
  (*backend)->pipeline->Submit(std::move(*model_call),
                               [call, response, metrics](absl::StatusOr<ModelCallResult> result) {
                                 if (result.ok()) {
                                   metrics->ObserveTiming(result->response.timing);
                                   FillEmbedResponse(*result, response);
                                 }
                                 call->Reply(result.status());
                               });
  return call;
}

grpc::ServerUnaryReactor* SecureBertService::PredictMask(grpc::CallbackServerContext* context,
                                                         const v1::PredictMaskRequest* request,
                                                         v1::PredictMaskResponse* response) {
  auto* call = new UnaryCall(context, "PredictMask", metrics_);
  absl::StatusOr<const ServiceBackend*> backend = Admit();
  if (!backend.ok()) return call->Reply(backend.status()), call;
  absl::StatusOr<ModelCall> model_call = MapPredictMaskRequest(*request, options_.limits);
  if (!model_call.ok()) return call->Reply(model_call.status()), call;
  model_call->deadline = call->deadline();
  model_call->cancelled = call->cancelled();
  ModelPipeline* pipeline = (*backend)->pipeline;
  ServerMetrics* metrics = metrics_;
  pipeline->Submit(std::move(*model_call),
                   [call, response, pipeline, metrics](absl::StatusOr<ModelCallResult> result) {
                     if (result.ok()) {
                       metrics->ObserveTiming(result->response.timing);
                       FillPredictMaskResponse(*result, pipeline->tokenizer(), response);
                     }
                     call->Reply(result.status());
                   });
  return call;
}

grpc::ServerUnaryReactor* SecureBertService::Tokenize(grpc::CallbackServerContext* context,
                                                      const v1::TokenizeRequest* request,
                                                      v1::TokenizeResponse* response) {
  auto* call = new UnaryCall(context, "Tokenize", metrics_);
  absl::StatusOr<const ServiceBackend*> backend = Admit();
  if (!backend.ok()) return call->Reply(backend.status()), call;
  if (absl::Status s = ValidateInputCount(request->inputs_size(), options_.limits); !s.ok()) {
    return call->Reply(s), call;
  }
  absl::StatusOr<tokenizer::Truncation> truncation = MapTruncation(request->truncation());
  if (!truncation.ok()) return call->Reply(truncation.status()), call;
  ModelPipeline* pipeline = (*backend)->pipeline;
  auto texts = std::make_shared<const std::vector<std::string>>(request->inputs().begin(),
                                                                request->inputs().end());
  pipeline->Tokenize(
      std::move(texts), *truncation,
      [call, response, pipeline](absl::StatusOr<std::vector<tokenizer::Encoding>> encodings) {
        if (encodings.ok()) {
          FillTokenizeResponse(*encodings, pipeline->tokenizer(), response);
        }
        call->Reply(encodings.status());
      });
  return call;
}

grpc::ServerUnaryReactor* SecureBertService::GetModelInfo(grpc::CallbackServerContext* context,
                                                          const v1::GetModelInfoRequest*,
                                                          v1::ModelInfo* response) {
  auto* call = new UnaryCall(context, "GetModelInfo", metrics_);
  absl::StatusOr<const ServiceBackend*> backend = Admit();
  if (backend.ok()) *response = (*backend)->info;
  call->Reply(backend.status());
  return call;
}

grpc::ServerBidiReactor<v1::EmbedRequest, v1::EmbedResponse>* SecureBertService::EmbedStream(
    grpc::CallbackServerContext* context) {
  absl::StatusOr<const ServiceBackend*> backend = Admit();
  return new EmbedStreamCall(context, backend.ok() ? (*backend)->pipeline : nullptr,
                             backend.status(), options_.limits, options_.max_stream_in_flight,
                             metrics_);
}

}  // namespace securebert::service
