// The pipeline over the real tokenizer and a fake model: what the tokens
// tell is checked before compute, and answers are built on the pool, never
// on a batch worker.
#include "service/model_pipeline.h"

#include "absl/synchronization/notification.h"
#include "batching/testing/fake_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/request_path.h"

namespace securebert::service {
namespace {

using ::testing::HasSubstr;

class ModelPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(const RequestLimits& limits) {
    path_.reset();
    const std::string data = std::string(SECUREBERT_SOURCE_DIR) + "/tests/data/tokenizer/";
    auto tok = tokenizer::Tokenizer::FromFiles(data + "vocab.json", data + "merges.txt");
    ASSERT_TRUE(tok.ok()) << tok.status();
    tokenizer_ = *std::move(tok);
    batching::testing::FakeModelOptions model_options;
    model_options.vocab_size = 50265;
    model_options.max_input_tokens = 16;
    model_options.log = &log_;
    std::vector<std::unique_ptr<batching::Model>> instances;
    instances.push_back(std::make_unique<batching::testing::FakeModel>(model_options));
    RequestPathOptions options;
    options.pool = {.threads = 2, .max_queued = 64};
    options.engine.warmup_batch_sizes.clear();
    options.limits = limits;
    auto path = RequestPath::Create(options, tokenizer_.get(), std::move(instances), &metrics_);
    ASSERT_TRUE(path.ok()) << path.status();
    path_ = *std::move(path);
  }

  static ModelRequest Request(batching::Request::Kind kind, std::vector<std::string> texts) {
    ModelRequest request;
    request.request.kind = kind;
    request.texts = std::make_shared<const std::vector<std::string>>(std::move(texts));
    return request;
  }

  absl::StatusOr<ModelResult> Run(ModelRequest request) {
    absl::Notification done;
    absl::StatusOr<ModelResult> result;
    path_->pipeline()->Submit(std::move(request), [&](absl::StatusOr<ModelResult> r) {
      result = std::move(r);
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }
  absl::StatusOr<ModelResult> Run(batching::Request::Kind kind, std::vector<std::string> texts) {
    return Run(Request(kind, std::move(texts)));
  }

  ServerMetrics metrics_;
  batching::testing::BatchLog log_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<RequestPath> path_;  // last: stopped first
};

TEST_F(ModelPipelineTest, EmbedHandsBackTheTokenizersIds) {
  auto result = Run(batching::Request::Kind::kEmbed, {"hello world", "malware"});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->response.sequences.size(), 2u);
  EXPECT_EQ(result->response.sequences[0], tokenizer_->Encode("hello world", {})->ids);
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

TEST_F(ModelPipelineTest, MaskLimitsAreRefusedBeforeCompute) {
  RequestLimits limits;
  limits.max_masks_per_input = 3;
  limits.max_mask_predictions = 50;
  Start(limits);
  auto too_many = Run(batching::Request::Kind::kPredictMask, {"<mask> <mask> <mask> <mask>"});
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_many.status().message(), HasSubstr("max_masks_per_input=3"));
  ModelRequest wide = Request(batching::Request::Kind::kPredictMask, {"<mask> x", "y <mask>"});
  wide.request.top_k = 30;  // 2 masks x 30 = 60 > 50
  auto predictions = Run(std::move(wide));
  EXPECT_EQ(predictions.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(predictions.status().message(), HasSubstr("max_mask_predictions=50"));
  EXPECT_TRUE(log_.batches().empty());  // nothing reached the model
}

TEST_F(ModelPipelineTest, AnswersLargerThanTheMessageLimitAreNeverBuilt) {
  RequestLimits limits;
  limits.max_response_bytes = 8000;
  Start(limits);
  auto mask_request = [](int32_t top_k, bool omit_sequence) {
    ModelRequest request = Request(batching::Request::Kind::kPredictMask, {"The <mask> is here"});
    request.request.top_k = top_k;
    request.omit_sequence = omit_sequence;
    return request;
  };
  // 1000 candidates, each with a ~20-byte filled-in text: sure to be too
  // large, refused before compute.
  auto sure = Run(mask_request(1000, false));
  EXPECT_EQ(sure.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(sure.status().message(), HasSubstr("max_message_bytes=8000"));
  EXPECT_THAT(sure.status().message(), HasSubstr("omit_sequence"));
  EXPECT_TRUE(log_.batches().empty());
  // 250 candidates might fit until their tokens are known: computed, then
  // refused before the answer is built.
  auto known = Run(mask_request(250, false));
  EXPECT_EQ(known.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(known.status().message(), HasSubstr("max_message_bytes=8000"));
  EXPECT_EQ(log_.batches().size(), 1u);
  // Without the texts, 100 candidates fit.
  auto lean = Run(mask_request(100, true));
  ASSERT_TRUE(lean.ok()) << lean.status();
  EXPECT_TRUE(lean->omit_sequence);
  EXPECT_EQ(log_.batches().size(), 2u);
}

TEST_F(ModelPipelineTest, AnswersAreBuiltOnThePoolNotOnTheBatchWorker) {
  // The first answer's callback blocks, as a slow response build would. The
  // engine's only worker goes on: the second request runs and is answered.
  absl::Notification building, release, second_done;
  path_->pipeline()->Submit(Request(batching::Request::Kind::kEmbed, {"first"}),
                            [&](absl::StatusOr<ModelResult>) {
                              building.Notify();
                              release.WaitForNotification();
                            });
  building.WaitForNotification();
  absl::StatusOr<ModelResult> second;
  path_->pipeline()->Submit(Request(batching::Request::Kind::kEmbed, {"second"}),
                            [&](absl::StatusOr<ModelResult> r) {
                              second = std::move(r);
                              second_done.Notify();
                            });
  const bool answered = second_done.WaitForNotificationWithTimeout(absl::Seconds(30));
  release.Notify();
  path_->Stop();  // joins the pool: no callback still uses this test's locals
  ASSERT_TRUE(answered) << "the second request waited for the first one's response build";
  EXPECT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(log_.batches().size(), 2u);
}

}  // namespace
}  // namespace securebert::service
