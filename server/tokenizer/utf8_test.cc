#include "tokenizer/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace securebert::tokenizer {
namespace {

TEST(FindInvalidUtf8Test, AcceptsValidText) {
  for (const std::string& text :
       {std::string(), std::string("plain ascii that is longer than eight bytes"),
        std::string("caf\xC3\xA9"), std::string("\xE2\x82\xAC euro"),
        std::string("\xF0\x9F\x94\xA5 fire"), std::string("\xF4\x8F\xBF\xBF"),
        std::string("nul\0byte", 8)}) {
    EXPECT_EQ(FindInvalidUtf8(text), text.size()) << text;
  }
}

TEST(FindInvalidUtf8Test, ReportsTheFirstBadSequence) {
  struct Case {
    std::string text;
    size_t offset;
  };
  const Case cases[] = {
      {"\xFF", 0},
      {"abc\x80", 3},              // stray continuation byte
      {"ab\xC0\x80", 2},           // overlong NUL
      {"\xE0\x80\xAF", 0},         // overlong 3-byte form
      {"x\xED\xA0\x80", 1},        // UTF-16 surrogate
      {"\xF4\x90\x80\x80", 0},     // above U+10FFFF
      {"0123456789\xE2\x82", 10},  // truncated at the end
      {"\xC3\xA9\xC3", 2},         // truncated 2-byte form
      {"12345678\xF8\x88\x80\x80\x80", 8},
  };
  for (const Case& c : cases) EXPECT_EQ(FindInvalidUtf8(c.text), c.offset) << c.text;
}

TEST(AppendUtf8LossyTest, ReplacesMaximalSubpartsLikeRust) {
  struct Case {
    std::string bytes;
    std::string text;
  };
  const Case cases[] = {
      {"Hello \xF0\x90\x80World", "Hello \xEF\xBF\xBDWorld"},  // one per truncated form
      {"\xE0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD"},                // E0 80: two subparts
      {"a\xF0\x9F\x98", "a\xEF\xBF\xBD"},                      // truncated at the end
      {"\xFF\xFE", "\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"ok \xC3\xA9", "ok \xC3\xA9"},                            // valid: unchanged
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // surrogate: 3
  };
  for (const Case& c : cases) {
    std::string out = "prefix:";
    AppendUtf8Lossy(c.bytes, &out);
    EXPECT_EQ(out, "prefix:" + c.text) << c.bytes;
    EXPECT_EQ(FindInvalidUtf8(out), out.size());
  }
}

TEST(Utf8CodecTest, EncodesAndDecodesEveryLength) {
  for (const uint32_t code_point : {0x24u, 0xE9u, 0x20ACu, 0xFFFDu, 0x1F525u, 0x10FFFFu}) {
    std::string encoded;
    AppendUtf8(code_point, &encoded);
    size_t length = 0;
    EXPECT_EQ(DecodeUtf8At(encoded, 0, &length), code_point);
    EXPECT_EQ(length, encoded.size());
    EXPECT_EQ(FindInvalidUtf8(encoded), encoded.size());
    EXPECT_EQ(PreviousCharStart("ab" + encoded, 2 + encoded.size()), 2u);
  }
}

}  // namespace
}  // namespace securebert::tokenizer
