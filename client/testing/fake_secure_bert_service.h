// FakeSecureBertService: a canned, model-free implementation of
// securebert.v1.SecureBert for the client's tests. Answers are simple
// functions of the input (fake_answers.h), so tests can check them exactly.
// The fake model always embeds and fills masks; SetHead gives it a task
// head, without which Classify and ExtractEntities answer
// FAILED_PRECONDITION as the server does. Failures can be injected: the next
// N calls fail with a chosen code, or calls block until their deadline
// passes. The service records the last request of each kind.
//
// Thread safety: handlers run on the gRPC server's threads; all mutable state
// is guarded by mu_. Owned by FakeServer (or the test) and outlives the
// server it is registered with.
#ifndef SECUREBERT_CLIENT_TESTING_FAKE_SECURE_BERT_SERVICE_H_
#define SECUREBERT_CLIENT_TESTING_FAKE_SECURE_BERT_SERVICE_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/testing/fake_answers.h"
#include "securebert/v1/securebert.grpc.pb.h"

namespace securebert::client::testing {

class FakeSecureBertService final : public v1::SecureBert::Service {
 public:
  // Width of every fake vector.
  static constexpr int kHiddenSize = kFakeHiddenSize;
  using Head = FakeHead;

  FakeSecureBertService() = default;
  ~FakeSecureBertService() override;

  // The next `count` calls (of any RPC) fail with `code` and `message`.
  void FailNextCalls(int count, grpc::StatusCode code, const std::string& message);
  // While on, every call waits until its client cancels or its deadline
  // passes, then answers DEADLINE_EXCEEDED. Turning it off releases waiters.
  void SetBlockCalls(bool block);
  // Which head the model has from now on; kNone after construction.
  void SetHead(Head head);
  // Calls received so far, failed ones included.
  int64_t calls() const;
  // The most recent request of each kind (EmbedStream messages count as
  // Embed requests).
  v1::EmbedRequest last_embed_request() const;
  v1::PredictMaskRequest last_predict_mask_request() const;
  v1::ClassifyRequest last_classify_request() const;
  v1::ExtractEntitiesRequest last_extract_entities_request() const;

  grpc::Status Embed(grpc::ServerContext* context, const v1::EmbedRequest* request,
                     v1::EmbedResponse* response) override;
  grpc::Status EmbedStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::EmbedResponse, v1::EmbedRequest>* stream) override;
  grpc::Status PredictMask(grpc::ServerContext* context, const v1::PredictMaskRequest* request,
                           v1::PredictMaskResponse* response) override;
  grpc::Status Tokenize(grpc::ServerContext* context, const v1::TokenizeRequest* request,
                        v1::TokenizeResponse* response) override;
  grpc::Status GetModelInfo(grpc::ServerContext* context, const v1::GetModelInfoRequest* request,
                            v1::ModelInfo* response) override;
  grpc::Status Classify(grpc::ServerContext* context, const v1::ClassifyRequest* request,
                        v1::ClassifyResponse* response) override;
  grpc::Status ExtractEntities(grpc::ServerContext* context,
                               const v1::ExtractEntitiesRequest* request,
                               v1::ExtractEntitiesResponse* response) override;

 private:
  // Counts the call and returns the injected failure or block outcome, or OK
  // to go on with the canned answer.
  grpc::Status Admit(grpc::ServerContext* context) ABSL_LOCKS_EXCLUDED(mu_);
  Head head() const ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  int64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  int failures_left_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::StatusCode failure_code_ ABSL_GUARDED_BY(mu_) = grpc::StatusCode::OK;
  std::string failure_message_ ABSL_GUARDED_BY(mu_);
  bool block_calls_ ABSL_GUARDED_BY(mu_) = false;
  Head head_ ABSL_GUARDED_BY(mu_) = Head::kNone;
  v1::EmbedRequest last_embed_request_ ABSL_GUARDED_BY(mu_);
  v1::PredictMaskRequest last_predict_mask_request_ ABSL_GUARDED_BY(mu_);
  v1::ClassifyRequest last_classify_request_ ABSL_GUARDED_BY(mu_);
  v1::ExtractEntitiesRequest last_extract_entities_request_ ABSL_GUARDED_BY(mu_);
};

}  // namespace securebert::client::testing

#endif  // SECUREBERT_CLIENT_TESTING_FAKE_SECURE_BERT_SERVICE_H_
