#include "client/testing/fake_secure_bert_service.h"

#include <string>

#include "absl/time/time.h"

namespace securebert::client::testing {

FakeSecureBertService::~FakeSecureBertService() { SetBlockCalls(false); }

void FakeSecureBertService::FailNextCalls(int count, grpc::StatusCode code,
                                          const std::string& message) {
  absl::MutexLock lock(&mu_);
  failures_left_ = count;
  failure_code_ = code;
  failure_message_ = message;
}

void FakeSecureBertService::SetBlockCalls(bool block) {
  absl::MutexLock lock(&mu_);
  block_calls_ = block;
}

void FakeSecureBertService::SetHead(Head head) {
  absl::MutexLock lock(&mu_);
  head_ = head;
}

int64_t FakeSecureBertService::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

v1::EmbedRequest FakeSecureBertService::last_embed_request() const {
  absl::MutexLock lock(&mu_);
  return last_embed_request_;
}

v1::PredictMaskRequest FakeSecureBertService::last_predict_mask_request() const {
  absl::MutexLock lock(&mu_);
  return last_predict_mask_request_;
}

v1::ClassifyRequest FakeSecureBertService::last_classify_request() const {
  absl::MutexLock lock(&mu_);
  return last_classify_request_;
}

v1::ExtractEntitiesRequest FakeSecureBertService::last_extract_entities_request() const {
  absl::MutexLock lock(&mu_);
  return last_extract_entities_request_;
}

grpc::Status FakeSecureBertService::Admit(grpc::ServerContext* context) {
  absl::MutexLock lock(&mu_);
  ++calls_;
  if (failures_left_ > 0) {
    --failures_left_;
    return {failure_code_, failure_message_};
  }
  if (!block_calls_) return grpc::Status::OK;
  // Wait for release or for the client to go; the short timeout re-checks
  // the cancellation, which has no event to wait on in the sync API.
  const bool* block = &block_calls_;
  while (*block && !context->IsCancelled()) {
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](const bool* b) { return !*b; }, block),
                         absl::Milliseconds(5));
  }
  if (context->IsCancelled()) return {grpc::StatusCode::DEADLINE_EXCEEDED, "blocked"};
  return grpc::Status::OK;
}

FakeSecureBertService::Head FakeSecureBertService::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

grpc::Status FakeSecureBertService::Embed(grpc::ServerContext* context,
                                          const v1::EmbedRequest* request,
                                          v1::EmbedResponse* response) {
  {
    absl::MutexLock lock(&mu_);
    last_embed_request_ = *request;
  }
  grpc::Status admitted = Admit(context);
  if (!admitted.ok()) return admitted;
  return AnswerEmbed(*request, response);
}

grpc::Status FakeSecureBertService::EmbedStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::EmbedResponse, v1::EmbedRequest>* stream) {
  v1::EmbedRequest request;
  while (stream->Read(&request)) {
    v1::EmbedResponse response;
    grpc::Status status = Embed(context, &request, &response);
    if (!status.ok()) return status;
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

grpc::Status FakeSecureBertService::PredictMask(grpc::ServerContext* context,
                                                const v1::PredictMaskRequest* request,
                                                v1::PredictMaskResponse* response) {
  {
    absl::MutexLock lock(&mu_);
    last_predict_mask_request_ = *request;
  }
  grpc::Status admitted = Admit(context);
  if (!admitted.ok()) return admitted;
  return AnswerPredictMask(*request, response);
}

grpc::Status FakeSecureBertService::Tokenize(grpc::ServerContext* context,
                                             const v1::TokenizeRequest* request,
                                             v1::TokenizeResponse* response) {
  grpc::Status admitted = Admit(context);
  if (!admitted.ok()) return admitted;
  return AnswerTokenize(*request, response);
}

grpc::Status FakeSecureBertService::GetModelInfo(grpc::ServerContext* context,
                                                 const v1::GetModelInfoRequest* /*request*/,
                                                 v1::ModelInfo* response) {
  grpc::Status admitted = Admit(context);
  if (!admitted.ok()) return admitted;
  AnswerModelInfo(head(), response);
  return grpc::Status::OK;
}

grpc::Status FakeSecureBertService::Classify(grpc::ServerContext* context,
                                             const v1::ClassifyRequest* request,
                                             v1::ClassifyResponse* response) {
  {
    absl::MutexLock lock(&mu_);
    last_classify_request_ = *request;
  }
  grpc::Status status = Admit(context);
  if (status.ok()) status = CheckHead(head(), Head::kSequenceClassification);
  if (!status.ok()) return status;
  return AnswerClassify(*request, response);
}

grpc::Status FakeSecureBertService::ExtractEntities(grpc::ServerContext* context,
                                                    const v1::ExtractEntitiesRequest* request,
                                                    v1::ExtractEntitiesResponse* response) {
  {
    absl::MutexLock lock(&mu_);
    last_extract_entities_request_ = *request;
  }
  grpc::Status status = Admit(context);
  if (status.ok()) status = CheckHead(head(), Head::kTokenClassification);
  if (!status.ok()) return status;
  return AnswerExtractEntities(*request, response);
}

}  // namespace securebert::client::testing
