// The server on the tiny model's int8 twin (tools/quantize.py), beside the
// float32 tiny model: every RPC answers, GetModelInfo says int8-dynamic, the
// answers are close to float32's (not equal), and CUDA is refused at start.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"

namespace securebert::testing {
namespace {

using ::testing::HasSubstr;

// The tiny models' least cosine, as torch_model_test asserts it token by
// token; pooled vectors are averages of those.
constexpr double kMinCosine = 0.99;

std::vector<std::string> ArgsFor(const std::string& model_dir) {
  std::vector<std::string> args = DefaultServerArgs();
  args[0] = "--model_dir=" + model_dir;
  return args;
}

double Cosine(const v1::Embedding& a, const v1::Embedding& b) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < a.values_size(); ++i) {
    ab += static_cast<double>(a.values(i)) * b.values(i);
    aa += static_cast<double>(a.values(i)) * a.values(i);
    bb += static_cast<double>(b.values(i)) * b.values(i);
  }
  return ab / std::sqrt(aa * bb);
}

class Int8Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    int8_ = new ServerProcess(BinaryPath("securebert-server"), ArgsFor(TinyInt8ModelDir()));
    fp32_ = new ServerProcess(BinaryPath("securebert-server"), ArgsFor(TinyModelDir()));
    ASSERT_TRUE(int8_->WaitUntilReady()) << int8_->Log();
    ASSERT_TRUE(fp32_->WaitUntilReady()) << fp32_->Log();
  }
  static void TearDownTestSuite() {
    delete int8_;
    delete fp32_;
  }
  void SetUp() override {
    int8_client_ = MakeClient(int8_->target());
    fp32_client_ = MakeClient(fp32_->target());
  }

  static ServerProcess* int8_;
  static ServerProcess* fp32_;
  std::unique_ptr<client::SecureBertClient> int8_client_;
  std::unique_ptr<client::SecureBertClient> fp32_client_;
};
ServerProcess* Int8Test::int8_ = nullptr;
ServerProcess* Int8Test::fp32_ = nullptr;

const std::vector<std::string> kTexts = {
    "APT29 exploited CVE-2023-23397 in Microsoft Exchange to harvest credentials.",
    "The Cobalt Strike beacon relies on process injection and beacons over HTTPS.",
    "2024-05-01T12:00:03Z sshd[4121]: Failed password for root from 203.0.113.7 port 52144",
};

TEST_F(Int8Test, ModelInfoSaysInt8AndTheLogNamesTheEngine) {
  auto info = int8_client_->GetModelInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->dtype(), "int8-dynamic");
  EXPECT_EQ(info->device(), "cpu");
  auto fp32 = fp32_client_->GetModelInfo();
  ASSERT_TRUE(fp32.ok()) << fp32.status();
  EXPECT_EQ(fp32->dtype(), "float32");
  EXPECT_EQ(info->hidden_size(), fp32->hidden_size());
  EXPECT_THAT(int8_->Log(), HasSubstr("dtype=int8-dynamic"));
}

TEST_F(Int8Test, EmbedIsCloseToFloat32ButNotEqual) {
  for (v1::Pooling pooling : {v1::POOLING_CLS, v1::POOLING_MEAN, v1::POOLING_NONE}) {
    v1::EmbedRequest r;
    for (const std::string& t : kTexts) r.add_inputs(t);
    r.set_pooling(pooling);
    auto a = fp32_client_->Embed(r);
    auto b = int8_client_->Embed(r);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_EQ(a->embeddings_size(), b->embeddings_size());
    bool differs = false;
    for (int i = 0; i < a->embeddings_size(); ++i) {
      const v1::Embedding& x = a->embeddings(i);
      const v1::Embedding& y = b->embeddings(i);
      ASSERT_EQ(x.values_size(), y.values_size());
      EXPECT_EQ(x.num_tokens(), y.num_tokens());
      EXPECT_GE(Cosine(x, y), kMinCosine) << "input " << i << " pooling " << pooling;
      for (int k = 0; k < x.values_size(); ++k) differs |= x.values(k) != y.values(k);
    }
    EXPECT_TRUE(differs) << "int8 answered exactly float32's vectors";
  }
}

TEST_F(Int8Test, PredictMaskTokenizeAndEmbedStreamAnswer) {
  v1::PredictMaskRequest p;
  p.add_inputs("Adversaries may use <mask> to execute <mask> payloads.");
  p.set_top_k(5);
  auto masks = int8_client_->PredictMask(p);
  ASSERT_TRUE(masks.ok()) << masks.status();
  ASSERT_EQ(masks->results_size(), 1);
  ASSERT_EQ(masks->results(0).masks_size(), 2);
  for (const v1::MaskResult& m : masks->results(0).masks()) {
    ASSERT_EQ(m.predictions_size(), 5);
    float previous = 1;
    for (const v1::TokenPrediction& c : m.predictions()) {
      EXPECT_LE(c.score(), previous);
      EXPECT_GT(c.score(), 0);
      EXPECT_FALSE(c.sequence().empty());
      previous = c.score();
    }
  }
  v1::TokenizeRequest t;
  for (const std::string& text : kTexts) t.add_inputs(text);
  auto a = fp32_client_->Tokenize(t);
  auto b = int8_client_->Tokenize(t);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->SerializeAsString(), b->SerializeAsString());
  std::vector<v1::EmbedRequest> stream(3);
  for (size_t i = 0; i < stream.size(); ++i) stream[i].add_inputs(kTexts[i]);
  auto streamed = int8_client_->EmbedStream(stream);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  EXPECT_EQ(streamed->size(), 3u);
}

TEST(Int8StartTest, CudaWithAnInt8ModelExitsTwoSayingWhy) {
  std::vector<std::string> args = ArgsFor(TinyInt8ModelDir());
  args.push_back("--device=cuda");
  ServerProcess server(BinaryPath("securebert-server"), args);
  EXPECT_EQ(server.WaitForExit(absl::Seconds(60)), 2) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("int8-dynamic, which runs on the CPU only"));
}

}  // namespace
}  // namespace securebert::testing
