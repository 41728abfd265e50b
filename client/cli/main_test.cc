// build/bin/securebert-client as a user runs it: exit codes and messages of
// main.cc's wiring, against the fake server.
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_command.h"
#include "client/testing/fake_server.h"

namespace securebert::client {
namespace {

using ::testing::HasSubstr;

struct CommandResult {
  // The process's exit status.
  int exit_code = -1;
  // stdout and stderr together.
  std::string output;
};

// Runs securebert-client with `args` (a shell-quoted string), `stdin_line`
// (no quotes in it) and a line end on its stdin.
CommandResult RunClient(const std::string& args, const std::string& stdin_line = "") {
  const std::string command =
      absl::StrCat("printf '%s\\n' '", stdin_line, "' | ", SECUREBERT_BINARY_DIR,
                   "/bin/securebert-client ", args, " 2>&1");
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, read);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

TEST(CliMainTest, UnknownAggregationIsAUsageError) {
  const CommandResult result = RunClient("extract-entities --aggregation=bogus 'APT29 x'");
  EXPECT_EQ(result.exit_code, kExitUsage) << result.output;
  EXPECT_THAT(result.output,
              HasSubstr("error: aggregation must be none, simple, first, average or max, not "
                        "'bogus'\nRun with --help for usage.\n"));
}

TEST(CliMainTest, MissingHeadFailsWithTheServersStatus) {
  testing::FakeServer server;
  const std::string target = absl::StrCat("--target=", server.target(), " ");
  CommandResult result = RunClient(absl::StrCat("classify ", target, "'some text'"));
  EXPECT_EQ(result.exit_code, kExitFailure) << result.output;
  EXPECT_THAT(result.output, HasSubstr("error: FAILED_PRECONDITION: this model (fake/securebert) "
                                       "has no sequence-classification head"));

  server.service().SetHead(testing::FakeSecureBertService::Head::kSequenceClassification);
  result = RunClient(absl::StrCat("classify --top_k=1 ", target, "'some text'"));
  EXPECT_EQ(result.exit_code, kExitOk) << result.output;
  EXPECT_THAT(result.output, HasSubstr("[0] 'some text'  tokens=4\n"
                                       "  1. label='malicious'  id=1  score=0.5000\n"
                                       "timing:"));
  EXPECT_EQ(server.service().last_classify_request().top_k(), 1u);
}

TEST(CliMainTest, ExtractEntitiesReadsStdin) {
  testing::FakeServer server;
  server.service().SetHead(testing::FakeSecureBertService::Head::kTokenClassification);
  const std::string args =
      absl::StrCat("extract-entities --aggregation max --threshold 0.5 --target=", server.target());
  const CommandResult empty = RunClient(args);
  EXPECT_EQ(empty.exit_code, kExitUsage) << empty.output;
  EXPECT_THAT(empty.output, HasSubstr("no input texts"));
  const CommandResult piped = RunClient(args, "then Emotet ran");
  EXPECT_EQ(piped.exit_code, kExitOk) << piped.output;
  EXPECT_THAT(piped.output, HasSubstr("  1. label='MAL'  score=0.6000  [5, 11)  'Emotet'\n"));
  const v1::ExtractEntitiesRequest sent = server.service().last_extract_entities_request();
  EXPECT_EQ(sent.aggregation(), v1::AGGREGATION_MAX);
  EXPECT_EQ(sent.threshold(), 0.5f);
}

}  // namespace
}  // namespace securebert::client
