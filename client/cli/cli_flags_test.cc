#include "client/cli/cli_flags.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/flags/reflection.h"

namespace securebert::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class CliFlagsTest : public ::testing::Test {
 protected:
  // Parses `args` as the command line after the program name.
  static absl::StatusOr<CliInvocation> Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "securebert-client");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    return ParseCliCommandLine(static_cast<int>(argv.size()), argv.data());
  }

 private:
  absl::FlagSaver saver_;  // Every test leaves the flags as it found them.
};

TEST_F(CliFlagsTest, ExtractEntitiesFlagsReachTheRequest) {
  absl::StatusOr<CliInvocation> parsed =
      Parse({"extract-entities", "--aggregation", "first", "--threshold=0.25", "--truncation=right",
             "--json", "APT29 used it", "Emotet"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const CliCommand& command = parsed->command;
  EXPECT_EQ(command.subcommand, Subcommand::kExtractEntities);
  EXPECT_THAT(command.args, ElementsAre("APT29 used it", "Emotet"));
  EXPECT_EQ(command.format, OutputFormat::kJson);
  const v1::ExtractEntitiesRequest request =
      MakeExtractEntitiesRequest(command.settings, command.entities, command.args);
  EXPECT_THAT(request.inputs(), ElementsAre("APT29 used it", "Emotet"));
  EXPECT_EQ(request.aggregation(), v1::AGGREGATION_FIRST);
  EXPECT_EQ(request.threshold(), 0.25f);
  EXPECT_EQ(request.truncation(), v1::TRUNCATION_RIGHT);
}

TEST_F(CliFlagsTest, ClassifyTakesTopKAndTruncation) {
  absl::StatusOr<CliInvocation> parsed =
      Parse({"classify", "--top_k=3", "--truncation", "left", "--target=10.0.0.1:9", "text"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->client.channel.target, "10.0.0.1:9");
  const v1::ClassifyRequest request =
      MakeClassifyRequest(parsed->command.settings, parsed->command.args);
  EXPECT_THAT(request.inputs(), ElementsAre("text"));
  EXPECT_EQ(request.top_k(), 3u);
  EXPECT_EQ(request.truncation(), v1::TRUNCATION_LEFT);
}

TEST_F(CliFlagsTest, Defaults) {
  absl::StatusOr<CliInvocation> parsed = Parse({"extract-entities"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->command.args.empty());  // main reads stdin then.
  EXPECT_EQ(parsed->command.entities.aggregation, v1::AGGREGATION_NONE);
  EXPECT_EQ(parsed->command.entities.threshold, 0.0f);
  EXPECT_EQ(parsed->command.settings.top_k, 5u);
  EXPECT_EQ(parsed->command.format, OutputFormat::kText);
  EXPECT_EQ(parsed->client.channel.target, "127.0.0.1:50051");
}

TEST_F(CliFlagsTest, UsageErrorsAreInvalidArgumentNamingTheProblem) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"extract-entities", "--aggregation=bogus", "x"},
       "aggregation must be none, simple, first, average or max, not 'bogus'"},
      {{"extract-entities", "--threshold", "1.5", "x"}, "--threshold must be in [0, 1], not 1.5"},
      {{"extract-entities", "--threshold=-0.1", "x"}, "--threshold must be in [0, 1]"},
      {{"extract-entities", "--threshold=nan", "x"}, "--threshold must be in [0, 1]"},
      {{"extract-entities", "--threshold=high", "x"}, "--threshold=high"},
      {{"classify", "--top_k=0", "x"}, "--top_k must be in 1..1000"},
      {{"classify", "--nosuch", "x"}, "unknown flag --nosuch"},
      {{"classsify", "x"}, "unknown subcommand 'classsify'"},
      {{}, "missing subcommand"},
  };
  for (const Case& c : cases) {
    absl::FlagSaver saver;  // A bad value must not leak into the next case.
    const absl::Status status = Parse(c.args).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(status.message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace securebert::client
