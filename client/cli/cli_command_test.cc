#include "client/cli/cli_command.h"

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "client/testing/fake_server.h"

namespace securebert::client {
namespace {

using ::testing::HasSubstr;

class CliCommandTest : public ::testing::Test {
 protected:
  CliCommandTest() {
    ClientOptions options;
    options.channel.target = server_.target();
    options.retry.max_attempts = 1;
    client_ = *SecureBertClient::Create(options);
  }

  int Run(Subcommand subcommand, std::vector<std::string> args,
          OutputFormat format = OutputFormat::kText) {
    CliCommand command;
    command.subcommand = subcommand;
    command.args = std::move(args);
    command.settings.top_k = 2;
    command.format = format;
    out_.str("");
    err_.str("");
    return RunCliCommand(*client_, command, out_, err_);
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

TEST_F(CliCommandTest, RpcErrorPrintsCodeAndMessage) {
  EXPECT_EQ(Run(Subcommand::kPredictMask, {"no mask here"}), kExitFailure);
  EXPECT_EQ(err_.str(), "error: INVALID_ARGUMENT: inputs[0]: no <mask>\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CliCommandTest, UsageErrors) {
  EXPECT_EQ(Run(Subcommand::kEmbed, {}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("no input texts"));
  EXPECT_EQ(Run(Subcommand::kHealth, {"a", "b"}), kExitUsage);
  EXPECT_FALSE(ParseSubcommand("embedd").ok());
  EXPECT_EQ(ParseSubcommand("predict-mask").value(), Subcommand::kPredictMask);
}

TEST(CliInputTest, ReadLinesSkipsEmptyAndStripsCarriageReturns) {
  std::istringstream in("first\r\n\nsecond line\n");
  EXPECT_THAT(ReadLines(in), ::testing::ElementsAre("first", "second line"));
}

}  // namespace
}  // namespace securebert::client
