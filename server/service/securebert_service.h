// SecureBertService: the gRPC handlers of securebert.v1.SecureBert (callback
// API). A handler parses and validates its request, maps it to a
// ModelRequest, hands it to the ModelPipeline and returns its reactor; the
// pipeline's callback (on a CpuPool thread) builds the response and
// finishes the call. No handler blocks or touches the model.
//
// Embed, EmbedStream, PredictMask and Tokenize are registered raw: their
// requests arrive as bytes and are parsed as the wire view of the contract
// (wire_codec.h), so invalid UTF-8 in a text is answered INVALID_ARGUMENT
// naming the input. GetModelInfo carries no text and stays typed.
//
// With bearer tokens (--auth_tokens_file), every SecureBert RPC must carry
// `authorization: Bearer <token>` for a token in the set, else it is answered
// UNAUTHENTICATED before anything else; grpc.health.v1 and reflection are
// other services and stay open for probes.
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
#include "service/bearer_tokens.h"
#include "service/metrics.h"
#include "service/model_pipeline.h"
#include "service/request_limits.h"
#include "service/responses.h"

namespace securebert::service {

struct ServiceOptions {
  RequestLimits limits;              // per-request limits
  int32_t max_stream_in_flight = 8;  // EmbedStream messages in the pipeline at once, per stream
};

// What the handlers need once the model is ready.
struct ServiceBackend {
  ModelPipeline* pipeline = nullptr;  // not owned
  v1::ModelInfo info;                 // answered by GetModelInfo
  HeadLabels labels;                  // the task head's, for Classify and ExtractEntities
};

// Every method on the callback API: GetModelInfo typed, the rest raw.
using SecureBertBase =
    v1::SecureBert::WithRawCallbackMethod_Embed<v1::SecureBert::WithRawCallbackMethod_EmbedStream<
        v1::SecureBert::WithRawCallbackMethod_PredictMask<
            v1::SecureBert::WithRawCallbackMethod_Tokenize<
                v1::SecureBert::WithCallbackMethod_GetModelInfo<
                    v1::SecureBert::WithRawCallbackMethod_Classify<
                        v1::SecureBert::WithRawCallbackMethod_ExtractEntities<
                            v1::SecureBert::Service>>>>>>>;

class SecureBertService final : public SecureBertBase {
 public:
  // `tokens` (not owned, may be null: no authentication) outlives the
  // service.
  SecureBertService(const ServiceOptions& options, ServerMetrics* metrics,
                    const BearerTokens* tokens = nullptr);

  void SetReady(ServiceBackend backend);
  void StartDrain();

  grpc::ServerUnaryReactor* Embed(grpc::CallbackServerContext* context,
                                  const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* response) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* EmbedStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* PredictMask(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Tokenize(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* context,
                                         const v1::GetModelInfoRequest* request,
                                         v1::ModelInfo* response) override;
  grpc::ServerUnaryReactor* Classify(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ExtractEntities(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;

 private:
  enum class State { kLoading, kServing, kDraining };

  // The backend when the call may run: UNAUTHENTICATED without a valid token
  // (when tokens are required), else UNAVAILABLE while loading or draining.
  absl::StatusOr<const ServiceBackend*> Admit(const grpc::CallbackServerContext& context) const;

  // The steps every model-bound unary RPC shares: admit, check that the
  // model has `capability` (a ModelInfo.capabilities entry; FAILED_PRECONDITION
  // naming the missing head if not), parse the request as `Wire`, map it
  // with `map`, give it the call's deadline and cancel flag, and submit it;
  // the answer is built by `fill(result, backend, &answer)` into a
  // `Response`, serialized into `response`, on a pool thread.
  template <typename Wire, typename Response, typename Map, typename Fill>
  grpc::ServerUnaryReactor* RunModelCall(grpc::CallbackServerContext* context, const char* rpc,
                                         const char* capability, const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response, Map map, Fill fill);

  // Constant after construction.
  const ServiceOptions options_;
  ServerMetrics* const metrics_;      // not owned
  const BearerTokens* const tokens_;  // not owned; null: no authentication

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kLoading;
  ServiceBackend backend_ ABSL_GUARDED_BY(mu_);  // set once by SetReady, then read-only
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_SECUREBERT_SERVICE_H_
