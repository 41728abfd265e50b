// Parity with Hugging Face's fast RoBERTa tokenizer on every case of
// tests/data/tokenizer/parity.jsonl: ids, tokens, offsets and decode.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/testing/test_data.h"
#include "tokenizer/tokenizer.h"

namespace securebert::tokenizer {
namespace {

using testing::LoadParityCases;
using testing::ParityCase;
using testing::TestTokenizer;

class ParityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cases_ = new std::vector<ParityCase>(LoadParityCases()); }
  static void TearDownTestSuite() { delete cases_; }

  static Encoding MustEncode(const std::string& text) {
    absl::StatusOr<Encoding> encoding = TestTokenizer().Encode(text, EncodeOptions{});
    EXPECT_TRUE(encoding.ok()) << encoding.status();
    return encoding.ok() ? *std::move(encoding) : Encoding{};
  }

  static std::vector<ParityCase>* cases_;
};

std::vector<ParityCase>* ParityTest::cases_ = nullptr;

TEST_F(ParityTest, IdsAndTokensMatchHuggingFace) {
  const Tokenizer& tokenizer = TestTokenizer();
  int mismatches = 0;
  for (const ParityCase& c : *cases_) {
    const Encoding encoding = MustEncode(c.text);
    std::vector<std::string> tokens;
    for (size_t i = 0; i < encoding.ids.size(); ++i) {
      tokens.emplace_back(tokenizer.TokenString(c.text, encoding, i));
    }
    const bool same = encoding.ids == c.ids && tokens == c.tokens;
    if (!same && ++mismatches <= 10) {
      ADD_FAILURE() << "text: " << c.text << "\n  got:  " << absl::StrJoin(tokens, " | ")
                    << "\n  want: " << absl::StrJoin(c.tokens, " | ")
                    << "\n  ids:  " << absl::StrJoin(encoding.ids, ",")
                    << "\n  want: " << absl::StrJoin(c.ids, ",");
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases_->size() << " cases";
}

// The bytes at [start, end) of every token spell the token; added tokens
// found in the text cover their content plus any whitespace they absorbed.
TEST_F(ParityTest, OffsetsSpellTheTokens) {
  const Tokenizer& tokenizer = TestTokenizer();
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::Get();
  for (const ParityCase& c : *cases_) {
    const Encoding encoding = MustEncode(c.text);
    ASSERT_EQ(encoding.offsets.size(), encoding.ids.size());
    EXPECT_EQ(encoding.offsets.front(), std::make_pair(0u, 0u)) << c.text;  // added <s>
    EXPECT_EQ(encoding.offsets.back(), std::make_pair(0u, 0u)) << c.text;   // added </s>
    uint32_t covered = 0;  // the tokens tile the text
    for (size_t i = 1; i + 1 < encoding.ids.size(); ++i) {
      const auto [start, end] = encoding.offsets[i];
      ASSERT_EQ(start, covered) << c.text << " token " << i;
      ASSERT_LE(end, c.text.size());
      const std::string_view span = std::string_view(c.text).substr(start, end - start);
      const std::string_view token = tokenizer.TokenText(encoding.ids[i]);
      if (tokenizer.IsSpecial(encoding.ids[i])) {
        EXPECT_EQ(span.substr(span.size() - std::min(span.size(), token.size())), token)
            << c.text << " token " << i;
      } else {
        std::string spelled;
        alphabet.AppendSpelling(span, &spelled);
        EXPECT_EQ(spelled, token) << c.text << " token " << i;
      }
      covered = end;
    }
    EXPECT_EQ(covered, c.text.size()) << c.text;
  }
}

// Decoding gives the text back, less the whitespace <mask> absorbed.
TEST_F(ParityTest, DecodeRestoresText) {
  const Tokenizer& tokenizer = TestTokenizer();
  for (const ParityCase& c : *cases_) {
    const Encoding encoding = MustEncode(c.text);
    std::string expected;
    for (size_t i = 1; i + 1 < encoding.ids.size(); ++i) {
      const auto [start, end] = encoding.offsets[i];
      const int32_t id = encoding.ids[i];
      expected += id == tokenizer.mask_id() ? std::string(tokenizer.mask_token())
                                            : c.text.substr(start, end - start);
    }
    EXPECT_EQ(tokenizer.Decode(encoding.ids, /*skip_special_tokens=*/false),
              absl::StrCat("<s>", expected, "</s>"));
    if (c.text.find('<') == std::string::npos) {
      EXPECT_EQ(tokenizer.Decode(encoding.ids, /*skip_special_tokens=*/true), c.text);
    }
  }
}

}  // namespace
}  // namespace securebert::tokenizer
