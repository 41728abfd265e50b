#include "client/securebert_client.h"

#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/channel_factory.h"
#include "client/grpc_status.h"

namespace securebert::client {

absl::StatusOr<std::unique_ptr<SecureBertClient>> SecureBertClient::Create(
    const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = CreateChannel(options.channel);
  if (!channel.ok()) return channel.status();
  ChannelOptions probe = options.channel;
  probe.health_checked = false;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> probe_channel = CreateChannel(probe);
  if (!probe_channel.ok()) return probe_channel.status();
  return std::make_unique<SecureBertClient>(*std::move(channel), options,
                                            *std::move(probe_channel));
}

SecureBertClient::SecureBertClient(std::shared_ptr<grpc::Channel> channel,
                                   const ClientOptions& options,
                                   std::shared_ptr<grpc::Channel> probe_channel)
    : channel_(std::move(channel)),
      probe_channel_(probe_channel != nullptr ? std::move(probe_channel) : channel_),
      options_(options),
      backoff_(options.retry),
      stub_(v1::SecureBert::NewStub(channel_)),
      health_stub_(grpc::health::v1::Health::NewStub(probe_channel_)) {}

absl::Status SecureBertClient::CallWithRetries(
    absl::FunctionRef<grpc::Status(grpc::ClientContext*)> attempt) const {
  const absl::Time deadline = options_.deadline_ms > 0
                                  ? absl::Now() + absl::Milliseconds(options_.deadline_ms)
                                  : absl::InfiniteFuture();
  // Seeded from the OS only when a retry is needed.
  std::unique_ptr<absl::BitGen> random;
  for (int tried = 1;; ++tried) {
    grpc::ClientContext context;
    if (deadline != absl::InfiniteFuture()) context.set_deadline(absl::ToChronoTime(deadline));
    const grpc::Status status = attempt(&context);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
        tried >= options_.retry.max_attempts) {
      return ToAbslStatus(status);
    }
    if (random == nullptr) random = std::make_unique<absl::BitGen>();
    const absl::Duration wait = backoff_.Delay(tried - 1, absl::Uniform(*random, 0.0, 1.0));
    // A retry that would start after the deadline could only time out.
    if (absl::Now() + wait >= deadline) return ToAbslStatus(status);
    absl::SleepFor(wait);
  }
}

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> SecureBertClient::Unary(
    Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request) const {
  Response response;
  absl::Status status = CallWithRetries(
      [&](grpc::ClientContext* context) { return (stub.*method)(context, request, &response); });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::EmbedResponse> SecureBertClient::Embed(const v1::EmbedRequest& request) const {
  return Unary(*stub_, &v1::SecureBert::Stub::Embed, request);
}

absl::StatusOr<v1::PredictMaskResponse> SecureBertClient::PredictMask(
    const v1::PredictMaskRequest& request) const {
  return Unary(*stub_, &v1::SecureBert::Stub::PredictMask, request);
}

absl::StatusOr<v1::TokenizeResponse> SecureBertClient::Tokenize(
    const v1::TokenizeRequest& request) const {
  return Unary(*stub_, &v1::SecureBert::Stub::Tokenize, request);
}

absl::StatusOr<v1::ModelInfo> SecureBertClient::GetModelInfo() const {
  return Unary(*stub_, &v1::SecureBert::Stub::GetModelInfo, v1::GetModelInfoRequest());
}

absl::StatusOr<v1::ClassifyResponse> SecureBertClient::Classify(
    const v1::ClassifyRequest& request) const {
  return Unary(*stub_, &v1::SecureBert::Stub::Classify, request);
}

absl::StatusOr<v1::ExtractEntitiesResponse> SecureBertClient::ExtractEntities(
    const v1::ExtractEntitiesRequest& request) const {
  return Unary(*stub_, &v1::SecureBert::Stub::ExtractEntities, request);
}

absl::StatusOr<ServingStatus> SecureBertClient::Health(absl::string_view service) const {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(std::string(service));
  absl::StatusOr<grpc::health::v1::HealthCheckResponse> response =
      Unary(*health_stub_, &grpc::health::v1::Health::Stub::Check, request);
  if (!response.ok()) return response.status();
  return response->status();
}

absl::StatusOr<std::vector<v1::EmbedResponse>> SecureBertClient::EmbedStream(
    absl::Span<const v1::EmbedRequest> requests) const {
  std::vector<v1::EmbedResponse> responses;
  absl::Status status = CallWithRetries([&](grpc::ClientContext* context) {
    responses.clear();
    auto stream = stub_->EmbedStream(context);
    // gRPC allows one reader and one writer on a stream at once; writing from
    // a second thread keeps large responses flowing while requests go out.
    std::thread writer([&stream, requests] {
      for (const v1::EmbedRequest& request : requests) {
        if (!stream->Write(request)) return;  // The stream failed; Finish says why.
      }
      stream->WritesDone();
    });
    v1::EmbedResponse response;
    while (stream->Read(&response)) responses.push_back(std::move(response));
    writer.join();
    return stream->Finish();
  });
  if (!status.ok()) return status;
  if (responses.size() != requests.size()) {
    return absl::InternalError(absl::StrCat("EmbedStream: the server answered ", responses.size(),
                                            " messages to ", requests.size(), " requests"));
  }
  return responses;
}

}  // namespace securebert::client
