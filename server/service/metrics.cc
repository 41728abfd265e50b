#include "service/metrics.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace securebert::service {
namespace {

using prometheus::ExponentialBuckets;

double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

// 100 us .. ~105 s, doubling.
std::vector<double> LatencyBuckets() { return ExponentialBuckets(1e-4, 2, 21); }

}  // namespace

std::string_view GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

ServerMetrics::ServerMetrics()
    : requests_(registry_.Counter("securebert_requests_total",
                                  "RPCs answered, by method and gRPC status code.",
                                  {"rpc", "code"})),
      request_seconds_(registry_.Histogram("securebert_request_duration_seconds",
                                           "Time from handler entry to Finish, by method.",
                                           LatencyBuckets(), {"rpc"})),
      tokenize_seconds_(registry_.Histogram("securebert_tokenize_duration_seconds",
                                            "Time spent tokenizing one request's inputs.",
                                            LatencyBuckets())),
      queue_seconds_(registry_.Histogram("securebert_queue_duration_seconds",
                                         "Time a request waited in the batching queue.",
                                         LatencyBuckets())),
      inference_seconds_(registry_.Histogram("securebert_inference_duration_seconds",
                                             "Model compute time of one batch.", LatencyBuckets())),
      batch_size_(registry_.Histogram("securebert_batch_size", "Sequences per model batch.",
                                      ExponentialBuckets(1, 2, 9))),
      batch_tokens_(registry_.Histogram("securebert_batch_tokens",
                                        "Padded tokens computed per batch (rows x longest).",
                                        ExponentialBuckets(16, 2, 12))),
      batch_padding_ratio_(
          registry_.Gauge("securebert_batch_padding_efficiency",
                          "Real tokens / computed (padded) tokens over all batches so far.")),
      real_tokens_(registry_.Counter("securebert_batch_real_tokens_total",
                                     "Real (unpadded) tokens sent through the model.")),
      padded_tokens_(registry_.Counter("securebert_batch_padded_tokens_total",
                                       "Tokens the model computed, padding included.")),
      batches_(registry_.Counter("securebert_batches_total",
                                 "Model batches run, by instance and outcome.",
                                 {"instance", "code"})),
      queue_requests_(
          registry_.Gauge("securebert_queue_requests", "Admitted requests not yet answered.")),
      queue_sequences_(registry_.Gauge("securebert_queue_sequences",
                                       "Sequences waiting in the batching queue.")),
      in_flight_(registry_.Gauge("securebert_in_flight_requests", "RPCs being handled right now.")),
      rejected_(registry_.Counter("securebert_engine_rejected_total",
                                  "Requests the engine refused at admission, by reason.",
                                  {"code"})),
      dropped_(registry_.Counter("securebert_engine_dropped_total",
                                 "Admitted requests answered with an error, by reason.", {"code"})),
      model_info_(registry_.Gauge(
          "securebert_model_info", "The loaded model (value 1).",
          {"model_id", "device", "dtype", "hidden_size", "max_input_tokens", "instances"})) {
  in_flight_->Set({}, 0);
  queue_requests_->Set({}, 0);
  queue_sequences_->Set({}, 0);
}

void ServerMetrics::RpcStarted() { in_flight_->Add({}, 1); }

void ServerMetrics::RpcFinished(std::string_view rpc, grpc::StatusCode code, absl::Duration total) {
  in_flight_->Add({}, -1);
  requests_->Add({std::string(rpc), std::string(GrpcCodeName(code))}, 1);
  request_seconds_->Observe({std::string(rpc)}, absl::ToDoubleSeconds(total));
}

void ServerMetrics::ObserveTokenize(absl::Duration d) {
  tokenize_seconds_->Observe({}, absl::ToDoubleSeconds(d));
}

void ServerMetrics::ObserveTiming(const batching::Timing& timing) {
  queue_seconds_->Observe({}, Seconds(timing.queue_us));
}

void ServerMetrics::SetModelInfo(const batching::ModelSpec& spec, int32_t instances,
                                 int32_t max_input_tokens) {
  model_info_->Set({spec.model_id, spec.device, spec.dtype, absl::StrCat(spec.hidden_size),
                    absl::StrCat(max_input_tokens), absl::StrCat(instances)},
                   1);
}

void ServerMetrics::OnBatch(const batching::BatchStats& stats) {
  const grpc::StatusCode code = static_cast<grpc::StatusCode>(static_cast<int>(stats.code));
  batches_->Add({absl::StrCat(stats.instance), std::string(GrpcCodeName(code))}, 1);
  if (stats.code != absl::StatusCode::kOk) return;
  batch_size_->Observe({}, stats.batch_size);
  batch_tokens_->Observe({}, static_cast<double>(stats.padded_tokens));
  inference_seconds_->Observe({}, Seconds(stats.compute_us));
  real_tokens_->Add({}, static_cast<double>(stats.real_tokens));
  padded_tokens_->Add({}, static_cast<double>(stats.padded_tokens));
  const double padded = padded_tokens_->Value({});
  if (padded > 0) batch_padding_ratio_->Set({}, real_tokens_->Value({}) / padded);
}

void ServerMetrics::OnQueueDepth(int64_t requests, int64_t sequences) {
  queue_requests_->Set({}, static_cast<double>(requests));
  queue_sequences_->Set({}, static_cast<double>(sequences));
}

void ServerMetrics::OnRejected(absl::StatusCode code) {
  rejected_->Add({std::string(absl::StatusCodeToString(code))}, 1);
}

void ServerMetrics::OnDropped(absl::StatusCode code) {
  dropped_->Add({std::string(absl::StatusCodeToString(code))}, 1);
}

}  // namespace securebert::service
