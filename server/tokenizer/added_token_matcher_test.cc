#include "tokenizer/added_token_matcher.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::tokenizer {
namespace {

using ::testing::ElementsAre;

constexpr int32_t kBos = 0;
constexpr int32_t kEos = 2;
constexpr int32_t kMask = 50264;

AddedTokenMatcher RobertaMatcher() {
  return AddedTokenMatcher({{"<s>", kBos}, {"</s>", kEos}, {"<mask>", kMask, /*lstrip=*/true}});
}

// "id:text" per piece, "-" for plain text.
std::vector<std::string> Describe(const AddedTokenMatcher& matcher, std::string_view text) {
  std::vector<TextSplit> splits;
  matcher.Split(text, &splits);
  std::vector<std::string> out;
  for (const TextSplit& s : splits) {
    out.push_back((s.id < 0 ? std::string("-") : std::to_string(s.id)) + ":" +
                  std::string(text.substr(s.start, s.end - s.start)));
  }
  return out;
}

TEST(AddedTokenMatcherTest, SplitsOutAddedTokens) {
  const AddedTokenMatcher m = RobertaMatcher();
  EXPECT_THAT(Describe(m, "Tags</s><s>glued"), ElementsAre("-:Tags", "2:</s>", "0:<s>", "-:glued"));
  EXPECT_THAT(Describe(m, "no specials < here >"), ElementsAre("-:no specials < here >"));
  EXPECT_THAT(Describe(m, "<s"), ElementsAre("-:<s"));
  EXPECT_TRUE(Describe(m, "").empty());
}

TEST(AddedTokenMatcherTest, MaskAbsorbsWhitespaceBeforeIt) {
  const AddedTokenMatcher m = RobertaMatcher();
  EXPECT_THAT(Describe(m, "a  <mask> b"), ElementsAre("-:a", "50264:  <mask>", "-: b"));
  EXPECT_THAT(Describe(m, "\t\xC2\xA0\xE3\x80\x80<mask>"),
              ElementsAre("50264:\t\xC2\xA0\xE3\x80\x80<mask>"));
  // U+001F and U+200B are not White_Space: they stay in the text.
  EXPECT_THAT(Describe(m, "x\x1f <mask>"), ElementsAre("-:x\x1f", "50264: <mask>"));
  EXPECT_THAT(Describe(m, "x\xE2\x80\x8B<mask>"), ElementsAre("-:x\xE2\x80\x8B", "50264:<mask>"));
  // Never into the previous match.
  EXPECT_THAT(Describe(m, "<s> <mask> <mask>"),
              ElementsAre("0:<s>", "50264: <mask>", "50264: <mask>"));
}

TEST(AddedTokenMatcherTest, LeftmostLongestMatchWins) {
  const AddedTokenMatcher m({{"<a>", 1}, {"<a>b", 2}, {"a>", 3}});
  EXPECT_THAT(Describe(m, "x<a>bc<a>"), ElementsAre("-:x", "2:<a>b", "-:c", "1:<a>"));
}

TEST(AddedTokenMatcherTest, RstripAbsorbsWhitespaceAfter) {
  AddedTokenRule rule{"[X]", 7};
  rule.rstrip = true;
  const AddedTokenMatcher m({rule});
  EXPECT_THAT(Describe(m, "a[X]  b"), ElementsAre("-:a", "7:[X]  ", "-:b"));
}

TEST(AddedTokenMatcherTest, SingleWordNeedsNonWordNeighbours) {
  AddedTokenRule rule{"tok", 9};
  rule.single_word = true;
  const AddedTokenMatcher m({rule});
  EXPECT_THAT(Describe(m, "a tok, tokens"), ElementsAre("-:a ", "9:tok", "-:, tokens"));
  EXPECT_THAT(Describe(m, "atok"), ElementsAre("-:atok"));
}

TEST(AddedTokenMatcherTest, NormalizedTokensMatchBetweenRawOnes) {
  AddedTokenRule normalized{"ab", 5};
  normalized.normalized = true;
  const AddedTokenMatcher m({{"<s>", kBos}, normalized});
  EXPECT_THAT(Describe(m, "xab<s>ab"), ElementsAre("-:x", "5:ab", "0:<s>", "5:ab"));
}

}  // namespace
}  // namespace securebert::tokenizer
