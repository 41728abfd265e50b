#include "client/load/text_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace securebert::client {
namespace {

std::vector<std::string> Draw(const CyberTextGenerator::Options& options, int count) {
  CyberTextGenerator generator(options);
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) texts.push_back(generator.Next());
  return texts;
}

TEST(CyberTextGeneratorTest, SameSeedSameTexts) {
  CyberTextGenerator::Options options;
  EXPECT_EQ(Draw(options, 50), Draw(options, 50));
  CyberTextGenerator::Options other = options;
  other.seed = 2;
  EXPECT_NE(Draw(options, 50), Draw(other, 50));
}

TEST(CyberTextGeneratorTest, LengthsSpreadOverTheRange) {
  CyberTextGenerator::Options options;  // 8..256 estimated tokens.
  int shortest = 1 << 20;
  int longest = 0;
  for (const std::string& text : Draw(options, 300)) {
    const int tokens = CyberTextGenerator::EstimateTokens(text);
    // A text stops before the word that would pass its target, so it may
    // fall short of the target by less than one word.
    EXPECT_LE(tokens, options.max_tokens) << text;
    EXPECT_GE(tokens, options.min_tokens - 7) << text;
    shortest = std::min(shortest, tokens);
    longest = std::max(longest, tokens);
  }
  EXPECT_LT(shortest, 32);
  EXPECT_GT(longest, 200);
}

TEST(CyberTextGeneratorTest, FixedLength) {
  CyberTextGenerator::Options options;
  options.min_tokens = 64;
  options.max_tokens = 64;
  for (const std::string& text : Draw(options, 20)) {
    const int tokens = CyberTextGenerator::EstimateTokens(text);
    EXPECT_GE(tokens, 57);
    EXPECT_LE(tokens, 64);
  }
}

TEST(CyberTextGeneratorTest, MaskInsertedOncePerText) {
  CyberTextGenerator::Options options;
  options.insert_mask = true;
  for (const std::string& text : Draw(options, 50)) {
    const size_t first = text.find("<mask>");
    ASSERT_NE(first, std::string::npos) << text;
    EXPECT_EQ(text.find("<mask>", first + 1), std::string::npos) << text;
  }
}

TEST(CyberTextGeneratorTest, WordTokenEstimates) {
  EXPECT_EQ(CyberTextGenerator::EstimateWordTokens("the"), 1);
  EXPECT_EQ(CyberTextGenerator::EstimateWordTokens("exfiltrate"), 2);
  EXPECT_EQ(CyberTextGenerator::EstimateWordTokens("CVE-2021-44228"), 7);
  EXPECT_EQ(CyberTextGenerator::EstimateWordTokens("<mask>"), 1);
  EXPECT_EQ(CyberTextGenerator::EstimateTokens("the <mask> server"), 5);
}

}  // namespace
}  // namespace securebert::client
