// Tokenizer behaviour beyond the parity cases: empty and whitespace input,
// invalid UTF-8, truncation, very long input, decode helpers, threads.
#include "tokenizer/tokenizer.h"

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tokenizer/testing/test_data.h"

namespace securebert::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestTokenizer;

constexpr int32_t kBos = 0;
constexpr int32_t kPad = 1;
constexpr int32_t kEos = 2;
constexpr int32_t kMask = 50264;
constexpr int32_t kThe = 5;  // "Ġthe"

EncodeOptions Options(Truncation truncation, size_t max_tokens) {
  EncodeOptions options;
  options.truncation = truncation;
  options.max_tokens = max_tokens;
  return options;
}

EncodeOptions WithoutSpecialTokens(EncodeOptions options = {}) {
  options.add_special_tokens = false;
  return options;
}

Encoding MustEncode(std::string_view text, const EncodeOptions& options = {}) {
  absl::StatusOr<Encoding> encoding = TestTokenizer().Encode(text, options);
  EXPECT_TRUE(encoding.ok()) << encoding.status();
  return encoding.ok() ? *std::move(encoding) : Encoding{};
}

// Concatenates the text under each non-special token's offsets.
std::string Covered(std::string_view text, const Encoding& encoding) {
  std::string covered;
  for (const auto& [start, end] : encoding.offsets) covered += text.substr(start, end - start);
  return covered;
}

TEST(TokenizerTest, SpecialIdsAndVocabulary) {
  const Tokenizer& t = TestTokenizer();
  EXPECT_EQ(t.bos_id(), kBos);
  EXPECT_EQ(t.pad_id(), kPad);
  EXPECT_EQ(t.eos_id(), kEos);
  EXPECT_EQ(t.unk_id(), 3);
  EXPECT_EQ(t.mask_id(), kMask);
  EXPECT_EQ(t.mask_token(), "<mask>");
  EXPECT_EQ(t.vocab_size(), 50265u);
  EXPECT_EQ(t.model_max_length(), 0u);  // no tokenizer_config.json
  EXPECT_EQ(t.TokenText(kThe), "\xC4\xA0the");
  EXPECT_EQ(t.TokenText(kMask), "<mask>");
  EXPECT_EQ(t.TokenText(50262), "");  // a gap in the ids
  EXPECT_EQ(t.TokenText(-1), "");
  EXPECT_EQ(t.TokenText(99999), "");
  EXPECT_TRUE(t.IsSpecial(kMask));
  EXPECT_FALSE(t.IsSpecial(kThe));
}

TEST(TokenizerTest, EmptyAndWhitespaceOnlyInput) {
  Encoding empty = MustEncode("");
  EXPECT_THAT(empty.ids, ElementsAre(kBos, kEos));
  EXPECT_THAT(empty.offsets, ElementsAre(std::make_pair(0u, 0u), std::make_pair(0u, 0u)));
  EXPECT_THAT(MustEncode("", WithoutSpecialTokens()).ids, ElementsAre());

  for (const std::string_view text : {" ", "   ", "\t\n", " \xC2\xA0 \xE3\x80\x80\r\n"}) {
    const Encoding encoding = MustEncode(text);
    EXPECT_GT(encoding.ids.size(), 2u) << text;
    EXPECT_EQ(Covered(text, encoding), text);
    EXPECT_EQ(TestTokenizer().Decode(encoding.ids, /*skip_special_tokens=*/true), text);
  }
}

TEST(TokenizerTest, RejectsInvalidUtf8SayingWhere) {
  absl::StatusOr<Encoding> encoding = TestTokenizer().Encode(
      "abc\xFF"
      "def",
      EncodeOptions{});
  ASSERT_EQ(encoding.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(encoding.status().message()), HasSubstr("UTF-8"));
  EXPECT_THAT(std::string(encoding.status().message()), HasSubstr("byte offset 3"));
  EXPECT_FALSE(TestTokenizer().Encode("\xED\xA0\x80", EncodeOptions{}).ok());  // surrogate
  EXPECT_FALSE(TestTokenizer().Encode("ok \xE2\x82", EncodeOptions{}).ok());   // truncated
}

TEST(TokenizerTest, TruncationKeepsSpecialTokensOnBothSides) {
  const std::string text = "one two three four five six seven";  // 7 tokens
  const Encoding full = MustEncode(text);
  ASSERT_EQ(full.ids.size(), 9u);

  const Encoding right = MustEncode(text, Options(Truncation::kRight, 5));
  EXPECT_TRUE(right.truncated);
  EXPECT_THAT(right.ids, ElementsAre(kBos, full.ids[1], full.ids[2], full.ids[3], kEos));
  EXPECT_EQ(right.offsets[3], full.offsets[3]);
  EXPECT_EQ(right.offsets[4], std::make_pair(0u, 0u));

  const Encoding left = MustEncode(text, Options(Truncation::kLeft, 5));
  EXPECT_TRUE(left.truncated);
  EXPECT_THAT(left.ids, ElementsAre(kBos, full.ids[5], full.ids[6], full.ids[7], kEos));
  EXPECT_EQ(left.offsets[1], full.offsets[5]);

  const Encoding exact = MustEncode(text, Options(Truncation::kRight, 9));
  EXPECT_FALSE(exact.truncated);
  EXPECT_EQ(exact.ids, full.ids);

  const Encoding bare = MustEncode(text, WithoutSpecialTokens(Options(Truncation::kRight, 2)));
  EXPECT_THAT(bare.ids, ElementsAre(full.ids[1], full.ids[2]));

  const Encoding only_specials = MustEncode(text, Options(Truncation::kLeft, 2));
  EXPECT_THAT(only_specials.ids, ElementsAre(kBos, kEos));
}

TEST(TokenizerTest, NoTruncationReportsLengthAndLimit) {
  const Tokenizer& t = TestTokenizer();
  const absl::StatusOr<Encoding> too_long =
      t.Encode("one two three four five six seven", Options(Truncation::kNone, 5));
  ASSERT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(too_long.status().message(), "input has 9 tokens, more than max_input_tokens=5");
  EXPECT_TRUE(t.Encode("one two", Options(Truncation::kNone, 4)).ok());
  EXPECT_EQ(t.Encode("one two", Options(Truncation::kRight, 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TokenizerTest, SpecialTokensInsideText) {
  const Tokenizer& t = TestTokenizer();
  const std::string text = "a <mask> b</s><pad>";
  const Encoding encoding = MustEncode(text);
  ASSERT_EQ(encoding.ids.size(), 7u);
  EXPECT_EQ(encoding.ids[2], kMask);
  EXPECT_EQ(encoding.offsets[2], std::make_pair(1u, 8u));  // " <mask>": the space absorbed
  EXPECT_EQ(t.TokenString(text, encoding, 2), " <mask>");
  EXPECT_EQ(encoding.ids[4], kEos);
  EXPECT_EQ(encoding.ids[5], kPad);
  EXPECT_EQ(t.TokenString(text, encoding, 0), "<s>");
  EXPECT_EQ(t.Decode(encoding.ids, /*skip_special_tokens=*/false), "<s>a<mask> b</s><pad></s>");
  EXPECT_EQ(t.Decode(encoding.ids, /*skip_special_tokens=*/true), "a b");
}

TEST(TokenizerTest, VeryLongInputRoundTrips) {
  std::string text;
  std::mt19937 rng(1);
  const std::vector<std::string> words = {
      "the", " attacker",      " 10.0.0.1", ":",  " \xE6\x97\xA5",
      "\n",  " CVE-2024-1234", " <mask>",   "  ", "\xF0\x9F\x94\xA5"};
  while (text.size() < (1 << 20)) text += words[rng() % words.size()];
  const Encoding encoding = MustEncode(text);
  EXPECT_GT(encoding.ids.size(), 100000u);
  std::string expected;  // the text less the spaces <mask> absorbed
  for (size_t i = 1; i + 1 < encoding.ids.size(); ++i) {
    const auto [start, end] = encoding.offsets[i];
    expected += encoding.ids[i] == kMask ? "<mask>" : text.substr(start, end - start);
  }
  EXPECT_EQ(TestTokenizer().Decode(encoding.ids, /*skip_special_tokens=*/false),
            "<s>" + expected + "</s>");

  // Right truncation stops early and still gives the full encoding's prefix.
  const Encoding cut = MustEncode(text, Options(Truncation::kRight, 512));
  ASSERT_EQ(cut.ids.size(), 512u);
  EXPECT_TRUE(std::equal(cut.ids.begin(), cut.ids.end() - 1, encoding.ids.begin()));
  const Encoding tail = MustEncode(text, Options(Truncation::kLeft, 512));
  EXPECT_TRUE(std::equal(tail.ids.begin() + 1, tail.ids.end(), encoding.ids.end() - 511));
}

TEST(TokenizerTest, WordLongerThanTenThousandBytes) {
  std::string word = " ";
  std::mt19937 rng(2);
  while (word.size() < 12000) word += static_cast<char>('a' + rng() % 26);
  const std::string text = "prefix" + word + " suffix";
  const Encoding encoding = MustEncode(text);
  EXPECT_EQ(Covered(text, encoding), text);
  EXPECT_EQ(TestTokenizer().Decode(encoding.ids, /*skip_special_tokens=*/true), text);
  const Encoding again = MustEncode(text);  // not cached (too long): same ids
  EXPECT_EQ(again.ids, encoding.ids);
}

TEST(TokenizerTest, DecodeReplacesPartialUtf8AndDropsUnknownIds) {
  const Tokenizer& t = TestTokenizer();
  const Encoding fire = MustEncode("\xF0\x9F\x94\xA5", WithoutSpecialTokens());
  ASSERT_GE(fire.ids.size(), 2u);  // the emoji's bytes span several tokens
  EXPECT_EQ(t.Decode({fire.ids[0]}, /*skip_special_tokens=*/false), "\xEF\xBF\xBD");
  EXPECT_EQ(t.Decode(fire.ids, /*skip_special_tokens=*/false), "\xF0\x9F\x94\xA5");
  EXPECT_EQ(t.Decode({kThe, 50262, -5, 999999, kThe}, /*skip_special_tokens=*/false), " the the");
}

TEST(TokenizerTest, DecodeTokenAndFilledSequenceForFillMask) {
  const Tokenizer& t = TestTokenizer();
  EXPECT_EQ(t.DecodeToken(kThe), "the");
  EXPECT_EQ(t.DecodeToken(kMask), "<mask>");
  const Encoding encoding = MustEncode("The attack used <mask>.");
  size_t mask_position = 0;
  while (encoding.ids[mask_position] != kMask) ++mask_position;
  std::vector<int32_t> padded = encoding.ids;
  padded.push_back(kPad);
  const Encoding malware = MustEncode(" malware", WithoutSpecialTokens());
  ASSERT_EQ(malware.ids.size(), 1u);
  EXPECT_EQ(t.DecodeToken(malware.ids[0]), "malware");
  EXPECT_EQ(t.DecodeFilled(padded, mask_position, malware.ids[0], 1), "The attack used malware.");
}

TEST(TokenizerTest, FilledSequenceKeepsSpecialTokensWhenTheInputHasSeveralMasks) {
  // As Hugging Face's fill-mask pipeline: with several masks the sequence is
  // decoded without skipping special tokens, so the other <mask> stays.
  const Tokenizer& t = TestTokenizer();
  const Encoding encoding = MustEncode("The <mask> used <mask>.");
  size_t first = 0;
  while (encoding.ids[first] != kMask) ++first;
  const Encoding malware = MustEncode(" malware", WithoutSpecialTokens());
  EXPECT_EQ(t.DecodeFilled(encoding.ids, first, malware.ids[0], 2),
            "<s>The malware used<mask>.</s>");
}

TEST(TokenizerTest, MaxTokenBytesIsTheLongestDecodedToken) {
  const Tokenizer& t = TestTokenizer();
  size_t longest = 0;
  for (size_t id = 0; id < t.vocab_size(); ++id) {
    const int32_t ids[] = {static_cast<int32_t>(id)};
    longest = std::max(longest, t.Decode(ids, false).size());
  }
  // Decode's U+FFFD may lengthen a partial UTF-8 token; the raw bytes never
  // exceed what max_token_bytes reports.
  EXPECT_GT(t.max_token_bytes(), 8u);
  EXPECT_LE(t.max_token_bytes(), longest);
}

TEST(TokenizerTest, ConcurrentEncodersAgreeWithOneThread) {
  const Tokenizer& t = TestTokenizer();
  const std::vector<testing::ParityCase> cases = testing::LoadParityCases();
  std::vector<std::vector<int32_t>> expected;
  for (const auto& c : cases) expected.push_back(c.ids);
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int thread = 0; thread < 8; ++thread) {
    threads.emplace_back([&, thread] {
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < cases.size(); ++i) {
          const size_t k = (i * 31 + static_cast<size_t>(thread) * 17) % cases.size();
          const absl::StatusOr<Encoding> encoding = t.Encode(cases[k].text, EncodeOptions{});
          if (!encoding.ok() || encoding->ids != expected[k]) ++failures[thread];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(failures, ::testing::Each(0));
}

}  // namespace
}  // namespace securebert::tokenizer
