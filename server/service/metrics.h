// ServerMetrics: the server's Prometheus metrics, stamped on the way by the
// handlers (requests by RPC and code, latency, tokenize time) and by the
// engine through batching::EngineObserver (batch size and tokens, padding,
// queue depth, queue and compute time).
//
// Thread safety: all methods are thread-safe. Owned by main.cc; outlives the
// engine and the service that report to it.
#ifndef SECUREBERT_SERVER_SERVICE_METRICS_H_
#define SECUREBERT_SERVER_SERVICE_METRICS_H_

#include <grpcpp/support/status.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "batching/model.h"
#include "batching/observer.h"
#include "batching/request.h"
#include "service/prometheus.h"

namespace securebert::service {

// "OK", "INVALID_ARGUMENT", ... as gRPC spells the code.
std::string_view GrpcCodeName(grpc::StatusCode code);

class ServerMetrics : public batching::EngineObserver {
 public:
  ServerMetrics();

  // RPC lifecycle: in-flight gauge, counts by RPC and code, total latency.
  void RpcStarted();
  void RpcFinished(std::string_view rpc, grpc::StatusCode code, absl::Duration total);
  // Per-request stage times.
  void ObserveTokenize(absl::Duration d);
  void ObserveTiming(const batching::Timing& timing);
  // Model facts, exported as securebert_model_info{...} 1.
  void SetModelInfo(const batching::ModelSpec& spec, int32_t instances, int32_t max_input_tokens);

  // batching::EngineObserver.
  void OnBatch(const batching::BatchStats& stats) override;
  void OnQueueDepth(int64_t requests, int64_t sequences) override;
  void OnRejected(absl::StatusCode code) override;
  void OnDropped(absl::StatusCode code) override;

  // The text exposition for GET /metrics.
  std::string Render() const { return registry_.Render(); }

 private:
  prometheus::Registry registry_;
  // Families, owned by registry_; constant after construction.
  prometheus::Family* requests_;
  prometheus::Family* request_seconds_;
  prometheus::Family* tokenize_seconds_;
  prometheus::Family* queue_seconds_;
  prometheus::Family* inference_seconds_;
  prometheus::Family* batch_size_;
  prometheus::Family* batch_tokens_;
  prometheus::Family* batch_padding_ratio_;
  prometheus::Family* real_tokens_;
  prometheus::Family* padded_tokens_;
  prometheus::Family* batches_;
  prometheus::Family* queue_requests_;
  prometheus::Family* queue_sequences_;
  prometheus::Family* in_flight_;
  prometheus::Family* rejected_;
  prometheus::Family* dropped_;
  prometheus::Family* model_info_;
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_METRICS_H_
