// The server on models with a task head (tools/export_model.py --head): the
// tiny model's token-classification and sequence-classification twins, and
// the tiny MLM model itself. Classify and ExtractEntities answer what the
// model runner computes in-process (softmax of the head's logits), batched
// concurrently with Embed calls without cross-talk; what a model cannot
// serve answers FAILED_PRECONDITION and leaves the server healthy. Parity
// with Hugging Face's pipelines is tests/parity/test_heads_vs_transformers.py.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"

namespace securebert::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr float kTolerance = 1e-4f;

std::vector<std::string> ArgsFor(const std::string& model_dir) {
  std::vector<std::string> args = DefaultServerArgs();
  args[0] = "--model_dir=" + model_dir;
  return args;
}

const std::vector<std::string> kTexts = {
    "APT29 exploited CVE-2023-23397 in Microsoft Exchange to harvest credentials.",
    "Der Angreifer nutzte Müllers Zugangsdaten; 攻撃者は 203.0.113.7 から接続した 🚨.",
    "  Emotet dropped a <mask> loader via hxxp://198.51.100.7:8080/a.php  ",
    "a",
};

// Softmax of `logits` (one row).
std::vector<float> Softmax(const float* logits, size_t n) {
  const float top = *std::max_element(logits, logits + n);
  std::vector<float> p(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(logits[i] - top);
  for (float& v : p) v = static_cast<float>(v / sum);
  return p;
}

class HeadsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    token_ = new ServerProcess(BinaryPath("securebert-server"), ArgsFor(TinyTokenModelDir()));
    sequence_ = new ServerProcess(BinaryPath("securebert-server"), ArgsFor(TinySequenceModelDir()));
    mlm_ = new ServerProcess(BinaryPath("securebert-server"), ArgsFor(TinyModelDir()));
    for (ServerProcess* s : {token_, sequence_, mlm_}) {
      ASSERT_TRUE(s->WaitUntilReady()) << s->Log();
    }
  }
  static void TearDownTestSuite() {
    delete token_;
    delete sequence_;
    delete mlm_;
  }
  static std::unique_ptr<v1::SecureBert::Stub> Stub(const ServerProcess& server) {
    return v1::SecureBert::NewStub(
        grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  }
  // The token (or sequence) head's logits for `text`, in-process.
  static std::pair<std::vector<int32_t>, std::vector<float>> HeadLogits(const std::string& dir,
                                                                        const std::string& text,
                                                                        bool token_head) {
    auto model = model::TorchModel::Load(dir, {});
    EXPECT_TRUE(model.ok()) << model.status();
    auto tok = tokenizer::Tokenizer::FromModelDir(dir);
    EXPECT_TRUE(tok.ok()) << tok.status();
    auto encoding = (*tok)->Encode(text, {});
    EXPECT_TRUE(encoding.ok()) << encoding.status();
    batching::ModelInput in;
    in.batch_size = 1;
    in.seq_len = static_cast<int32_t>(encoding->ids.size());
    in.input_ids.assign(encoding->ids.begin(), encoding->ids.end());
    in.attention_mask.assign(in.seq_len, 1);
    in.row_outputs = {token_head ? batching::RowOutput::kTokenLogits
                                 : batching::RowOutput::kSequenceLogits};
    auto out = (*model)->Forward(in);
    EXPECT_TRUE(out.ok()) << out.status();
    return {encoding->ids, out->embeddings[0]};
  }

  static ServerProcess* token_;
  static ServerProcess* sequence_;
  static ServerProcess* mlm_;
};
ServerProcess* HeadsTest::token_ = nullptr;
ServerProcess* HeadsTest::sequence_ = nullptr;
ServerProcess* HeadsTest::mlm_ = nullptr;

v1::ExtractEntitiesResponse Extract(v1::SecureBert::Stub& stub,
                                    const std::vector<std::string>& texts,
                                    v1::Aggregation aggregation, float threshold = 0,
                                    grpc::Status* status = nullptr) {
  v1::ExtractEntitiesRequest request;
  for (const auto& t : texts) request.add_inputs(t);
  request.set_aggregation(aggregation);
  request.set_threshold(threshold);
  v1::ExtractEntitiesResponse response;
  grpc::ClientContext context;
  const grpc::Status s = stub.ExtractEntities(&context, request, &response);
  if (status != nullptr) {
    *status = s;
  } else {
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  return response;
}

TEST_F(HeadsTest, ModelInfoListsWhatEachModelCanServe) {
  struct Want {
    ServerProcess* server;
    std::vector<std::string> capabilities;
    std::string head;
    int labels;
  };
  for (const Want& want : {Want{token_, {"embed", "extract_entities"}, "token_classification", 40},
                           Want{sequence_, {"embed", "classify"}, "sequence_classification", 4},
                           Want{mlm_, {"embed", "predict_mask"}, "", 0}}) {
    v1::ModelInfo info;
    grpc::ClientContext context;
    ASSERT_TRUE(Stub(*want.server)->GetModelInfo(&context, {}, &info).ok());
    EXPECT_EQ(std::vector<std::string>(info.capabilities().begin(), info.capabilities().end()),
              want.capabilities);
    EXPECT_EQ(info.head(), want.head);
    EXPECT_EQ(info.labels_size(), want.labels);
    EXPECT_FALSE(info.multi_label());
  }
  v1::ModelInfo info;
  grpc::ClientContext context;
  ASSERT_TRUE(Stub(*token_)->GetModelInfo(&context, {}, &info).ok());
  EXPECT_EQ(info.labels(0), "O");
  EXPECT_EQ(info.labels(1), "B-ENT1");
  EXPECT_EQ(info.labels(2), "I-ENT1");
  EXPECT_THAT(token_->Log(), HasSubstr("task head: token_classification with 40 labels"));
}

TEST_F(HeadsTest, TokenEntitiesAreTheHeadsSoftmaxAtEachToken) {
  auto stub = Stub(*token_);
  v1::ModelInfo info;
  grpc::ClientContext context;
  ASSERT_TRUE(stub->GetModelInfo(&context, {}, &info).ok());
  const size_t labels = static_cast<size_t>(info.labels_size());
  const v1::ExtractEntitiesResponse response = Extract(*stub, kTexts, v1::AGGREGATION_NONE);
  ASSERT_EQ(response.results_size(), static_cast<int>(kTexts.size()));
  int checked = 0;
  for (size_t i = 0; i < kTexts.size(); ++i) {
    const auto [ids, logits] = HeadLogits(TinyTokenModelDir(), kTexts[i], true);
    const v1::InputEntities& result = response.results(static_cast<int>(i));
    EXPECT_EQ(result.num_tokens(), ids.size());
    for (const v1::Entity& e : result.entities()) {
      ASSERT_GT(e.token_index(), 0u);
      ASSERT_LT(e.token_index() + 1, ids.size());  // never <s> or </s>
      const std::vector<float> p = Softmax(&logits[e.token_index() * labels], labels);
      const size_t best = std::max_element(p.begin(), p.end()) - p.begin();
      EXPECT_EQ(e.label(), info.labels(static_cast<int>(best)));
      EXPECT_NE(e.label(), "O");
      EXPECT_NEAR(e.score(), p[best], kTolerance);
      ASSERT_LE(e.start(), e.end());
      ASSERT_LE(e.end(), kTexts[i].size());
      EXPECT_EQ(e.text(), kTexts[i].substr(e.start(), e.end() - e.start()));
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

// Spans as Hugging Face's pipeline gives them: in text order, each within the
// text. Neighbours may share a multi-byte character (a token holding part of
// one spans all of it) and a lone space token's span is empty.
TEST_F(HeadsTest, GroupedEntitiesComeInTextOrderAndTheThresholdFilters) {
  auto stub = Stub(*token_);
  for (v1::Aggregation aggregation : {v1::AGGREGATION_SIMPLE, v1::AGGREGATION_FIRST,
                                      v1::AGGREGATION_AVERAGE, v1::AGGREGATION_MAX}) {
    const v1::ExtractEntitiesResponse all = Extract(*stub, kTexts, aggregation);
    const v1::ExtractEntitiesResponse kept = Extract(*stub, kTexts, aggregation, 0.2f);
    for (size_t i = 0; i < kTexts.size(); ++i) {
      uint32_t previous_start = 0;
      std::vector<std::string> above;
      for (const v1::Entity& e : all.results(static_cast<int>(i)).entities()) {
        EXPECT_GE(e.start(), previous_start) << "out of order";
        EXPECT_LE(e.start(), e.end());
        EXPECT_LE(e.end(), kTexts[i].size());
        EXPECT_EQ(e.text(), kTexts[i].substr(e.start(), e.end() - e.start()));
        EXPECT_THAT(e.label(), ::testing::Not(::testing::StartsWith("B-")));
        EXPECT_THAT(e.label(), ::testing::Not(::testing::StartsWith("I-")));
        previous_start = e.start();
        if (e.score() >= 0.2f) above.push_back(e.text() + "/" + e.label());
      }
      std::vector<std::string> got;
      for (const v1::Entity& e : kept.results(static_cast<int>(i)).entities()) {
        EXPECT_GE(e.score(), 0.2f);
        got.push_back(e.text() + "/" + e.label());
      }
      EXPECT_EQ(got, above) << "aggregation " << aggregation << ", text " << i;
    }
  }
}

TEST_F(HeadsTest, ClassifyIsTheHeadsSoftmaxBestFirst) {
  auto stub = Stub(*sequence_);
  std::vector<std::pair<std::vector<int32_t>, std::vector<float>>> want;
  for (const auto& t : kTexts) want.push_back(HeadLogits(TinySequenceModelDir(), t, false));
  for (uint32_t top_k : {0u, 1u, 2u, 9u}) {
    v1::ClassifyRequest request;
    for (const auto& t : kTexts) request.add_inputs(t);
    request.set_top_k(top_k);
    v1::ClassifyResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub->Classify(&context, request, &response).ok());
    ASSERT_EQ(response.results_size(), static_cast<int>(kTexts.size()));
    for (size_t i = 0; i < kTexts.size(); ++i) {
      const auto& [ids, logits] = want[i];
      const std::vector<float> p = Softmax(logits.data(), logits.size());
      const v1::Classification& c = response.results(static_cast<int>(i));
      EXPECT_EQ(c.labels_size(), top_k == 0 || top_k > 4 ? 4 : static_cast<int>(top_k));
      EXPECT_EQ(c.num_tokens(), ids.size());
      for (int k = 0; k < c.labels_size(); ++k) {
        const v1::LabelScore& l = c.labels(k);
        EXPECT_EQ(l.label(), "LABEL_" + std::to_string(l.id()));
        EXPECT_NEAR(l.score(), p[l.id()], kTolerance);
        if (k > 0) {
          EXPECT_LE(l.score(), c.labels(k - 1).score());
        }
      }
      EXPECT_NEAR(c.labels(0).score(), *std::max_element(p.begin(), p.end()), kTolerance);
    }
    EXPECT_GT(response.timing().inference_us(), 0u);
  }
}

TEST_F(HeadsTest, WhatAModelCannotServeIsAFailedPreconditionNamingTheHead) {
  struct Case {
    ServerProcess* server;
    std::string rpc;
    std::string head;
  };
  for (const Case& c : {Case{token_, "Classify", "sequence-classification head"},
                        Case{token_, "PredictMask", "MLM head"},
                        Case{sequence_, "ExtractEntities", "token-classification head"},
                        Case{sequence_, "PredictMask", "MLM head"},
                        Case{mlm_, "Classify", "sequence-classification head"},
                        Case{mlm_, "ExtractEntities", "token-classification head"}}) {
    auto stub = Stub(*c.server);
    grpc::ClientContext context;
    grpc::Status status;
    if (c.rpc == "Classify") {
      v1::ClassifyRequest request;
      request.add_inputs("x");
      v1::ClassifyResponse response;
      status = stub->Classify(&context, request, &response);
    } else if (c.rpc == "ExtractEntities") {
      v1::ExtractEntitiesRequest request;
      request.add_inputs("x");
      v1::ExtractEntitiesResponse response;
      status = stub->ExtractEntities(&context, request, &response);
    } else {
      v1::PredictMaskRequest request;
      request.add_inputs("a <mask>");
      v1::PredictMaskResponse response;
      status = stub->PredictMask(&context, request, &response);
    }
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << c.rpc;
    EXPECT_THAT(status.error_message(), HasSubstr(c.head)) << c.rpc;
    EXPECT_THAT(status.error_message(), HasSubstr("GetModelInfo.capabilities"));
    // Still serving: an Embed right after answers.
    v1::EmbedRequest embed;
    embed.add_inputs("still serving");
    embed.set_pooling(v1::POOLING_CLS);
    v1::EmbedResponse embedded;
    grpc::ClientContext again;
    EXPECT_TRUE(stub->Embed(&again, embed, &embedded).ok());
  }
}

TEST_F(HeadsTest, BadSettingsAreInvalidArguments) {
  auto stub = Stub(*token_);
  grpc::Status status;
  v1::ExtractEntitiesRequest request;
  request.add_inputs("x");
  request.set_aggregation(static_cast<v1::Aggregation>(99));
  v1::ExtractEntitiesResponse response;
  {
    grpc::ClientContext context;
    status = stub->ExtractEntities(&context, request, &response);
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("aggregation: unknown value 99"));
  for (float threshold : {-0.5f, 1.5f, std::nanf("")}) {
    Extract(*stub, {"x"}, v1::AGGREGATION_SIMPLE, threshold, &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << threshold;
    EXPECT_THAT(status.error_message(), HasSubstr("threshold"));
  }
  Extract(*stub, {std::string(2000, 'a') + " b"}, v1::AGGREGATION_NONE, 0, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("max_input_tokens"));
  Extract(*stub, {}, v1::AGGREGATION_NONE, 0, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// The same entities (labels, offsets, texts), scores within kTolerance: a
// batch pads differently from a lone call, which moves the last bits.
bool SameEntities(const v1::InputEntities& a, const v1::InputEntities& b) {
  if (a.entities_size() != b.entities_size() || a.num_tokens() != b.num_tokens()) return false;
  for (int i = 0; i < a.entities_size(); ++i) {
    const v1::Entity& x = a.entities(i);
    const v1::Entity& y = b.entities(i);
    if (x.label() != y.label() || x.start() != y.start() || x.end() != y.end() ||
        x.text() != y.text() || std::fabs(x.score() - y.score()) > kTolerance) {
      return false;
    }
  }
  return true;
}

TEST_F(HeadsTest, ConcurrentEntityAndEmbedCallsAnswerEachTextAsAlone) {
  auto stub = Stub(*token_);
  std::vector<std::string> texts;
  for (int i = 0; i < 12; ++i) {
    texts.push_back(kTexts[i % kTexts.size()] + std::string(static_cast<size_t>(i), '!') +
                    " Lazarus used " + std::to_string(1000 + i * 37) + " implants.");
  }
  std::vector<v1::InputEntities> alone;
  for (const auto& t : texts)
    alone.push_back(Extract(*stub, {t}, v1::AGGREGATION_SIMPLE).results(0));
  constexpr int kThreads = 8, kRounds = 6;
  std::atomic<int> answered{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      auto own = Stub(*token_);
      for (int r = 0; r < kRounds; ++r) {
        const size_t i = static_cast<size_t>(w * kRounds + r) % texts.size();
        if ((w + r) % 3 == 0) {  // an Embed call in the same batches
          v1::EmbedRequest embed;
          embed.add_inputs(texts[i]);
          embed.set_pooling(v1::POOLING_MEAN);
          v1::EmbedResponse response;
          grpc::ClientContext context;
          if (own->Embed(&context, embed, &response).ok()) answered++;
          continue;
        }
        const v1::ExtractEntitiesResponse got =
            Extract(*own, {texts[i], texts[(i + 1) % texts.size()]}, v1::AGGREGATION_SIMPLE);
        if (got.results_size() != 2) {
          wrong++;
          continue;
        }
        answered++;
        if (!SameEntities(got.results(0), alone[i]) ||
            !SameEntities(got.results(1), alone[(i + 1) % texts.size()])) {
          wrong++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(answered.load(), kThreads * kRounds);
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace securebert::testing
