#include "tokenizer/bpe_model.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/model_files.h"
#include "tokenizer/testing/test_data.h"

namespace securebert::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A vocabulary of the 256 byte symbols (ids 0..255 in byte order) plus `extra`.
absl::flat_hash_map<std::string, int32_t> ByteVocab(const std::vector<std::string>& extra) {
  absl::flat_hash_map<std::string, int32_t> vocab;
  for (int b = 0; b < 256; ++b) {
    vocab[std::string(ByteLevelAlphabet::Get().CharOf(static_cast<uint8_t>(b)))] = b;
  }
  int32_t next = 256;
  for (const std::string& token : extra) vocab[token] = next++;
  return vocab;
}

std::vector<int32_t> Tokenize(const BpeModel& model, std::string_view word,
                              BpeAlgorithm algorithm = BpeAlgorithm::kAuto) {
  std::vector<int32_t> ids;
  model.Tokenize(word, &ids, algorithm);
  return ids;
}

TEST(BpeModelTest, MergesLowestRankFirstAndLeftmostOnTies) {
  auto model = BpeModel::Create(ByteVocab({"ab", "abc", "aa"}),
                                {{"a", "b"}, {"ab", "c"}, {"a", "a"}}, /*ignore_merges=*/false);
  ASSERT_TRUE(model.ok()) << model.status();
  for (const BpeAlgorithm algorithm : {BpeAlgorithm::kScan, BpeAlgorithm::kHeap}) {
    EXPECT_THAT(Tokenize(**model, "abc", algorithm), ElementsAre(257));
    EXPECT_THAT(Tokenize(**model, "abd", algorithm), ElementsAre(256, 'd'));
    EXPECT_THAT(Tokenize(**model, "aaa", algorithm), ElementsAre(258, 'a'));
    EXPECT_THAT(Tokenize(**model, "aaab", algorithm), ElementsAre(258, 256));
  }
  EXPECT_EQ((*model)->WholeWordId("abc"), 257);
  EXPECT_EQ((*model)->WholeWordId("abd"), -1);
  EXPECT_EQ((*model)->Spelling(256), "ab");
  EXPECT_EQ((*model)->Bytes(' '), " ");
  EXPECT_EQ((*model)->Spelling(' '), "\xC4\xA0");
  EXPECT_EQ((*model)->IdOf("aa"), 258);
  EXPECT_EQ((*model)->vocab_size(), 259u);
}

TEST(BpeModelTest, IgnoreMergesTakesVocabularyWordsWhole) {
  // "abc" is in the vocabulary but no merge reaches it.
  auto plain = BpeModel::Create(ByteVocab({"abc"}), {}, /*ignore_merges=*/false);
  auto whole = BpeModel::Create(ByteVocab({"abc"}), {}, /*ignore_merges=*/true);
  ASSERT_TRUE(plain.ok() && whole.ok());
  EXPECT_EQ((*plain)->WholeWordId("abc"), -1);
  EXPECT_EQ((*whole)->WholeWordId("abc"), 256);
}

TEST(BpeModelTest, RejectsInconsistentFiles) {
  auto missing_result = BpeModel::Create(ByteVocab({}), {{"a", "b"}}, false);
  EXPECT_EQ(missing_result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing_result.status().message()),
              HasSubstr("\"ab\" is not in the vocabulary"));

  auto missing_part = BpeModel::Create(ByteVocab({"xyz"}), {{"xy", "z"}}, false);
  EXPECT_THAT(std::string(missing_part.status().message()), HasSubstr("\"xy\""));

  absl::flat_hash_map<std::string, int32_t> no_space = ByteVocab({});
  no_space.erase("\xC4\xA0");
  auto missing_byte = BpeModel::Create(no_space, {}, false);
  EXPECT_THAT(std::string(missing_byte.status().message()), HasSubstr("byte 0x20"));

  absl::flat_hash_map<std::string, int32_t> duplicate = ByteVocab({});
  duplicate["dup"] = 5;
  EXPECT_EQ(BpeModel::Create(duplicate, {}, false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class RobertaBpeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ModelFiles files;
    ASSERT_TRUE(ReadVocabJson(testing::VocabPath(), &files).ok());
    ASSERT_TRUE(ReadMergesTxt(testing::MergesPath(), &files).ok());
    auto model = BpeModel::Create(files.vocab, files.merges, false);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = model->release();
  }
  static void TearDownTestSuite() { delete model_; }
  static BpeModel* model_;
};

BpeModel* RobertaBpeTest::model_ = nullptr;

TEST_F(RobertaBpeTest, KnownWords) {
  EXPECT_EQ(model_->WholeWordId(" the"), 5);
  EXPECT_THAT(Tokenize(*model_, " unauthenticated"), ElementsAre(542, 40907, 5554));
  EXPECT_EQ(model_->Spelling(40907), "authent");
}

// Both merge loops give the same ids on random words of every length.
TEST_F(RobertaBpeTest, ScanAndHeapAgree) {
  const std::vector<std::string> chunks = {
      "a",  "e",    "th", "ing", " ", "er", "0", "1", "x", "qu", "\xC3\xA9", "\xF0\x9F\x94\xA5",
      "ss", "tion", "-"};
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    std::string word;
    const int length = static_cast<int>(rng() % 120) + 1;
    for (int i = 0; i < length; ++i) word += chunks[rng() % chunks.size()];
    ASSERT_EQ(Tokenize(*model_, word, BpeAlgorithm::kScan),
              Tokenize(*model_, word, BpeAlgorithm::kHeap))
        << word;
  }
}

TEST_F(RobertaBpeTest, VeryLongWordRoundTrips) {
  std::string word;
  std::mt19937 rng(3);
  while (word.size() < 20000) word += static_cast<char>('a' + rng() % 26);
  const std::vector<int32_t> ids = Tokenize(*model_, word);
  std::string joined;
  for (const int32_t id : ids) joined += model_->Bytes(id);
  EXPECT_EQ(joined, word);
  EXPECT_LT(ids.size(), word.size());
}

}  // namespace
}  // namespace securebert::tokenizer
