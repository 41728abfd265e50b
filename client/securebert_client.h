// SecureBertClient: a small blocking client for securebert.v1.SecureBert and
// the standard grpc.health.v1.Health service.
//
// Each call gets the deadline ClientOptions::deadline_ms (retries included)
// and is retried on UNAVAILABLE with exponential backoff and jitter, at most
// RetryOptions::max_attempts times and never past the deadline. Errors come
// back as absl statuses with the gRPC code and message (grpc_status.h).
// All RPCs are idempotent (pure functions of the request), so a retry is
// always safe. Other codes come back at once: FAILED_PRECONDITION, for
// example, when the loaded model lacks the head an RPC needs (Classify,
// ExtractEntities, PredictMask; GetModelInfo().capabilities() says which).
//
// Used by the securebert-client CLI, by tests and by the load generator's
// set-up; the load itself uses the callback stub directly.
//
// Thread safety: every method may be called from many threads at once; the
// client holds no mutable state besides the channel, which gRPC synchronizes.
// Ownership: the client shares ownership of its channel.
#ifndef SECUREBERT_CLIENT_SECUREBERT_CLIENT_H_
#define SECUREBERT_CLIENT_SECUREBERT_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/backoff.h"
#include "client/client_options.h"
#include "grpc_health/v1/health.grpc.pb.h"
#include "securebert/v1/securebert.grpc.pb.h"

namespace securebert::client {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

class SecureBertClient {
 public:
  // Creates the channel from options.channel (see CreateChannel for errors).
  static absl::StatusOr<std::unique_ptr<SecureBertClient>> Create(const ClientOptions& options);

  // Uses existing channels; options.channel is ignored. Lets several
  // clients with different deadlines share one connection. `probe_channel`
  // carries Health() calls (one that is not health-checked itself, so that a
  // NOT_SERVING server can say so); null: `channel`.
  SecureBertClient(std::shared_ptr<grpc::Channel> channel, const ClientOptions& options,
                   std::shared_ptr<grpc::Channel> probe_channel = nullptr);

  SecureBertClient(const SecureBertClient&) = delete;
  SecureBertClient& operator=(const SecureBertClient&) = delete;

  absl::StatusOr<v1::EmbedResponse> Embed(const v1::EmbedRequest& request) const;
  absl::StatusOr<v1::PredictMaskResponse> PredictMask(const v1::PredictMaskRequest& request) const;
  absl::StatusOr<v1::TokenizeResponse> Tokenize(const v1::TokenizeRequest& request) const;
  absl::StatusOr<v1::ModelInfo> GetModelInfo() const;
  // Need a model with a sequence- / token-classification head.
  absl::StatusOr<v1::ClassifyResponse> Classify(const v1::ClassifyRequest& request) const;
  absl::StatusOr<v1::ExtractEntitiesResponse> ExtractEntities(
      const v1::ExtractEntitiesRequest& request) const;

  // The health of `service` ("" for the whole server, or
  // "securebert.v1.SecureBert"). An unknown service is NOT_FOUND.
  absl::StatusOr<ServingStatus> Health(absl::string_view service) const;

  // Sends `requests` on one EmbedStream (a writer thread sends while this
  // thread reads) and returns the responses in request order. Fails with
  // INTERNAL when the server answers a different number of messages than it
  // was sent. A failed stream is retried whole: embedding is idempotent.
  absl::StatusOr<std::vector<v1::EmbedResponse>> EmbedStream(
      absl::Span<const v1::EmbedRequest> requests) const;

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  // Runs `attempt` with a fresh context per try until it succeeds, fails
  // with a code other than UNAVAILABLE, runs out of attempts, or the next
  // backoff would end past the deadline. Returns the last attempt's status.
  absl::Status CallWithRetries(absl::FunctionRef<grpc::Status(grpc::ClientContext*)> attempt) const;

  // One unary RPC `method` of `stub` under CallWithRetries.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Unary(Stub& stub,
                                 grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                              Response*),
                                 const Request& request) const;

  // Constant after construction.
  const std::shared_ptr<grpc::Channel> channel_;
  const std::shared_ptr<grpc::Channel> probe_channel_;  // Health() only
  const ClientOptions options_;
  const Backoff backoff_;
  const std::unique_ptr<v1::SecureBert::Stub> stub_;
  const std::unique_ptr<grpc::health::v1::Health::Stub> health_stub_;
};

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_SECUREBERT_CLIENT_H_
