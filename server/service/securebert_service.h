// SecureBertService: the gRPC handlers of securebert.v1.SecureBert (callback
// API). A handler validates its request, maps it to an internal call, hands
// it to the ModelPipeline and returns its reactor; the pipeline's callback
// builds the response and finishes the call. No handler blocks or touches
// the model.
//
// Life cycle: constructed before the model loads (RPCs answer UNAVAILABLE
// "model is loading"), SetReady once the engine is warm, StartDrain on
// shutdown (new RPCs answer UNAVAILABLE "server is draining"; accepted ones
// finish).
//
// Ownership: the service references the metrics and, after SetReady, the
// pipeline; both outlive it. Thread safety: handlers run concurrently on
// gRPC threads; SetReady and StartDrain may be called from any thread.
#ifndef SECUREBERT_SERVER_SERVICE_SECUREBERT_SERVICE_H_
#define SECUREBERT_SERVER_SERVICE_SECUREBERT_SERVICE_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "securebert/v1/securebert.grpc.pb.h"
#include "service/metrics.h"
#include "service/model_pipeline.h"
#include "service/request_mapping.h"

namespace securebert::service {

struct ServiceOptions {
  RequestLimits limits;              // per-request limits checked by handlers
  int32_t max_stream_in_flight = 8;  // EmbedStream messages in the pipeline at once, per stream
};

// What the handlers need once the model is ready.
struct ServiceBackend {
  ModelPipeline* pipeline = nullptr;  // not owned
  v1::ModelInfo info;                 // answered by GetModelInfo
};

class SecureBertService final : public v1::SecureBert::CallbackService {
 public:
  SecureBertService(const ServiceOptions& options, ServerMetrics* metrics);

  void SetReady(ServiceBackend backend);
  void StartDrain();

  grpc::ServerUnaryReactor* Embed(grpc::CallbackServerContext* context,
                                  const v1::EmbedRequest* request,
                                  v1::EmbedResponse* response) override;
  grpc::ServerBidiReactor<v1::EmbedRequest, v1::EmbedResponse>* EmbedStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* PredictMask(grpc::CallbackServerContext* context,
                                        const v1::PredictMaskRequest* request,
                                        v1::PredictMaskResponse* response) override;
  grpc::ServerUnaryReactor* Tokenize(grpc::CallbackServerContext* context,
                                     const v1::TokenizeRequest* request,
                                     v1::TokenizeResponse* response) override;
  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* context,
                                         const v1::GetModelInfoRequest* request,
                                         v1::ModelInfo* response) override;

 private:
  enum class State { kLoading, kServing, kDraining };

  // The backend while serving, else UNAVAILABLE saying why.
  absl::StatusOr<const ServiceBackend*> Admit() const;

  // Constant after construction.
  const ServiceOptions options_;
  ServerMetrics* const metrics_;  // not owned

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kLoading;
  ServiceBackend backend_ ABSL_GUARDED_BY(mu_);  // set once by SetReady, then read-only
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_SECUREBERT_SERVICE_H_
