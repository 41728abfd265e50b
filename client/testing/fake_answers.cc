#include "client/testing/fake_answers.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace securebert::client::testing {
namespace {

constexpr char kMask[] = "<mask>";

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
    if (truncation == v1::TRUNCATION_NONE && FakeTokens(inputs[i]).size() > kFakeMaxInputTokens) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              absl::StrCat("inputs[", i, "]: longer than max_input_tokens ", kFakeMaxInputTokens)};
    }
  }
  return grpc::Status::OK;
}

void FillEmbedding(const std::string& text, const v1::EmbedRequest& request,
                   v1::Embedding* embedding) {
  const int num_tokens = static_cast<int>(FakeTokens(text).size());
  const int rows = request.pooling() == v1::POOLING_NONE ? num_tokens : 1;
  for (int row = 0; row < rows; ++row) {
    for (int j = 0; j < kFakeHiddenSize; ++j) {
      embedding->add_values(static_cast<float>(row + j) / 10.0f);
    }
  }
  if (request.pooling() == v1::POOLING_NONE) embedding->add_shape(num_tokens);
  embedding->add_shape(kFakeHiddenSize);
  embedding->set_num_tokens(num_tokens);
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

// The sequence head's score of each label, in id order.
constexpr float kSequenceScores[] = {0.2f, 0.5f, 0.3f};

void FillClassification(const std::string& text, uint32_t top_k, v1::Classification* result) {
  std::vector<uint32_t> ids(std::size(kSequenceScores));
  for (uint32_t id = 0; id < ids.size(); ++id) ids[id] = id;
  std::sort(ids.begin(), ids.end(),
            [](uint32_t a, uint32_t b) { return kSequenceScores[a] > kSequenceScores[b]; });
  if (top_k != 0 && top_k < ids.size()) ids.resize(top_k);
  for (uint32_t id : ids) {
    v1::LabelScore* label = result->add_labels();
    label->set_label(kFakeSequenceLabels[id]);
    label->set_id(id);
    label->set_score(kSequenceScores[id]);
  }
  result->set_num_tokens(static_cast<uint32_t>(FakeTokens(text).size()));
}

// The token head's MAL score of a word, or 0 for an O word.
float MalScore(const std::string& word) {
  if (word.empty() || !absl::ascii_isupper(static_cast<unsigned char>(word[0]))) return 0.0f;
  const bool shouting = std::all_of(word.begin(), word.end(), [](char c) {
    return absl::ascii_isupper(static_cast<unsigned char>(c)) ||
           absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
  return shouting ? 0.9f : 0.6f;
}

// One entity per MAL word, as AGGREGATION_NONE reports them.
std::vector<v1::Entity> WordEntities(const std::vector<FakeToken>& tokens) {
  std::vector<v1::Entity> entities;
  for (uint32_t i = 1; i + 1 < tokens.size(); ++i) {
    const float score = MalScore(tokens[i].text);
    if (score == 0.0f) continue;
    const bool inside = !entities.empty() && entities.back().token_index() == i - 1;
    v1::Entity& entity = entities.emplace_back();
    entity.set_label(inside ? "I-MAL" : "B-MAL");
    entity.set_score(score);
    entity.set_start(tokens[i].start);
    entity.set_end(tokens[i].end);
    entity.set_text(tokens[i].text);
    entity.set_token_index(i);
  }
  return entities;
}

// Each B-MAL word and the I-MAL words after it become one "MAL" entity
// scoring their mean.
std::vector<v1::Entity> GroupEntities(const std::string& text,
                                      const std::vector<v1::Entity>& words) {
  std::vector<v1::Entity> groups;
  int count = 0;  // Words in groups.back().
  for (const v1::Entity& word : words) {
    if (word.label() == "B-MAL") {
      groups.emplace_back().set_label("MAL");
      groups.back().set_start(word.start());
      count = 0;
    }
    v1::Entity& group = groups.back();
    group.set_end(word.end());
    group.set_score(group.score() + (word.score() - group.score()) / static_cast<float>(++count));
    group.set_text(text.substr(group.start(), group.end() - group.start()));
  }
  return groups;
}

void FillEntities(const std::string& text, const v1::ExtractEntitiesRequest& request,
                  v1::InputEntities* result) {
  const std::vector<FakeToken> tokens = FakeTokens(text);
  std::vector<v1::Entity> entities = WordEntities(tokens);
  if (request.aggregation() != v1::AGGREGATION_NONE) entities = GroupEntities(text, entities);
  for (const v1::Entity& entity : entities) {
    if (entity.score() >= request.threshold()) *result->add_entities() = entity;
  }
  result->set_num_tokens(static_cast<uint32_t>(tokens.size()));
}

grpc::Status CheckEntityRequest(const v1::ExtractEntitiesRequest& request) {
  if (!v1::Aggregation_IsValid(request.aggregation())) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("aggregation: unknown value ", request.aggregation())};
  }
  if (!(request.threshold() >= 0.0f && request.threshold() <= 1.0f)) {  // NaN fails both
    return {grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("threshold: ", request.threshold(), " is not a score in [0, 1]")};
  }
  return CheckInputs(request.inputs_size(), request.truncation(), request.inputs());
}

}  // namespace

grpc::Status CheckHead(FakeHead head, FakeHead needed) {
  if (head == needed) return grpc::Status::OK;
  const char* what = needed == FakeHead::kSequenceClassification
                         ? "sequence-classification head, which Classify"
                         : "token-classification head, which ExtractEntities";
  return {grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrCat("this model (fake/securebert) has no ", what,
                       " needs; GetModelInfo.capabilities lists what it can serve")};
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

grpc::Status AnswerPredictMask(const v1::PredictMaskRequest& request,
                               v1::PredictMaskResponse* response) {
  grpc::Status valid = CheckInputs(request.inputs_size(), request.truncation(), request.inputs());
  if (!valid.ok()) return valid;
  const uint32_t top_k = request.top_k() == 0 ? 10 : request.top_k();
  for (int i = 0; i < request.inputs_size(); ++i) {
    if (request.inputs(i).find(kMask) == std::string::npos) {
      return {grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("inputs[", i, "]: no <mask>")};
    }
    FillMaskResults(request.inputs(i), top_k, response->add_results());
  }
  return grpc::Status::OK;
}

grpc::Status AnswerTokenize(const v1::TokenizeRequest& request, v1::TokenizeResponse* response) {
  grpc::Status valid = CheckInputs(request.inputs_size(), request.truncation(), request.inputs());
  if (!valid.ok()) return valid;
  for (const std::string& text : request.inputs()) {
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

void AnswerModelInfo(FakeHead head, v1::ModelInfo* response) {
  response->set_model_id("fake/securebert");
  response->set_hidden_size(kFakeHiddenSize);
  response->set_num_layers(1);
  response->set_vocab_size(1000);
  response->set_max_input_tokens(kFakeMaxInputTokens);
  response->set_device("cpu");
  response->set_dtype("float32");
  response->set_max_batch_tokens(8192);
  response->set_max_batch_size(32);
  response->set_max_client_batch_size(32);
  response->set_mask_token(kMask);
  response->add_capabilities("embed");
  response->add_capabilities("predict_mask");
  if (head == FakeHead::kSequenceClassification) {
    response->add_capabilities("classify");
    response->mutable_labels()->Add(std::begin(kFakeSequenceLabels), std::end(kFakeSequenceLabels));
    response->set_head("sequence_classification");
  } else if (head == FakeHead::kTokenClassification) {
    response->add_capabilities("extract_entities");
    response->mutable_labels()->Add(std::begin(kFakeTokenLabels), std::end(kFakeTokenLabels));
    response->set_head("token_classification");
  }
}

grpc::Status AnswerClassify(const v1::ClassifyRequest& request, v1::ClassifyResponse* response) {
  grpc::Status valid = CheckInputs(request.inputs_size(), request.truncation(), request.inputs());
  if (!valid.ok()) return valid;
  for (const std::string& text : request.inputs()) {
    FillClassification(text, request.top_k(), response->add_results());
  }
  response->mutable_timing()->set_batch_size(request.inputs_size());
  return grpc::Status::OK;
}

grpc::Status AnswerExtractEntities(const v1::ExtractEntitiesRequest& request,
                                   v1::ExtractEntitiesResponse* response) {
  grpc::Status valid = CheckEntityRequest(request);
  if (!valid.ok()) return valid;
  for (const std::string& text : request.inputs()) {
    FillEntities(text, request, response->add_results());
  }
  response->mutable_timing()->set_batch_size(request.inputs_size());
  return grpc::Status::OK;
}

}  // namespace securebert::client::testing
