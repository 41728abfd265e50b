// The bad-input table of docs/errors.md, part one: what a request carries.
// One real server; each row sends its input, checks the documented code and
// a message that names the field and the limit (or, for inputs that are
// valid, the answer the contract gives), then that the server is healthy and
// answers a fixed good request as it did first. Part two (deadlines,
// cancels, streams, volume) is bad_calls_test.cc.
#include <cstdint>
#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/metrics_scrape.h"
#include "tests/testing/answer_probe.h"
#include "tests/testing/raw_grpc.h"

namespace securebert::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr float kModelTolerance = 1e-4f;  // server (batched) vs in-process model
constexpr int64_t kMaxMessageBytes = 4 << 20;

// Padded tokens the server has computed so far, from /metrics: it does not
// move when a request is refused before compute.
double ComputedTokens(int metrics_port) {
  return ScrapeMetrics(metrics_port)["securebert_batch_padded_tokens_total"];
}

std::string Repeat(const std::string& piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The model's own max_input_tokens (512) and the documented PredictMask
    // caps; a small message limit, so that over it is cheap to send.
    server_ = new ServerProcess(
        BinaryPath("securebert-server"),
        {"--model_dir=" + TinyModelDir(), "--max_client_batch_size=8", "--max_batch_tokens=2048",
         "--max_message_bytes=" + std::to_string(kMaxMessageBytes), "--log_level=info"});
    ASSERT_TRUE(server_->WaitUntilReady()) << server_->Log();
    probe_ = new AnswerProbe(server_->target());
    model_ = new InProcessModel();
  }
  static void TearDownTestSuite() {
    delete probe_;
    delete model_;
    delete server_;
  }
  void SetUp() override {
    client_ = MakeClient(server_->target());
    channel_ = grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    probe_->ExpectHealthyAndUnchanged(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  static void ExpectError(const absl::Status& s, absl::StatusCode code,
                          const std::string& message) {
    std::printf("  -> %s\n", s.ToString().substr(0, 300).c_str());  // the table's rows
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_THAT(s.message(), HasSubstr(message)) << s;
  }
  static void ExpectRawError(const grpc::Status& s, grpc::StatusCode code,
                             const std::string& message) {
    std::printf("  -> code %d: %s\n", s.error_code(), s.error_message().c_str());
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(message));
  }

  // The server's Tokenize answer for `text` is the tokenizer's, and Embed
  // gives the model's token vectors for it.
  void ExpectAnsweredAsTheModelSees(const std::string& text) {
    v1::TokenizeRequest t;
    t.add_inputs(text);
    auto tokens = client_->Tokenize(t);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    const Reference want = model_->Run(text, 10, 512);
    ASSERT_EQ(tokens->results(0).tokens_size(), static_cast<int>(want.ids.size()));
    for (size_t i = 0; i < want.ids.size(); ++i) {
      EXPECT_EQ(tokens->results(0).tokens(static_cast<int>(i)).id(),
                static_cast<uint32_t>(want.ids[i]));
    }
    v1::EmbedRequest e;
    e.add_inputs(text);
    auto embedded = client_->Embed(e);
    ASSERT_TRUE(embedded.ok()) << embedded.status();
    EXPECT_EQ(embedded->embeddings(0).num_tokens(), want.ids.size());
    EXPECT_LE(MaxAbsDiff(want.hidden, embedded->embeddings(0).values()), kModelTolerance);
  }

  static inline ServerProcess* server_ = nullptr;
  static inline AnswerProbe* probe_ = nullptr;
  static inline InProcessModel* model_ = nullptr;
  std::unique_ptr<client::SecureBertClient> client_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(BadInputTest, EmptyInputsIsInvalidArgumentOnEveryMethod) {
  const char kMessage[] = "inputs: empty; send at least one text";
  ExpectError(client_->Embed({}).status(), absl::StatusCode::kInvalidArgument, kMessage);
  ExpectError(client_->PredictMask({}).status(), absl::StatusCode::kInvalidArgument, kMessage);
  ExpectError(client_->Tokenize({}).status(), absl::StatusCode::kInvalidArgument, kMessage);
  ExpectError(client_->EmbedStream({v1::EmbedRequest()}).status(),
              absl::StatusCode::kInvalidArgument, kMessage);
}

TEST_F(BadInputTest, OneEmptyStringIsAnsweredAsSAndSlashS) {
  ExpectAnsweredAsTheModelSees("");
  v1::EmbedRequest r;
  r.add_inputs("");
  r.set_pooling(v1::POOLING_MEAN);
  auto resp = client_->Embed(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->embeddings(0).num_tokens(), 2u);  // <s> </s>
  EXPECT_THAT(resp->embeddings(0).shape(), ElementsAre(model_->hidden_size()));
  // PredictMask needs a <mask>: an empty text has none.
  v1::PredictMaskRequest p;
  p.add_inputs("");
  ExpectError(client_->PredictMask(p).status(), absl::StatusCode::kInvalidArgument,
              "inputs[0]: no <mask> token");
}

TEST_F(BadInputTest, WhitespaceOnlyIsAnsweredAsByteLevelBpeSplitsIt) {
  // Byte-level BPE keeps whitespace (as Hugging Face's RoBERTa tokenizer
  // does): " \t\n " is <s> Ġ ĉ Ċ Ġ </s>, not an empty input.
  const std::string text = " \t\n ";
  ExpectAnsweredAsTheModelSees(text);
  v1::TokenizeRequest t;
  t.add_inputs(text);
  auto tokens = client_->Tokenize(t);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  std::vector<uint32_t> ids;
  for (const auto& token : tokens->results(0).tokens()) ids.push_back(token.id());
  EXPECT_THAT(ids, ElementsAre(0, 1437, 50117, 50118, 1437, 2));
}

TEST_F(BadInputTest, InvalidUtf8InARawMessageIsInvalidArgumentNamingTheInput) {
  // inputs = ["fine", "bad \xc3\x28"]: a lead byte followed by no
  // continuation byte, at byte 4 of the second input.
  const std::string request =
      LengthDelimitedField(1, "fine") + LengthDelimitedField(1, std::string("bad \xc3\x28 text"));
  for (const std::string method : {"Embed", "PredictMask", "Tokenize"}) {
    SCOPED_TRACE(method);
    const grpc::Status s = RawUnaryCall(channel_, method, request);
    ExpectRawError(s, grpc::StatusCode::INVALID_ARGUMENT, "inputs[1]: input is not valid UTF-8");
    EXPECT_THAT(s.error_message(), HasSubstr("byte 0xC3 at byte offset 4"));
  }
}

TEST_F(BadInputTest, NulBytesAreValidUtf8AndAnswered) {
  ExpectAnsweredAsTheModelSees(std::string("before\0after\0", 13));
}

TEST_F(BadInputTest, OneMegabyteTextIsRefusedWithoutTruncationAndAnsweredWithIt) {
  std::string text;
  for (int i = 0; text.size() < (1 << 20); ++i) text += "indicator" + std::to_string(i) + " ";
  v1::EmbedRequest r;
  r.add_inputs(text);
  r.set_pooling(v1::POOLING_CLS);
  v1::TokenizeRequest t;
  t.add_inputs(text);
  for (const absl::Status& refused : {client_->Embed(r).status(), client_->Tokenize(t).status()}) {
    ExpectError(refused, absl::StatusCode::kInvalidArgument, "inputs[0]: input has ");
    EXPECT_THAT(refused.message(), HasSubstr("tokens, more than max_input_tokens=512"));
  }
  r.set_truncation(v1::TRUNCATION_RIGHT);
  r.set_pooling(v1::POOLING_NONE);
  auto resp = client_->Embed(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_TRUE(resp->embeddings(0).truncated());
  EXPECT_EQ(resp->embeddings(0).num_tokens(), 512u);
  EXPECT_LE(MaxAbsDiff(model_->Run(text, 10, 512).hidden, resp->embeddings(0).values()),
            kModelTolerance);
}

TEST_F(BadInputTest, MoreInputsThanMaxClientBatchSizeIsInvalidArgument) {
  const char kMessage[] = "inputs: 9 texts, more than max_client_batch_size=8";
  v1::EmbedRequest e;
  v1::PredictMaskRequest p;
  v1::TokenizeRequest t;
  for (int i = 0; i < 9; ++i) {
    e.add_inputs("text");
    p.add_inputs("a <mask>");
    t.add_inputs("text");
  }
  ExpectError(client_->Embed(e).status(), absl::StatusCode::kInvalidArgument, kMessage);
  ExpectError(client_->PredictMask(p).status(), absl::StatusCode::kInvalidArgument, kMessage);
  ExpectError(client_->Tokenize(t).status(), absl::StatusCode::kInvalidArgument, kMessage);
}

TEST_F(BadInputTest, MessageOverMaxMessageBytesIsResourceExhaustedFromGrpc) {
  // gRPC refuses it before the server's code runs, with its own message
  // naming both sizes (the contract: same code as overload, other message).
  v1::EmbedRequest r;
  r.add_inputs(std::string(kMaxMessageBytes + 1024, 'a'));
  ExpectError(client_->Embed(r).status(), absl::StatusCode::kResourceExhausted,
              "vs. " + std::to_string(kMaxMessageBytes) + ")");
}

TEST_F(BadInputTest, TopKZeroMeansTenAndOutOfRangeIsInvalidArgument) {
  v1::PredictMaskRequest r;
  r.add_inputs("Attackers used <mask> to steal credentials.");
  auto resp = client_->PredictMask(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->results(0).masks(0).predictions_size(), 10);
  for (const uint32_t top_k : {1001u, 4294967295u}) {
    r.set_top_k(top_k);
    ExpectError(client_->PredictMask(r).status(), absl::StatusCode::kInvalidArgument,
                "top_k: " + std::to_string(top_k) + " is out of range; use 1..1000 (0 means 10)");
  }
}

TEST_F(BadInputTest, NoMaskIsInvalidArgumentNamingTheInput) {
  v1::PredictMaskRequest r;
  r.add_inputs("one <mask> here");
  r.add_inputs("but none in this one");
  ExpectError(client_->PredictMask(r).status(), absl::StatusCode::kInvalidArgument,
              "inputs[1]: no <mask> token; PredictMask needs at least one per input");
}

TEST_F(BadInputTest, SixHundredMasksAreRefusedBeforeComputeWithAndWithoutTruncation) {
  v1::PredictMaskRequest r;
  r.add_inputs(Repeat(" <mask>", 600));
  const double computed = ComputedTokens(server_->metrics_port());
  ExpectError(client_->PredictMask(r).status(), absl::StatusCode::kInvalidArgument,
              "inputs[0]: input has 602 tokens, more than max_input_tokens=512");
  // Truncated to 512 tokens the input still holds 510 masks.
  r.set_truncation(v1::TRUNCATION_RIGHT);
  ExpectError(client_->PredictMask(r).status(), absl::StatusCode::kInvalidArgument,
              "inputs[0]: 510 <mask> tokens, more than max_masks_per_input=128");
  EXPECT_EQ(ComputedTokens(server_->metrics_port()), computed);
}

TEST_F(BadInputTest, GigabyteAnswersAreRefusedBeforeCompute) {
  const int64_t rss_before = server_->PeakRssBytes();
  const double computed = ComputedTokens(server_->metrics_port());
  // 8 inputs x 100 masks x top_k 1000: 800,000 candidates, each with its
  // filled-in text, a multi-gigabyte answer from a 6 KB request.
  v1::PredictMaskRequest many;
  for (int i = 0; i < 8; ++i) many.add_inputs(Repeat(" <mask>", 100));
  many.set_top_k(1000);
  ExpectError(client_->PredictMask(many).status(), absl::StatusCode::kInvalidArgument,
              "inputs: 800 <mask> tokens x top_k=1000 = 800000 candidates, more than "
              "max_mask_predictions=20000");
  // Within the candidate cap (20 x 1000) but each candidate carries a copy
  // of a ~2 KB input: about 40 MB, over the 4 MiB message limit.
  v1::PredictMaskRequest long_text;
  long_text.add_inputs(Repeat(" <mask>", 20) + Repeat(" lateral movement", 230));
  long_text.set_top_k(1000);
  ExpectError(client_->PredictMask(long_text).status(), absl::StatusCode::kInvalidArgument,
              "more than the server's max_message_bytes=" + std::to_string(kMaxMessageBytes));
  EXPECT_EQ(ComputedTokens(server_->metrics_port()), computed);
  EXPECT_LT(server_->PeakRssBytes() - rss_before, int64_t{64} << 20);
  // Without the copies the same request is a small answer.
  long_text.set_omit_sequence(true);
  auto resp = client_->PredictMask(long_text);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->results(0).masks_size(), 20);
  EXPECT_EQ(resp->results(0).masks(19).predictions_size(), 1000);
}

TEST_F(BadInputTest, UnknownEnumNumbersAreInvalidArgumentNamingTheField) {
  v1::EmbedRequest pooling;
  pooling.add_inputs("text");
  pooling.set_pooling(static_cast<v1::Pooling>(7));
  ExpectError(client_->Embed(pooling).status(), absl::StatusCode::kInvalidArgument,
              "pooling: unknown value 7; use POOLING_NONE, POOLING_CLS or POOLING_MEAN");
  const char kTruncation[] =
      "truncation: unknown value 9; use TRUNCATION_NONE, TRUNCATION_RIGHT, TRUNCATION_LEFT or "
      "TRUNCATION_WINDOW";
  v1::EmbedRequest e;
  e.add_inputs("text");
  e.set_truncation(static_cast<v1::Truncation>(9));
  ExpectError(client_->Embed(e).status(), absl::StatusCode::kInvalidArgument, kTruncation);
  v1::PredictMaskRequest p;
  p.add_inputs("a <mask>");
  p.set_truncation(static_cast<v1::Truncation>(9));
  ExpectError(client_->PredictMask(p).status(), absl::StatusCode::kInvalidArgument, kTruncation);
  v1::TokenizeRequest t;
  t.add_inputs("text");
  t.set_truncation(static_cast<v1::Truncation>(9));
  ExpectError(client_->Tokenize(t).status(), absl::StatusCode::kInvalidArgument, kTruncation);
}

}  // namespace
}  // namespace securebert::testing
