#include "service/model_pipeline.h"

#include "absl/synchronization/notification.h"
#include "batching/testing/fake_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

using ::testing::HasSubstr;

class ModelPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string data = std::string(SECUREBERT_SOURCE_DIR) + "/tests/data/tokenizer/";
    auto tok = tokenizer::Tokenizer::FromFiles(data + "vocab.json", data + "merges.txt");
    ASSERT_TRUE(tok.ok()) << tok.status();
    tokenizer_ = *std::move(tok);
    batching::testing::FakeModelOptions model_options;
    model_options.vocab_size = 50265;
    model_options.max_input_tokens = 16;
    std::vector<std::unique_ptr<batching::Model>> instances;
    instances.push_back(std::make_unique<batching::testing::FakeModel>(model_options));
    batching::EngineOptions engine_options;
    engine_options.warmup_batch_sizes.clear();
    auto engine = batching::Engine::Create(engine_options, std::move(instances), &metrics_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    pipeline_ =
        std::make_unique<ModelPipeline>(tokenizer_.get(), &pool_, engine_.get(), &metrics_, 16);
  }

  absl::StatusOr<ModelCallResult> Run(batching::Request::Kind kind,
                                      std::vector<std::string> texts) {
    ModelCall call;
    call.kind = kind;
    call.texts = std::make_shared<const std::vector<std::string>>(std::move(texts));
    absl::Notification done;
    absl::StatusOr<ModelCallResult> result;
    pipeline_->Submit(std::move(call), [&](absl::StatusOr<ModelCallResult> r) {
      result = std::move(r);
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  ServerMetrics metrics_;
  CpuPool pool_{CpuPoolOptions{.threads = 2, .max_queued = 64}};
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<batching::Engine> engine_;
  std::unique_ptr<ModelPipeline> pipeline_;
};

TEST_F(ModelPipelineTest, EmbedCarriesTheTokenizersIds) {
  auto result = Run(batching::Request::Kind::kEmbed, {"hello world", "malware"});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->ids.size(), 2u);
  EXPECT_EQ(result->ids[0], tokenizer_->Encode("hello world", {})->ids);
  EXPECT_EQ(result->response.outputs.size(), 2u);
  EXPECT_THAT(result->truncated, ::testing::ElementsAre(false, false));
}

TEST_F(ModelPipelineTest, InvalidUtf8IsInvalidArgumentNamingTheInput) {
  auto result = Run(batching::Request::Kind::kEmbed, {"fine", std::string("bad \xff byte")});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("inputs[1]"));
  EXPECT_THAT(result.status().message(), HasSubstr("UTF-8"));
}

TEST_F(ModelPipelineTest, TooLongWithoutTruncationNamesLengthAndLimit) {
  auto result = Run(batching::Request::Kind::kEmbed,
                    {"one two three four five six seven eight nine ten eleven twelve thirteen "
                     "fourteen fifteen sixteen"});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("inputs[0]"));
  EXPECT_THAT(result.status().message(), HasSubstr("16"));
}

TEST_F(ModelPipelineTest, PredictMaskNeedsAMask) {
  auto result = Run(batching::Request::Kind::kPredictMask, {"a <mask> here", "none here"});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("inputs[1]: no <mask>"));
  auto ok = Run(batching::Request::Kind::kPredictMask, {"a <mask> here"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->response.outputs[0].masks.size(), 1u);
  EXPECT_EQ(ok->response.outputs[0].masks[0].position, 2);
}

}  // namespace
}  // namespace securebert::service
