#include "tokenizer/byte_level_alphabet.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace securebert::tokenizer {
namespace {

TEST(ByteLevelAlphabetTest, MapsBytesLikeGpt2) {
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::Get();
  EXPECT_EQ(alphabet.CharOf(' '), "\xC4\xA0");   // Ġ U+0120
  EXPECT_EQ(alphabet.CharOf('\n'), "\xC4\x8A");  // Ċ U+010A
  EXPECT_EQ(alphabet.CharOf(0x00), "\xC4\x80");  // Ā U+0100
  EXPECT_EQ(alphabet.CharOf(0xAD), "\xC5\x83");  // Ń U+0143, the last shifted byte
  EXPECT_EQ(alphabet.CharOf('a'), "a");
  EXPECT_EQ(alphabet.CharOf(0xE9), "\xC3\xA9");  // é stands for itself
  std::set<std::string> distinct;
  for (int b = 0; b < 256; ++b) distinct.emplace(alphabet.CharOf(static_cast<uint8_t>(b)));
  EXPECT_EQ(distinct.size(), 256u);
}

TEST(ByteLevelAlphabetTest, SpellingRoundTripsEveryByte) {
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::Get();
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string spelled;
  alphabet.AppendSpelling(all, &spelled);
  std::string bytes;
  ASSERT_TRUE(alphabet.ToBytes(spelled, &bytes));
  EXPECT_EQ(bytes, all);
}

TEST(ByteLevelAlphabetTest, RefusesCharactersOutsideTheAlphabet) {
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::Get();
  std::string bytes;
  EXPECT_TRUE(alphabet.ToBytes("<s>", &bytes));
  EXPECT_EQ(bytes, "<s>");
  EXPECT_FALSE(alphabet.ToBytes("\xE6\x97\xA5", &bytes));  // 日
  EXPECT_FALSE(alphabet.ToBytes(" ", &bytes));             // a raw space is spelled Ġ
  EXPECT_FALSE(alphabet.ToBytes("\xC4", &bytes));          // invalid UTF-8
}

}  // namespace
}  // namespace securebert::tokenizer
