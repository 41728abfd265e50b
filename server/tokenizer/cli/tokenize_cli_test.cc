// Runs the built securebert-tokenize binary on a few JSONL lines.
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tokenizer/testing/test_data.h"

namespace securebert::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

RunResult RunCli(const std::string& args, const std::string& input) {
  const std::string input_path = testing::WriteTempFile("input.jsonl", input);
  const std::string command =
      absl::StrCat(SECUREBERT_TOKENIZE_BIN, " ", args, " < ", input_path, " 2>&1");
  RunResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string VocabArgs() {
  return absl::StrCat("--vocab ", testing::VocabPath(), " --merges ", testing::MergesPath());
}

TEST(TokenizeCliTest, OneOutputLinePerInputLine) {
  const RunResult run = RunCli(VocabArgs(),
                               "{\"text\": \"Hello world\"}\n"
                               "not json\n"
                               "{\"text\": \"bad \\udc00 surrogate\"}\n"
                               "{\"no_text\": 1}\n"
                               "{\"text\": \"A <mask> attack.\"}\n");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<std::string> lines = absl::StrSplit(run.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << run.output;
  const nlohmann::json hello = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(hello["text"], "Hello world");
  EXPECT_THAT(hello["ids"].get<std::vector<int>>(), ElementsAre(0, 31414, 232, 2));
  EXPECT_THAT(hello["tokens"].get<std::vector<std::string>>(),
              ElementsAre("<s>", "Hello", "\xC4\xA0world", "</s>"));
  EXPECT_EQ(hello["offsets"], nlohmann::json::parse("[[0,0],[0,5],[5,11],[0,0]]"));
  for (const int bad : {1, 2, 3}) {
    EXPECT_TRUE(nlohmann::json::parse(lines[bad]).contains("error")) << lines[bad];
  }
  const nlohmann::json mask = nlohmann::json::parse(lines[4]);
  EXPECT_EQ(mask["tokens"][2], " <mask>");
  EXPECT_EQ(mask["offsets"][2], nlohmann::json::parse("[1,8]"));
}

TEST(TokenizeCliTest, TruncationFlags) {
  const RunResult run =
      RunCli(VocabArgs() + " --max_tokens=3 --truncation=left", "{\"text\": \"one two three\"}\n");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json line = nlohmann::json::parse(run.output);
  EXPECT_EQ(line["truncated"], true);
  EXPECT_EQ(line["ids"].size(), 3u);
}

TEST(TokenizeCliTest, BadFlagsFailWithAMessage) {
  RunResult run = RunCli("", "");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("--model_dir"));
  run = RunCli(VocabArgs() + " --truncation=middle", "");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("--truncation"));
  run = RunCli("--model_dir /nonexistent", "");
  EXPECT_NE(run.exit_code, 0);
}

}  // namespace
}  // namespace securebert::tokenizer
