// Loading a tokenizer from the Hugging Face file layouts, and the errors for
// missing, malformed and inconsistent files.
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tokenizer/json_file.h"
#include "tokenizer/testing/test_data.h"
#include "tokenizer/tokenizer.h"

namespace securebert::tokenizer {
namespace {

using ::testing::HasSubstr;
using testing::MergesPath;
using testing::VocabPath;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A fresh directory under the test's temp dir.
std::string MakeDir(const std::string& name) {
  const std::string dir = testing::WriteTempFile(name + ".marker", "");
  const std::string path = dir + ".d";
  ::mkdir(path.c_str(), 0755);
  return path;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::vector<int32_t> Ids(const Tokenizer& tokenizer, const std::string& text) {
  absl::StatusOr<Encoding> encoding = tokenizer.Encode(text, EncodeOptions{});
  EXPECT_TRUE(encoding.ok()) << encoding.status();
  return encoding.ok() ? encoding->ids : std::vector<int32_t>{};
}

// roberta-base's tokenizer.json, rebuilt from vocab.json and merges.txt.
nlohmann::json RobertaTokenizerJson() {
  nlohmann::json merges = nlohmann::json::array();
  std::istringstream lines(ReadFile(MergesPath()));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("#version", 0) != 0 && !line.empty()) merges.push_back(line);
  }
  nlohmann::json added = nlohmann::json::array();
  for (const auto& [content, id] : {std::pair<std::string, int>{"<s>", 0},
                                    {"<pad>", 1},
                                    {"</s>", 2},
                                    {"<unk>", 3},
                                    {"<mask>", 50264}}) {
    added.push_back({{"id", id},
                     {"content", content},
                     {"single_word", false},
                     {"lstrip", content == "<mask>"},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  return {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"},
        {"add_prefix_space", false},
        {"trim_offsets", true},
        {"use_regex", true}}},
      {"post_processor",
       {{"type", "RobertaProcessing"},
        {"sep", {"</s>", 2}},
        {"cls", {"<s>", 0}},
        {"trim_offsets", true},
        {"add_prefix_space", false}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", ""},
        {"end_of_word_suffix", ""},
        {"fuse_unk", false},
        {"vocab", nlohmann::json::parse(ReadFile(VocabPath()))},
        {"merges", merges}}},
  };
}

TEST(TokenizerLoadingTest, ModelDirWithVocabMergesAndConfig) {
  const std::string dir = MakeDir("model");
  WriteFile(dir + "/vocab.json", ReadFile(VocabPath()));
  WriteFile(dir + "/merges.txt", ReadFile(MergesPath()));
  WriteFile(dir + "/tokenizer_config.json",
            R"({"model_max_length": 512, "clean_up_tokenization_spaces": true,
                "mask_token": {"__type": "AddedToken", "content": "<mask>", "lstrip": true}})");
  auto tokenizer = Tokenizer::FromModelDir(dir);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->model_max_length(), 512u);
  EXPECT_EQ(Ids(**tokenizer, "Hello <mask>!"), Ids(testing::TestTokenizer(), "Hello <mask>!"));
  EXPECT_EQ((*tokenizer)->Decode(Ids(**tokenizer, "Hi , there ."), true), "Hi, there.");
}

TEST(TokenizerLoadingTest, TokenizerJsonMatchesVocabAndMerges) {
  const std::string dir = MakeDir("json");
  WriteFile(dir + "/tokenizer.json", RobertaTokenizerJson().dump());
  WriteFile(dir + "/tokenizer_config.json", R"({"model_max_length": 1e30})");
  auto tokenizer = Tokenizer::FromModelDir(dir);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->model_max_length(), 0u);  // transformers' "no limit" sentinel
  EXPECT_EQ((*tokenizer)->vocab_size(), 50265u);
  EXPECT_EQ((*tokenizer)->mask_id(), 50264);
  for (const testing::ParityCase& c : testing::LoadParityCases()) {
    ASSERT_EQ(Ids(**tokenizer, c.text), c.ids) << c.text;
  }
}

TEST(TokenizerLoadingTest, SpecialTokensMapFlagsAreHonoured) {
  const std::string dir = MakeDir("map");
  WriteFile(dir + "/vocab.json", ReadFile(VocabPath()));
  WriteFile(dir + "/merges.txt", ReadFile(MergesPath()));
  WriteFile(dir + "/tokenizer_config.json", R"({"max_len": 512, "mask_token": "<mask>"})");
  WriteFile(dir + "/special_tokens_map.json",
            R"({"bos_token": "<s>", "mask_token": {"content": "<mask>", "lstrip": false}})");
  auto no_lstrip = Tokenizer::FromModelDir(dir);
  ASSERT_TRUE(no_lstrip.ok()) << no_lstrip.status();
  EXPECT_EQ((*no_lstrip)->model_max_length(), 512u);  // the old name of model_max_length
  // Without lstrip the space before <mask> is a token of its own.
  EXPECT_EQ(Ids(**no_lstrip, "a <mask>").size(),
            Ids(testing::TestTokenizer(), "a <mask>").size() + 1);
}

TEST(TokenizerLoadingTest, AddPrefixSpaceFromConfig) {
  TokenizerConfig config;
  config.add_prefix_space = true;
  auto tokenizer = Tokenizer::FromFiles(VocabPath(), MergesPath(), config);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(Ids(**tokenizer, "the"), Ids(testing::TestTokenizer(), " the"));
  absl::StatusOr<Encoding> encoding = (*tokenizer)->Encode("the", EncodeOptions{});
  ASSERT_TRUE(encoding.ok());
  EXPECT_EQ(encoding->offsets[1], std::make_pair(0u, 3u));  // the added space has no bytes
}

TEST(TokenizerLoadingTest, MissingFilesAreNotFound) {
  EXPECT_EQ(Tokenizer::FromModelDir(MakeDir("empty")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Tokenizer::FromFiles("/nonexistent/vocab.json", MergesPath()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TokenizerLoadingTest, MalformedFilesAreInvalidArgument) {
  const std::string bad_json = testing::WriteTempFile("vocab.json", "{\"a\": 0,");
  auto tokenizer = Tokenizer::FromFiles(bad_json, MergesPath());
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tokenizer.status().message()), HasSubstr(bad_json));

  const std::string bad_id = testing::WriteTempFile("vocab.json", R"({"a": "zero"})");
  EXPECT_EQ(Tokenizer::FromFiles(bad_id, MergesPath()).status().code(),
            absl::StatusCode::kInvalidArgument);

  const std::string bad_merges = testing::WriteTempFile("merges.txt", "#version: 0.2\nĠ t x\n");
  tokenizer = Tokenizer::FromFiles(VocabPath(), bad_merges);
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tokenizer.status().message()), HasSubstr("merge 1"));
}

// An id that is not an exact int32 (a float, one past int32, 1e300, whose
// unchecked conversion to int is undefined behaviour) is refused, naming the
// file, in vocab.json and in tokenizer.json's added tokens alike.
TEST(TokenizerLoadingTest, NonIntegerIdsAreInvalidArgument) {
  for (const char* id : {"1e300", "-1e300", "4.0", "2147483648", "18446744073709551615", "-1"}) {
    const std::string vocab =
        testing::WriteTempFile("vocab.json", absl::StrCat(R"({"a": )", id, "}"));
    const absl::Status status = Tokenizer::FromFiles(vocab, MergesPath()).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(std::string(status.message()), HasSubstr("bad id")) << id;

    nlohmann::json file = RobertaTokenizerJson();
    file["added_tokens"][4]["id"] = nlohmann::json::parse(id);
    const std::string path = testing::WriteTempFile("tokenizer.json", file.dump());
    const absl::Status added = Tokenizer::FromTokenizerJson(path).status();
    EXPECT_EQ(added.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(std::string(added.message()), HasSubstr(path)) << id;
  }
}

TEST(JsonInteger, TakesOnlyExactIntegersInRange) {
  using nlohmann::json;
  EXPECT_EQ(JsonInteger<int32_t>(json(7)), 7);
  EXPECT_EQ(JsonInteger<int32_t>(json(-7)), -7);
  EXPECT_EQ(JsonInteger<int32_t>(json(2147483647)), 2147483647);
  EXPECT_EQ(JsonInteger<int32_t>(json(-2147483648LL)), -2147483647 - 1);
  EXPECT_EQ(JsonInteger<int32_t>(json(2147483648LL)), std::nullopt);
  EXPECT_EQ(JsonInteger<int32_t>(json(-2147483649LL)), std::nullopt);
  EXPECT_EQ(JsonInteger<int64_t>(json(uint64_t{9223372036854775807ULL})), 9223372036854775807LL);
  EXPECT_EQ(JsonInteger<int64_t>(json(uint64_t{9223372036854775808ULL})), std::nullopt);
  EXPECT_EQ(JsonInteger<int32_t>(json(1.0)), std::nullopt);
  EXPECT_EQ(JsonInteger<int32_t>(json(1e300)), std::nullopt);
  EXPECT_EQ(JsonInteger<int32_t>(json("1")), std::nullopt);
  EXPECT_EQ(JsonInteger<int32_t>(json(true)), std::nullopt);
  EXPECT_EQ(JsonInteger<int32_t>(json()), std::nullopt);
}

TEST(TokenizerLoadingTest, InconsistentFilesAreInvalidArgument) {
  const std::string orphan_merge = testing::WriteTempFile("merges.txt", "#version: 0.2\nqz xj\n");
  auto tokenizer = Tokenizer::FromFiles(VocabPath(), orphan_merge);
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tokenizer.status().message()), HasSubstr("not in the vocabulary"));

  nlohmann::json vocab = nlohmann::json::parse(ReadFile(VocabPath()));
  vocab.erase("<mask>");
  const std::string no_mask = testing::WriteTempFile("vocab.json", vocab.dump());
  tokenizer = Tokenizer::FromFiles(no_mask, MergesPath());
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tokenizer.status().message()), HasSubstr("<mask>"));
}

TEST(TokenizerLoadingTest, UnsupportedTokenizerJsonIsUnimplemented) {
  nlohmann::json with_normalizer = RobertaTokenizerJson();
  with_normalizer["normalizer"] = {{"type", "NFC"}};
  const std::string path = testing::WriteTempFile("tokenizer.json", with_normalizer.dump());
  EXPECT_EQ(Tokenizer::FromTokenizerJson(path).status().code(), absl::StatusCode::kUnimplemented);

  nlohmann::json wordpiece = RobertaTokenizerJson();
  wordpiece["model"]["type"] = "WordPiece";
  const std::string path2 = testing::WriteTempFile("tokenizer2.json", wordpiece.dump());
  EXPECT_EQ(Tokenizer::FromTokenizerJson(path2).status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace securebert::tokenizer
