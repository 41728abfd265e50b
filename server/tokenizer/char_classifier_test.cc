#include "tokenizer/char_classifier.h"

#include <utf8proc.h>

#include "gtest/gtest.h"

namespace securebert::tokenizer {
namespace {

TEST(CharClassifierTest, ClassifiesLikeOniguruma) {
  const CharClassifier& c = CharClassifier::Get();
  struct Case {
    uint32_t code_point;
    CharClass cls;
  };
  const Case cases[] = {
      {'a', CharClass::kLetter},        {'Z', CharClass::kLetter},
      {'7', CharClass::kNumber},        {' ', CharClass::kWhitespace},
      {'\t', CharClass::kWhitespace},   {'\n', CharClass::kWhitespace},
      {'\v', CharClass::kWhitespace},   {'\f', CharClass::kWhitespace},
      {'\r', CharClass::kWhitespace},   {0x1C, CharClass::kOther},  // not \s
      {'_', CharClass::kOther},         {'\'', CharClass::kOther},
      {0xE9, CharClass::kLetter},    // é
      {0x4E2D, CharClass::kLetter},  // 中
      {0x02B0, CharClass::kLetter},  // modifier letter (Lm)
      {0x0663, CharClass::kNumber},  // Arabic-Indic three (Nd)
      {0x00B2, CharClass::kNumber},  // superscript two (No)
      {0x2167, CharClass::kNumber},  // Roman numeral eight (Nl)
      {0x00A0, CharClass::kWhitespace}, {0x0085, CharClass::kWhitespace},
      {0x2028, CharClass::kWhitespace}, {0x2029, CharClass::kWhitespace},
      {0x3000, CharClass::kWhitespace}, {0x1680, CharClass::kWhitespace},
      {0x200B, CharClass::kOther},    // zero width space is Cf, not \s
      {0x180E, CharClass::kOther},    // no longer a space since Unicode 6.3
      {0x0301, CharClass::kOther},    // combining acute (Mn)
      {0x1F525, CharClass::kOther},   // emoji (So)
      {0xE000, CharClass::kOther},    // private use
      {0x10FFFF, CharClass::kOther},  // unassigned
  };
  for (const Case& k : cases) {
    EXPECT_EQ(c.Classify(k.code_point), k.cls) << std::hex << k.code_point;
  }
  RecordProperty("utf8proc_unicode_version", utf8proc_unicode_version());
}

TEST(CharClassifierTest, PythonSpaceIncludesInformationSeparators) {
  const CharClassifier& c = CharClassifier::Get();
  for (const uint32_t space : {0x20u, 0x09u, 0x0Au, 0x1Cu, 0x1Fu, 0x85u, 0xA0u, 0x3000u}) {
    EXPECT_TRUE(c.IsPythonSpace(space)) << std::hex << space;
  }
  for (const uint32_t other : {0x41u, 0x200Bu, 0x5Fu, 0x1F525u}) {
    EXPECT_FALSE(c.IsPythonSpace(other)) << std::hex << other;
  }
}

TEST(CharClassifierTest, WordCharsAreLettersMarksDigitsAndConnectors) {
  const CharClassifier& c = CharClassifier::Get();
  for (const uint32_t word : {0x61u, 0x5Fu, 0x35u, 0x0301u, 0x4E2Du, 0x200Du}) {
    EXPECT_TRUE(c.IsWordChar(word)) << std::hex << word;
  }
  for (const uint32_t other : {0x2Du, 0x20u, 0x3Cu, 0x1F525u}) {
    EXPECT_FALSE(c.IsWordChar(other)) << std::hex << other;
  }
}

}  // namespace
}  // namespace securebert::tokenizer
