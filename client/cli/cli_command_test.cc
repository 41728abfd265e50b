#include "client/cli/cli_command.h"

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "client/testing/fake_server.h"

namespace securebert::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Head = testing::FakeSecureBertService::Head;

class CliCommandTest : public ::testing::Test {
 protected:
  CliCommandTest() {
    ClientOptions options;
    options.channel.target = server_.target();
    options.retry.max_attempts = 1;
    client_ = *SecureBertClient::Create(options);
  }

  // A command of `subcommand` on `args` with top_k 2.
  static CliCommand Command(Subcommand subcommand, std::vector<std::string> args,
                            OutputFormat format = OutputFormat::kText) {
    CliCommand command;
    command.subcommand = subcommand;
    command.args = std::move(args);
    command.settings.top_k = 2;
    command.format = format;
    return command;
  }

  int Run(const CliCommand& command) {
    out_.str("");
    err_.str("");
    return RunCliCommand(*client_, command, out_, err_);
  }

  int Run(Subcommand subcommand, std::vector<std::string> args,
          OutputFormat format = OutputFormat::kText) {
    return Run(Command(subcommand, std::move(args), format));
  }

  testing::FakeServer server_;
  std::unique_ptr<SecureBertClient> client_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CliCommandTest, PredictMaskReadsLikeTheFillMaskPipeline) {
  ASSERT_EQ(Run(Subcommand::kPredictMask, {"the <mask> was exploited"}), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("[0] 'the <mask> was exploited'\n"
                                    " <mask> 1 of 1 (token 2):\n"
                                    "  1. token='cand0'  score=0.5000  sequence='the cand0 "
                                    "was exploited'\n"
                                    "  2. token='cand1'  score=0.3333  sequence='the cand1 "
                                    "was exploited'\n"));
}

TEST_F(CliCommandTest, EmbedTextAndJson) {
  ASSERT_EQ(Run(Subcommand::kEmbed, {"a b"}), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("[0] 'a b'  tokens=4  shape=[4]"));

  ASSERT_EQ(Run(Subcommand::kEmbed, {"a b", "c"}, OutputFormat::kJson), kExitOk);
  const nlohmann::json json = nlohmann::json::parse(out_.str());
  ASSERT_EQ(json["embeddings"].size(), 2u);
  EXPECT_EQ(json["embeddings"][1]["num_tokens"], 3);
}

TEST_F(CliCommandTest, TokenizeInfoAndHealth) {
  ASSERT_EQ(Run(Subcommand::kTokenize, {"hi there"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("4 tokens"));
  EXPECT_THAT(out_.str(), HasSubstr("[3, 8)  'there'"));
  ASSERT_EQ(Run(Subcommand::kInfo, {}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("mask_token:            <mask>"));
  ASSERT_EQ(Run(Subcommand::kHealth, {}), kExitOk);
  EXPECT_EQ(out_.str(), "server: SERVING\n");
  server_.SetServing(false);
  EXPECT_EQ(Run(Subcommand::kHealth, {testing::FakeServer::kServiceName}), kExitFailure);
  EXPECT_EQ(out_.str(), "securebert.v1.SecureBert: NOT_SERVING\n");
}

TEST_F(CliCommandTest, ClassifySendsTopKAndTruncationAndPrintsLabelsBestFirst) {
  server_.service().SetHead(Head::kSequenceClassification);
  CliCommand command = Command(Subcommand::kClassify, {"phish the user", "b"});
  command.settings.truncation = v1::TRUNCATION_LEFT;
  ASSERT_EQ(Run(command), kExitOk) << err_.str();
  const v1::ClassifyRequest sent = server_.service().last_classify_request();
  EXPECT_THAT(sent.inputs(), ElementsAre("phish the user", "b"));
  EXPECT_EQ(sent.top_k(), 2u);
  EXPECT_EQ(sent.truncation(), v1::TRUNCATION_LEFT);
  EXPECT_EQ(out_.str(),
            "[0] 'phish the user'  tokens=5\n"
            "  1. label='malicious'  id=1  score=0.5000\n"
            "  2. label='phishing'  id=2  score=0.3000\n"
            "[1] 'b'  tokens=3\n"
            "  1. label='malicious'  id=1  score=0.5000\n"
            "  2. label='phishing'  id=2  score=0.3000\n"
            "timing: tokenize 0 us, queue 0 us, inference 0 us, batch of 2\n");

  ASSERT_EQ(Run(Subcommand::kClassify, {"a"}, OutputFormat::kJson), kExitOk);
  const nlohmann::json json = nlohmann::json::parse(out_.str());
  ASSERT_EQ(json["results"].size(), 1u);
  EXPECT_EQ(json["results"][0]["labels"][1]["label"], "phishing");
  EXPECT_EQ(json["results"][0]["labels"][1]["id"], 2);
  EXPECT_EQ(json["results"][0]["num_tokens"], 3);
}

TEST_F(CliCommandTest, ExtractEntitiesPerTokenWithoutAggregation) {
  server_.service().SetHead(Head::kTokenClassification);
  ASSERT_EQ(Run(Subcommand::kExtractEntities, {"APT29 used Cobalt Strike", "no entities"}), kExitOk)
      << err_.str();
  const v1::ExtractEntitiesRequest sent = server_.service().last_extract_entities_request();
  EXPECT_EQ(sent.aggregation(), v1::AGGREGATION_NONE);
  EXPECT_EQ(sent.threshold(), 0.0f);
  EXPECT_THAT(sent.inputs(), ElementsAre("APT29 used Cobalt Strike", "no entities"));
  EXPECT_EQ(out_.str(),
            "[0] 'APT29 used Cobalt Strike'  tokens=6\n"
            "  1. label='B-MAL'  score=0.9000  [0, 5)  'APT29'  (token 1)\n"
            "  2. label='B-MAL'  score=0.6000  [11, 17)  'Cobalt'  (token 3)\n"
            "  3. label='I-MAL'  score=0.6000  [18, 24)  'Strike'  (token 4)\n"
            "[1] 'no entities'  tokens=4\n"
            "  (no entities)\n"
            "timing: tokenize 0 us, queue 0 us, inference 0 us, batch of 2\n");
}

TEST_F(CliCommandTest, ExtractEntitiesSendsAggregationAndThreshold) {
  server_.service().SetHead(Head::kTokenClassification);
  CliCommand command =
      Command(Subcommand::kExtractEntities, {"APT29 used Cobalt Strike and Emotet"});
  command.entities.aggregation = v1::AGGREGATION_SIMPLE;
  command.entities.threshold = 0.61f;
  command.settings.truncation = v1::TRUNCATION_RIGHT;
  ASSERT_EQ(Run(command), kExitOk) << err_.str();
  const v1::ExtractEntitiesRequest sent = server_.service().last_extract_entities_request();
  EXPECT_EQ(sent.aggregation(), v1::AGGREGATION_SIMPLE);
  EXPECT_FLOAT_EQ(sent.threshold(), 0.61f);
  EXPECT_EQ(sent.truncation(), v1::TRUNCATION_RIGHT);
  // "Cobalt Strike" and "Emotet" score 0.6: under the threshold.
  EXPECT_THAT(out_.str(), HasSubstr("[0] 'APT29 used Cobalt Strike and Emotet'  tokens=8\n"
                                    "  1. label='MAL'  score=0.9000  [0, 5)  'APT29'\n"
                                    "timing:"));

  command.entities.threshold = 0.0f;
  command.format = OutputFormat::kJson;
  ASSERT_EQ(Run(command), kExitOk) << err_.str();
  const nlohmann::json json = nlohmann::json::parse(out_.str());
  const nlohmann::json& entities = json["results"][0]["entities"];
  ASSERT_EQ(entities.size(), 3u);
  EXPECT_EQ(entities[1]["text"], "Cobalt Strike");
  EXPECT_EQ(entities[1]["label"], "MAL");
  EXPECT_EQ(entities[1]["start"], 11);
  EXPECT_EQ(entities[1]["end"], 24);
}

TEST_F(CliCommandTest, MissingHeadIsReportedLikeOtherErrors) {
  EXPECT_EQ(Run(Subcommand::kClassify, {"some text"}), kExitFailure);
  EXPECT_EQ(err_.str(),
            "error: FAILED_PRECONDITION: this model (fake/securebert) has no "
            "sequence-classification head, which Classify needs; GetModelInfo.capabilities "
            "lists what it can serve\n");
  EXPECT_EQ(out_.str(), "");
  server_.service().SetHead(Head::kSequenceClassification);
  EXPECT_EQ(Run(Subcommand::kExtractEntities, {"APT29"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("error: FAILED_PRECONDITION: this model (fake/securebert) "
                                    "has no token-classification head, which ExtractEntities"));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CliCommandTest, InfoShowsCapabilitiesHeadAndLabels) {
  ASSERT_EQ(Run(Subcommand::kInfo, {}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("capabilities:          embed, predict_mask\n"
                                    "head:                  (none)\n"
                                    "labels:                (none)\n"));
  server_.service().SetHead(Head::kSequenceClassification);
  ASSERT_EQ(Run(Subcommand::kInfo, {}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("capabilities:          embed, predict_mask, classify\n"
                                    "head:                  sequence_classification\n"
                                    "multi_label:           false\n"
                                    "labels:                benign, malicious, phishing\n"));
  server_.service().SetHead(Head::kTokenClassification);
  ASSERT_EQ(Run(Subcommand::kInfo, {}, OutputFormat::kJson), kExitOk);
  const nlohmann::json json = nlohmann::json::parse(out_.str());
  EXPECT_EQ(json["head"], "token_classification");
  EXPECT_EQ(json["labels"], nlohmann::json::array({"O", "B-MAL", "I-MAL"}));
  EXPECT_EQ(json["capabilities"][2], "extract_entities");
  EXPECT_EQ(json["multi_label"], false);
}

TEST_F(CliCommandTest, RpcErrorPrintsCodeAndMessage) {
  EXPECT_EQ(Run(Subcommand::kPredictMask, {"no mask here"}), kExitFailure);
  EXPECT_EQ(err_.str(), "error: INVALID_ARGUMENT: inputs[0]: no <mask>\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CliCommandTest, UsageErrors) {
  EXPECT_EQ(Run(Subcommand::kEmbed, {}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("no input texts"));
  EXPECT_EQ(Run(Subcommand::kClassify, {}), kExitUsage);
  EXPECT_EQ(Run(Subcommand::kExtractEntities, {}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("no input texts"));
  EXPECT_EQ(server_.service().calls(), 0);
  EXPECT_EQ(Run(Subcommand::kHealth, {"a", "b"}), kExitUsage);
  EXPECT_FALSE(ParseSubcommand("embedd").ok());
  EXPECT_EQ(ParseSubcommand("predict-mask").value(), Subcommand::kPredictMask);
  EXPECT_EQ(ParseSubcommand("classify").value(), Subcommand::kClassify);
  EXPECT_EQ(ParseSubcommand("extract-entities").value(), Subcommand::kExtractEntities);
  EXPECT_THAT(ParseSubcommand("ner").status().message(), HasSubstr("classify, extract-entities"));
  EXPECT_TRUE(TakesTexts(Subcommand::kClassify));
  EXPECT_TRUE(TakesTexts(Subcommand::kExtractEntities));
  EXPECT_FALSE(TakesTexts(Subcommand::kInfo));
}

TEST(TaskRequestsTest, ParseAggregationNamesTheChoices) {
  EXPECT_EQ(ParseAggregation("none").value(), v1::AGGREGATION_NONE);
  EXPECT_EQ(ParseAggregation("simple").value(), v1::AGGREGATION_SIMPLE);
  EXPECT_EQ(ParseAggregation("first").value(), v1::AGGREGATION_FIRST);
  EXPECT_EQ(ParseAggregation("average").value(), v1::AGGREGATION_AVERAGE);
  EXPECT_EQ(ParseAggregation("max").value(), v1::AGGREGATION_MAX);
  const absl::Status bad = ParseAggregation("SIMPLE").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "aggregation must be none, simple, first, average or max, not 'SIMPLE'");
}

TEST(CliInputTest, ReadLinesSkipsEmptyAndStripsCarriageReturns) {
  std::istringstream in("first\r\n\nsecond line\n");
  EXPECT_THAT(ReadLines(in), ::testing::ElementsAre("first", "second line"));
}

}  // namespace
}  // namespace securebert::client
