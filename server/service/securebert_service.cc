#include "service/securebert_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "securebert/wire/v1/securebert_wire.pb.h"
#include "service/embed_stream.h"
#include "service/request_mapping.h"
#include "service/responses.h"
#include "service/unary_call.h"
#include "service/wire_codec.h"

namespace securebert::service {
namespace {

// Builds the answer with `fill` from `result` (when it is one) and
// serializes it into the call's response; returns the call's status.
template <typename Response, typename Result, typename Fill>
absl::Status Answer(const absl::StatusOr<Result>& result, Fill fill, grpc::ByteBuffer* response) {
  if (!result.ok()) return result.status();
  Response built;
  fill(*result, &built);
  return SerializeResponse(built, response);
}

// The request in `bytes` parsed as `Wire` and mapped with `map`.
template <typename Wire, typename Map>
absl::StatusOr<ModelRequest> ParseAndMap(const grpc::ByteBuffer& bytes, Map map,
                                         const RequestLimits& limits) {
  Wire wire;
  if (absl::Status s = ParseRequest(bytes, Wire::descriptor()->name(), &wire); !s.ok()) return s;
  return map(wire, limits);
}

// OK when the model has `capability` (ModelInfo.capabilities), else the
// FAILED_PRECONDITION the contract promises, naming the missing head.
absl::Status CheckCapability(const v1::ModelInfo& info, absl::string_view capability) {
  for (const std::string& c : info.capabilities()) {
    if (c == capability) return absl::OkStatus();
  }
  absl::string_view head = "MLM head, which PredictMask";
  if (capability == "classify") head = "sequence-classification head, which Classify";
  if (capability == "extract_entities") {
    head = "token-classification head, which ExtractEntities";
  }
  return absl::FailedPreconditionError(
      absl::StrCat("this model (", info.model_id(), ") has no ", head,
                   " needs; GetModelInfo.capabilities lists what it can serve"));
}

}  // namespace

SecureBertService::SecureBertService(const ServiceOptions& options, ServerMetrics* metrics,
                                     const BearerTokens* tokens)
    : options_(options), metrics_(metrics), tokens_(tokens) {}

void SecureBertService::SetReady(ServiceBackend backend) {
  absl::MutexLock lock(&mu_);
  backend_ = std::move(backend);
  if (state_ == State::kLoading) state_ = State::kServing;
}

void SecureBertService::StartDrain() {
  absl::MutexLock lock(&mu_);
  state_ = State::kDraining;
}

absl::StatusOr<const ServiceBackend*> SecureBertService::Admit(
    const grpc::CallbackServerContext& context) const {
  if (tokens_ != nullptr) {
    const auto& metadata = context.client_metadata();
    const auto header = metadata.find("authorization");
    const absl::string_view value =
        header == metadata.end() ? absl::string_view()
                                 : absl::string_view(header->second.data(), header->second.size());
    if (absl::Status s = tokens_->Check(value); !s.ok()) return s;
  }
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

template <typename Wire, typename Response, typename Map, typename Fill>
grpc::ServerUnaryReactor* SecureBertService::RunModelCall(grpc::CallbackServerContext* context,
                                                          const char* rpc, const char* capability,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response, Map map,
                                                          Fill fill) {
  auto* call = new UnaryCall(context, rpc, metrics_);
  absl::StatusOr<const ServiceBackend*> backend = Admit(*context);
  absl::Status status = backend.status();
  if (status.ok()) status = CheckCapability((*backend)->info, capability);
  absl::StatusOr<ModelRequest> mapped = status.ok()
                                            ? ParseAndMap<Wire>(*request, map, options_.limits)
                                            : absl::StatusOr<ModelRequest>(status);
  if (!mapped.ok()) {
    call->Reply(mapped.status());
    return call;
  }
  mapped->request.deadline = call->deadline();
  mapped->request.cancelled = call->cancelled();
  const ServiceBackend* ready = *backend;
  ready->pipeline->Submit(std::move(*mapped), [call, response, ready, fill = std::move(fill)](
                                                  absl::StatusOr<ModelResult> result) {
    call->Reply(Answer<Response>(
        result, [&](const ModelResult& r, Response* out) { fill(r, *ready, out); }, response));
  });
  return call;
}

grpc::ServerUnaryReactor* SecureBertService::Embed(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) {
  return RunModelCall<wire::v1::EmbedRequest, v1::EmbedResponse>(
      context, "Embed", "embed", request, response, MapEmbedRequest,
      [](const ModelResult& result, const ServiceBackend&, v1::EmbedResponse* out) {
        FillEmbedResponse(result, out);
      });
}

grpc::ServerUnaryReactor* SecureBertService::PredictMask(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return RunModelCall<wire::v1::PredictMaskRequest, v1::PredictMaskResponse>(
      context, "PredictMask", "predict_mask", request, response, MapPredictMaskRequest,
      [](const ModelResult& result, const ServiceBackend& backend, v1::PredictMaskResponse* out) {
        FillPredictMaskResponse(result, backend.pipeline->tokenizer(), out);
      });
}

grpc::ServerUnaryReactor* SecureBertService::Classify(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return RunModelCall<wire::v1::ClassifyRequest, v1::ClassifyResponse>(
      context, "Classify", "classify", request, response, MapClassifyRequest,
      [](const ModelResult& result, const ServiceBackend& backend, v1::ClassifyResponse* out) {
        FillClassifyResponse(result, backend.labels, out);
      });
}

grpc::ServerUnaryReactor* SecureBertService::ExtractEntities(grpc::CallbackServerContext* context,
                                                             const grpc::ByteBuffer* request,
                                                             grpc::ByteBuffer* response) {
  return RunModelCall<wire::v1::ExtractEntitiesRequest, v1::ExtractEntitiesResponse>(
      context, "ExtractEntities", "extract_entities", request, response, MapExtractEntitiesRequest,
      [](const ModelResult& result, const ServiceBackend& backend,
         v1::ExtractEntitiesResponse* out) {
        FillExtractEntitiesResponse(result, backend.pipeline->tokenizer(), backend.labels, out);
      });
}

grpc::ServerUnaryReactor* SecureBertService::Tokenize(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  auto* call = new UnaryCall(context, "Tokenize", metrics_);
  absl::StatusOr<const ServiceBackend*> backend = Admit(*context);
  wire::v1::TokenizeRequest wire;
  absl::Status status = backend.status();
  if (status.ok()) status = ParseRequest(*request, "TokenizeRequest", &wire);
  if (status.ok()) status = CheckInputCount(wire.inputs_size(), options_.limits);
  absl::StatusOr<InputTruncation> truncation = MapTruncation(wire.truncation());
  if (status.ok()) status = truncation.status();
  if (!status.ok()) {
    call->Reply(status);
    return call;
  }
  ModelPipeline* pipeline = (*backend)->pipeline;
  auto texts =
      std::make_shared<const std::vector<std::string>>(wire.inputs().begin(), wire.inputs().end());
  pipeline->Tokenize(
      std::move(texts), *truncation,
      [call, response, pipeline, windowed = *truncation == InputTruncation::kWindow](
          absl::StatusOr<std::vector<tokenizer::Encoding>> encodings) {
        call->Reply(Answer<v1::TokenizeResponse>(
            encodings,
            [&](const std::vector<tokenizer::Encoding>& e, v1::TokenizeResponse* out) {
              FillTokenizeResponse(e, pipeline->tokenizer(), out);
              if (windowed) {
                for (auto& t : *out->mutable_results()) {
                  t.set_windows(static_cast<uint32_t>(
                      CountWindows(t.tokens_size() - 2, pipeline->window_shape())));
                }
              }
            },
            response));
      });
  return call;
}

grpc::ServerUnaryReactor* SecureBertService::GetModelInfo(grpc::CallbackServerContext* context,
                                                          const v1::GetModelInfoRequest*,
                                                          v1::ModelInfo* response) {
  auto* call = new UnaryCall(context, "GetModelInfo", metrics_);
  absl::StatusOr<const ServiceBackend*> backend = Admit(*context);
  if (backend.ok()) *response = (*backend)->info;
  call->Reply(backend.status());
  return call;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* SecureBertService::EmbedStream(
    grpc::CallbackServerContext* context) {
  absl::StatusOr<const ServiceBackend*> backend = Admit(*context);
  return new EmbedStreamCall(context, backend.ok() ? (*backend)->pipeline : nullptr,
                             backend.status(), options_.limits, options_.max_stream_in_flight,
                             metrics_);
}

}  // namespace securebert::service
