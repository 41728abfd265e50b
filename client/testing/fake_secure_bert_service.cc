#include "client/testing/fake_secure_bert_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace securebert::client::testing {
namespace {

constexpr char kMask[] = "<mask>";
constexpr uint32_t kMaxInputTokens = 512;

// A fake token: one whitespace-separated word and its byte span.
struct FakeToken {
  std::string text;
  uint32_t start;
  uint32_t end;
};

// <s>, one token per word, </s>.
std::vector<FakeToken> FakeTokens(const std::string& text) {
  std::vector<FakeToken> tokens = {{"<s>", 0, 0}};
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = text.find_first_not_of(" \t\n", pos);
    if (start == std::string::npos) break;
    size_t end = text.find_first_of(" \t\n", start);
    if (end == std::string::npos) end = text.size();
    tokens.push_back({text.substr(start, end - start), static_cast<uint32_t>(start),
                      static_cast<uint32_t>(end)});
    pos = end;
  }
  tokens.push_back({"</s>", 0, 0});
  return tokens;
}

grpc::Status CheckInputs(int count, v1::Truncation truncation,
                         const google::protobuf::RepeatedPtrField<std::string>& inputs) {
  if (count == 0) return {grpc::StatusCode::INVALID_ARGUMENT, "inputs: must not be empty"};
  for (int i = 0; i < count; ++i) {
    if (truncation == v1::TRUNCATION_NONE && FakeTokens(inputs[i]).size() > kMaxInputTokens) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              absl::StrCat("inputs[", i, "]: longer than max_input_tokens ", kMaxInputTokens)};
    }
  }
  return grpc::Status::OK;
}

void FillEmbedding(const std::string& text, const v1::EmbedRequest& request,
                   v1::Embedding* embedding) {
  const int num_tokens = static_cast<int>(FakeTokens(text).size());
  const int rows = request.pooling() == v1::POOLING_NONE ? num_tokens : 1;
  for (int row = 0; row < rows; ++row) {
    for (int j = 0; j < FakeSecureBertService::kHiddenSize; ++j) {
      embedding->add_values(static_cast<float>(row + j) / 10.0f);
    }
  }
  if (request.pooling() == v1::POOLING_NONE) embedding->add_shape(num_tokens);
  embedding->add_shape(FakeSecureBertService::kHiddenSize);
  embedding->set_num_tokens(num_tokens);
}

grpc::Status AnswerEmbed(const v1::EmbedRequest& request, v1::EmbedResponse* response) {
  grpc::Status valid = CheckInputs(request.inputs_size(), request.truncation(), request.inputs());
  if (!valid.ok()) return valid;
  for (const std::string& text : request.inputs()) {
    FillEmbedding(text, request, response->add_embeddings());
  }
  response->mutable_timing()->set_batch_size(request.inputs_size());
  return grpc::Status::OK;
}

// Candidate k for every mask is "cand<k>" with score 1 / (k + 2).
void FillMaskResults(const std::string& text, uint32_t top_k, v1::InputPrediction* result) {
  const std::vector<FakeToken> tokens = FakeTokens(text);
  size_t mask_offset = 0;
  for (uint32_t position = 0; position < tokens.size(); ++position) {
    if (tokens[position].text.find(kMask) == std::string::npos) continue;
    mask_offset = text.find(kMask, mask_offset);
    v1::MaskResult* mask = result->add_masks();
    mask->set_position(position);
    for (uint32_t k = 0; k < top_k; ++k) {
      v1::TokenPrediction* prediction = mask->add_predictions();
      prediction->set_token_id(100 + k);
      prediction->set_token(absl::StrCat("cand", k));
      prediction->set_score(1.0f / static_cast<float>(k + 2));
      std::string sequence = text;
      sequence.replace(mask_offset, sizeof(kMask) - 1, prediction->token());
      prediction->set_sequence(sequence);
    }
    mask_offset += sizeof(kMask) - 1;
  }
}

}  // namespace

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
  grpc::Status valid =
      CheckInputs(request->inputs_size(), request->truncation(), request->inputs());
  if (!valid.ok()) return valid;
  const uint32_t top_k = request->top_k() == 0 ? 10 : request->top_k();
  for (int i = 0; i < request->inputs_size(); ++i) {
    if (request->inputs(i).find(kMask) == std::string::npos) {
      return {grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("inputs[", i, "]: no <mask>")};
    }
    FillMaskResults(request->inputs(i), top_k, response->add_results());
  }
  return grpc::Status::OK;
}

grpc::Status FakeSecureBertService::Tokenize(grpc::ServerContext* context,
                                             const v1::TokenizeRequest* request,
                                             v1::TokenizeResponse* response) {
  grpc::Status admitted = Admit(context);
  if (!admitted.ok()) return admitted;
  grpc::Status valid =
      CheckInputs(request->inputs_size(), request->truncation(), request->inputs());
  if (!valid.ok()) return valid;
  for (const std::string& text : request->inputs()) {
    v1::Tokenization* result = response->add_results();
    uint32_t id = 0;
    for (const FakeToken& token : FakeTokens(text)) {
      v1::Token* out = result->add_tokens();
      out->set_id(id++);
      out->set_text(token.text);
      out->set_start(token.start);
      out->set_end(token.end);
    }
  }
  return grpc::Status::OK;
}

grpc::Status FakeSecureBertService::GetModelInfo(grpc::ServerContext* context,
                                                 const v1::GetModelInfoRequest* /*request*/,
                                                 v1::ModelInfo* response) {
  grpc::Status admitted = Admit(context);
  if (!admitted.ok()) return admitted;
  response->set_model_id("fake/securebert");
  response->set_hidden_size(kHiddenSize);
  response->set_num_layers(1);
  response->set_vocab_size(1000);
  response->set_max_input_tokens(kMaxInputTokens);
  response->set_device("cpu");
  response->set_dtype("float32");
  response->set_max_batch_tokens(8192);
  response->set_max_batch_size(32);
  response->set_max_client_batch_size(32);
  response->set_mask_token(kMask);
  return grpc::Status::OK;
}

}  // namespace securebert::client::testing
