// Every RPC of the real server against the model runner's and tokenizer's
// direct output, and every status code of the contract.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"

namespace securebert::testing {
namespace {

using ::testing::HasSubstr;

constexpr float kTolerance = 1e-4f;
const char kMaskText[] = "Adversaries may use <mask> to move laterally through the network.";

// What Hugging Face's fill-mask pipeline returns as the sequence for mask
// `m` of `text` filled by a candidate that decodes to `candidate`, written
// out from the text rather than from our decoder: <mask> absorbs the space
// before it (its lstrip), the candidate brings its own; with one mask the
// special tokens are skipped, with several they stay, the other masks too.
std::string FilledText(const std::string& text, int m, const std::string& candidate) {
  std::string out;
  int masks = 0;
  size_t begin = 0;
  for (size_t at = text.find("<mask>"); at != std::string::npos; at = text.find("<mask>", begin)) {
    const size_t space = at > begin && text[at - 1] == ' ' ? at - 1 : at;
    out += text.substr(begin, space - begin);
    out += masks == m ? candidate : "<mask>";
    begin = at + 6;
    ++masks;
  }
  out += text.substr(begin);
  return masks == 1 ? out : "<s>" + out + "</s>";
}

class RpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess(BinaryPath("securebert-server"), DefaultServerArgs());
    ASSERT_TRUE(server_->WaitUntilReady()) << server_->Log();
    model_ = new InProcessModel();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete model_;
  }
  void SetUp() override { client_ = MakeClient(server_->target()); }

  // The server answers a health check and a real request after an error.
  void ExpectHealthy() {
    auto health = client_->Health("securebert.v1.SecureBert");
    ASSERT_TRUE(health.ok()) << health.status();
    EXPECT_EQ(*health, grpc::health::v1::HealthCheckResponse::SERVING);
    v1::TokenizeRequest r;
    r.add_inputs("still serving");
    EXPECT_TRUE(client_->Tokenize(r).ok());
  }

  void ExpectError(const absl::Status& s, absl::StatusCode code, const std::string& text) {
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_THAT(s.message(), HasSubstr(text));
    ExpectHealthy();
  }

  static ServerProcess* server_;
  static InProcessModel* model_;
  std::unique_ptr<client::SecureBertClient> client_;
};

ServerProcess* RpcTest::server_ = nullptr;
InProcessModel* RpcTest::model_ = nullptr;

TEST_F(RpcTest, TokenizeEqualsTheTokenizer) {
  v1::TokenizeRequest r;
  r.add_inputs("CVE-2024-3094: a backdoor in xz/liblzma <mask> sshd.");
  r.add_inputs("");
  auto resp = client_->Tokenize(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->results_size(), 2);
  for (int i = 0; i < 2; ++i) {
    auto want = model_->tokenizer().Encode(r.inputs(i), {});
    ASSERT_TRUE(want.ok());
    const auto& got = resp->results(i);
    ASSERT_EQ(got.tokens_size(), static_cast<int>(want->ids.size()));
    for (int t = 0; t < got.tokens_size(); ++t) {
      EXPECT_EQ(got.tokens(t).id(), static_cast<uint32_t>(want->ids[t]));
      EXPECT_EQ(got.tokens(t).text(), model_->tokenizer().TokenText(want->ids[t]));
      EXPECT_EQ(got.tokens(t).start(), want->offsets[t].first);
      EXPECT_EQ(got.tokens(t).end(), want->offsets[t].second);
    }
    EXPECT_FALSE(got.truncated());
  }
}

TEST_F(RpcTest, EmbedAllTokensEqualsTheModel) {
  v1::EmbedRequest r;
  r.add_inputs("Ransomware encrypted the file server.");
  r.add_inputs(
      "A much longer description of a phishing campaign that used malicious macros "
      "in invoices to drop a remote access trojan on finance workstations.");
  auto resp = client_->Embed(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->embeddings_size(), 2);
  const int64_t hidden = model_->hidden_size();
  for (int i = 0; i < 2; ++i) {
    const Reference want = model_->Run(r.inputs(i));
    const auto& got = resp->embeddings(i);
    EXPECT_EQ(got.num_tokens(), want.ids.size());
    EXPECT_THAT(got.shape(), ::testing::ElementsAre(static_cast<int64_t>(want.ids.size()), hidden));
    EXPECT_LE(MaxAbsDiff(want.hidden, got.values()), kTolerance);
  }
  EXPECT_GE(resp->timing().batch_size(), 1u);
}

TEST_F(RpcTest, EmbedPooledEqualsTheModel) {
  const std::string text = "Lateral movement via SMB and PsExec.";
  const Reference want = model_->Run(text);
  const int32_t h = model_->hidden_size();
  const size_t tokens = want.ids.size();
  std::vector<float> cls(want.hidden.begin(), want.hidden.begin() + h), mean(h, 0.f);
  for (size_t t = 0; t < tokens; ++t) {
    for (int32_t k = 0; k < h; ++k) mean[k] += want.hidden[t * h + k] / tokens;
  }
  double norm = 0;
  for (float v : mean) norm += v * v;
  std::vector<float> normalized(mean);
  for (float& v : normalized) v /= static_cast<float>(std::sqrt(norm));

  struct Case {
    v1::Pooling pooling;
    bool normalize;
    const std::vector<float>* want;
  };
  for (const Case& c : {Case{v1::POOLING_CLS, false, &cls}, Case{v1::POOLING_MEAN, false, &mean},
                        Case{v1::POOLING_MEAN, true, &normalized}}) {
    v1::EmbedRequest r;
    r.add_inputs(text);
    r.set_pooling(c.pooling);
    r.set_normalize(c.normalize);
    auto resp = client_->Embed(r);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_THAT(resp->embeddings(0).shape(), ::testing::ElementsAre(h));
    EXPECT_LE(MaxAbsDiff(*c.want, resp->embeddings(0).values()), kTolerance)
        << v1::Pooling_Name(c.pooling) << " normalize=" << c.normalize;
  }
}

TEST_F(RpcTest, PredictMaskEqualsTheModel) {
  v1::PredictMaskRequest r;
  r.add_inputs(kMaskText);
  r.add_inputs("The <mask> exploited CVE-2021-44228 in <mask> servers.");
  r.set_top_k(5);
  auto resp = client_->PredictMask(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->results_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const Reference want = model_->Run(r.inputs(i), 5);
    const auto& got = resp->results(i);
    ASSERT_EQ(got.masks_size(), static_cast<int>(want.mask_positions.size()));
    for (int m = 0; m < got.masks_size(); ++m) {
      EXPECT_EQ(got.masks(m).position(), static_cast<uint32_t>(want.mask_positions[m]));
      ASSERT_EQ(got.masks(m).predictions_size(), 5);
      for (int k = 0; k < 5; ++k) {
        const auto& p = got.masks(m).predictions(k);
        EXPECT_NEAR(p.score(), want.topk_scores[m][k], kTolerance);
        EXPECT_EQ(p.token_id(), static_cast<uint32_t>(want.topk_ids[m][k]));
        EXPECT_EQ(p.token(), model_->tokenizer().DecodeToken(want.topk_ids[m][k]));
        const int32_t candidate[] = {want.topk_ids[m][k]};
        EXPECT_EQ(p.sequence(),
                  FilledText(r.inputs(i), m, model_->tokenizer().Decode(candidate, false)));
      }
    }
  }
}

TEST_F(RpcTest, OmitSequenceAnswersWithoutFilledTexts) {
  v1::PredictMaskRequest r;
  r.add_inputs(kMaskText);
  r.set_top_k(3);
  r.set_omit_sequence(true);
  auto resp = client_->PredictMask(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  const Reference want = model_->Run(r.inputs(0), 3);
  ASSERT_EQ(resp->results(0).masks(0).predictions_size(), 3);
  for (int k = 0; k < 3; ++k) {
    const auto& p = resp->results(0).masks(0).predictions(k);
    EXPECT_EQ(p.token_id(), static_cast<uint32_t>(want.topk_ids[0][k]));
    EXPECT_TRUE(p.sequence().empty());
  }
}

TEST_F(RpcTest, EmbedStreamAnswersInOrder) {
  std::vector<v1::EmbedRequest> requests(12);
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].add_inputs("stream message " + std::to_string(i) + std::string(i * 7, 'x'));
    requests[i].set_pooling(v1::POOLING_CLS);
  }
  auto responses = client_->EmbedStream(requests);
  ASSERT_TRUE(responses.ok()) << responses.status();
  ASSERT_EQ(responses->size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const Reference want = model_->Run(requests[i].inputs(0));
    std::vector<float> cls(want.hidden.begin(), want.hidden.begin() + model_->hidden_size());
    EXPECT_EQ((*responses)[i].embeddings(0).num_tokens(), want.ids.size()) << i;
    EXPECT_LE(MaxAbsDiff(cls, (*responses)[i].embeddings(0).values()), kTolerance) << i;
  }
}

TEST_F(RpcTest, StartUpLogNamesTheBlasKernelAndTheAllocator) {
  const std::string log = server_->Log();
  EXPECT_NE(log.find("cpu: torch=LibTorch "), std::string::npos) << log;
  EXPECT_NE(log.find(SECUREBERT_LIBTORCH_HAS_OPENBLAS ? " blas=OpenBLAS " : " blas=not OpenBLAS "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("malloc=" SECUREBERT_SERVER_MALLOC " "), std::string::npos) << log;
  EXPECT_NE(log.find(SECUREBERT_SERVER_MALLOC_TUNED ? " tuned (freed activations kept for reuse)"
                                                    : " at its defaults"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("(tied word embedding held once)"), std::string::npos) << log;
}

TEST_F(RpcTest, ModelInfo) {
  auto info = client_->GetModelInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->model_id(), "random-init/tiny");
  EXPECT_EQ(info->hidden_size(), static_cast<uint32_t>(model_->hidden_size()));
  EXPECT_EQ(info->vocab_size(), 50265u);
  EXPECT_EQ(info->max_input_tokens(), 128u);
  EXPECT_EQ(info->device(), "cpu");
  EXPECT_EQ(info->dtype(), "float32");
  EXPECT_EQ(info->max_batch_tokens(), 2048u);
  EXPECT_EQ(info->max_client_batch_size(), 8u);
  EXPECT_EQ(info->mask_token(), "<mask>");
}

TEST_F(RpcTest, TruncationIsReported) {
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += " token" + std::to_string(i);
  v1::EmbedRequest r;
  r.add_inputs(long_text);
  r.set_pooling(v1::POOLING_CLS);
  r.set_truncation(v1::TRUNCATION_LEFT);
  auto resp = client_->Embed(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_TRUE(resp->embeddings(0).truncated());
  EXPECT_EQ(resp->embeddings(0).num_tokens(), 128u);
}

TEST_F(RpcTest, BadInputIsInvalidArgumentNamingFieldAndLimit) {
  ExpectError(client_->Embed(v1::EmbedRequest()).status(), absl::StatusCode::kInvalidArgument,
              "inputs: empty");
  v1::EmbedRequest many;
  for (int i = 0; i < 9; ++i) many.add_inputs("x");
  ExpectError(client_->Embed(many).status(), absl::StatusCode::kInvalidArgument,
              "max_client_batch_size=8");
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += " word";
  v1::EmbedRequest too_long;
  too_long.add_inputs("short");
  too_long.add_inputs(long_text);
  absl::Status s = client_->Embed(too_long).status();
  ExpectError(s, absl::StatusCode::kInvalidArgument, "inputs[1]");
  EXPECT_THAT(s.message(), HasSubstr("128"));
  v1::PredictMaskRequest no_mask;
  no_mask.add_inputs("there is no mask here");
  ExpectError(client_->PredictMask(no_mask).status(), absl::StatusCode::kInvalidArgument,
              "no <mask>");
  v1::PredictMaskRequest big_k;
  big_k.add_inputs(kMaskText);
  big_k.set_top_k(1001);
  ExpectError(client_->PredictMask(big_k).status(), absl::StatusCode::kInvalidArgument, "top_k");
}

TEST_F(RpcTest, InvalidUtf8IsInvalidArgumentAndServerStaysHealthy) {
  // The C++ client sends a proto3 string that is not UTF-8 as it is; the
  // server parses texts as bytes and its tokenizer names the input
  // (hardening_test sends the same as raw bytes on every text method).
  v1::TokenizeRequest r;
  r.add_inputs(std::string("bad \xff\xfe bytes"));
  ExpectError(client_->Tokenize(r).status(), absl::StatusCode::kInvalidArgument, "inputs[0]");
  ExpectHealthy();
}

TEST_F(RpcTest, ExpiredDeadlineIsDeadlineExceeded) {
  client::ClientOptions options;
  options.channel.target = server_->target();
  options.deadline_ms = 1;
  options.retry.max_attempts = 1;
  auto fast = client::SecureBertClient::Create(options);
  ASSERT_TRUE(fast.ok());
  v1::EmbedRequest r;
  for (int i = 0; i < 8; ++i) r.add_inputs(std::string(400, 'a') + std::to_string(i));
  r.set_truncation(v1::TRUNCATION_RIGHT);
  ExpectError((*fast)->Embed(r).status(), absl::StatusCode::kDeadlineExceeded, "");
}

}  // namespace
}  // namespace securebert::testing
