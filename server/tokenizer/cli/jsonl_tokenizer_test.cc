#include "tokenizer/cli/jsonl_tokenizer.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tokenizer/testing/test_data.h"

namespace securebert::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

nlohmann::json Process(const JsonlTokenizer& jsonl, const std::string& line) {
  const std::string output = jsonl.ProcessLine(line);
  EXPECT_EQ(output.find('\n'), std::string::npos);
  return nlohmann::json::parse(output);
}

TEST(JsonlTokenizerTest, WritesTextIdsTokensAndOffsets) {
  const JsonlTokenizer jsonl(&testing::TestTokenizer(), EncodeOptions{});
  const std::string line = jsonl.ProcessLine(R"({"text": "Hello world <mask>"})");
  EXPECT_EQ(line, R"({"text":"Hello world <mask>","ids":[0,31414,232,50264,2],)"
                  R"("tokens":["<s>","Hello","Ġworld"," <mask>","</s>"],)"
                  R"("offsets":[[0,0],[0,5],[5,11],[11,18],[0,0]]})");
}

TEST(JsonlTokenizerTest, BadLinesGetAnErrorObject) {
  const JsonlTokenizer jsonl(&testing::TestTokenizer(), EncodeOptions{});
  for (const std::string& line :
       {std::string("not json"), std::string(R"({"txt": "a"})"), std::string(R"({"text": 5})"),
        std::string("[1, 2]"), std::string(""), std::string("{\"text\": \"\xFF\"}"),
        std::string(R"({"text": "\ud800"})")}) {
    const nlohmann::json output = Process(jsonl, line);
    EXPECT_TRUE(output.contains("error")) << line << " -> " << output.dump();
    EXPECT_FALSE(output.contains("ids")) << line;
  }
}

TEST(JsonlTokenizerTest, ReportsTruncationAndLengthErrors) {
  EncodeOptions cut;
  cut.truncation = Truncation::kRight;
  cut.max_tokens = 3;
  const nlohmann::json truncated =
      Process(JsonlTokenizer(&testing::TestTokenizer(), cut), R"({"text": "one two three"})");
  EXPECT_EQ(truncated["truncated"], true);
  EXPECT_THAT(truncated["ids"].get<std::vector<int>>(), ElementsAre(0, 1264, 2));

  EncodeOptions strict;
  strict.max_tokens = 3;
  const nlohmann::json error =
      Process(JsonlTokenizer(&testing::TestTokenizer(), strict), R"({"text": "one two three"})");
  EXPECT_THAT(error["error"].get<std::string>(), HasSubstr("max_input_tokens=3"));
}

}  // namespace
}  // namespace securebert::tokenizer
