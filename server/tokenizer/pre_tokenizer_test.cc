#include "tokenizer/pre_tokenizer.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::tokenizer {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Pieces(std::string_view text) {
  std::vector<std::string> pieces;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = PreTokenizer::PieceEnd(text, pos);
    EXPECT_GT(end, pos);
    pieces.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

TEST(PreTokenizerTest, SplitsWordsWithTheirLeadingSpace) {
  EXPECT_THAT(
      Pieces("Hello my friend, how is your day going?"),
      ElementsAre("Hello", " my", " friend", ",", " how", " is", " your", " day", " going", "?"));
  EXPECT_THAT(Pieces("Hello there\nHello there"),
              ElementsAre("Hello", " there", "\n", "Hello", " there"));
}

TEST(PreTokenizerTest, WhitespaceRunLeavesItsLastSpaceToTheWord) {
  EXPECT_THAT(Pieces("Hello there       dear"), ElementsAre("Hello", " there", "      ", " dear"));
  EXPECT_THAT(Pieces("a  \tb"), ElementsAre("a", "  ", "\t", "b"));
  EXPECT_THAT(Pieces("a \t b"), ElementsAre("a", " \t", " b"));
  EXPECT_THAT(Pieces("\n\nleading"), ElementsAre("\n", "\n", "leading"));
  EXPECT_THAT(Pieces("x\xC2\xA0y"), ElementsAre("x", "\xC2\xA0", "y"));  // NBSP alone
  EXPECT_THAT(Pieces("x \xE3\x80\x80y"), ElementsAre("x", " ", "\xE3\x80\x80", "y"));
}

TEST(PreTokenizerTest, TrailingAndOnlyWhitespace) {
  EXPECT_THAT(Pieces("end  "), ElementsAre("end", "  "));
  EXPECT_THAT(Pieces("   "), ElementsAre("   "));
  EXPECT_THAT(Pieces(" "), ElementsAre(" "));
  EXPECT_THAT(Pieces("\t\n \r"), ElementsAre("\t\n \r"));
}

TEST(PreTokenizerTest, Contractions) {
  EXPECT_THAT(Pieces("I'm can't we'll they're you've he'd it's"),
              ElementsAre("I", "'m", " can", "'t", " we", "'ll", " they", "'re", " you", "'ve",
                          " he", "'d", " it", "'s"));
  EXPECT_THAT(Pieces("'sx 'S 'x"), ElementsAre("'s", "x", " '", "S", " '", "x"));
  EXPECT_THAT(Pieces("x.'s"), ElementsAre("x", ".'", "s"));  // punctuation run first
  EXPECT_THAT(Pieces("'"), ElementsAre("'"));
  EXPECT_THAT(Pieces("'l"), ElementsAre("'", "l"));
}

TEST(PreTokenizerTest, LettersNumbersAndOthersSeparate) {
  EXPECT_THAT(Pieces("abc123def 456"), ElementsAre("abc", "123", "def", " 456"));
  EXPECT_THAT(Pieces("a.b ...!! x"), ElementsAre("a", ".", "b", " ...!!", " x"));
  EXPECT_THAT(Pieces("CVE-2024-31337:"), ElementsAre("CVE", "-", "2024", "-", "31337", ":"));
  EXPECT_THAT(Pieces("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"),
              ElementsAre("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"));
  EXPECT_THAT(Pieces("e\xCC\x81"), ElementsAre("e", "\xCC\x81"));  // combining mark: not \p{L}
  EXPECT_THAT(Pieces("\xF0\x9F\x94\xA5\xF0\x9F\x94\xA5 x"),
              ElementsAre("\xF0\x9F\x94\xA5\xF0\x9F\x94\xA5", " x"));
  EXPECT_THAT(Pieces("x\xC2\xB2\xD9\xA3"), ElementsAre("x", "\xC2\xB2\xD9\xA3"));  // ²٣
  EXPECT_THAT(Pieces("a\x1c b"), ElementsAre("a", "\x1c", " b"));                  // \x1c is not \s
}

TEST(PreTokenizerTest, PiecesTileRandomText) {
  const std::vector<std::string> alphabet = {"a",
                                             "Z",
                                             "7",
                                             " ",
                                             " ",
                                             "\t",
                                             "\n",
                                             "'",
                                             "s",
                                             "ll",
                                             ".",
                                             "-",
                                             "\xC2\xA0",
                                             "\xC3\xA9",
                                             "\xE2\x80\xA8",
                                             "\xE3\x80\x80",
                                             "\xE6\x97\xA5",
                                             "\xF0\x9F\x94\xA5",
                                             "\xCC\x81",
                                             "\x1c"};
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int length = static_cast<int>(rng() % 24) + 1;
    for (int i = 0; i < length; ++i) text += alphabet[rng() % alphabet.size()];
    std::string joined;
    for (const std::string& piece : Pieces(text)) joined += piece;
    ASSERT_EQ(joined, text);
  }
}

}  // namespace
}  // namespace securebert::tokenizer
