#include "tokenizer/testing/test_data.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace securebert::tokenizer::testing {

std::string TestDataDir() { return absl::StrCat(SECUREBERT_SOURCE_DIR, "/tests/data/tokenizer"); }
std::string VocabPath() { return TestDataDir() + "/vocab.json"; }
std::string MergesPath() { return TestDataDir() + "/merges.txt"; }

std::vector<ParityCase> LoadParityCases() {
  std::vector<ParityCase> cases;
  std::ifstream in(TestDataDir() + "/parity.jsonl");
  EXPECT_TRUE(in.good()) << "cannot open parity.jsonl";
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json json = nlohmann::json::parse(line);
    cases.push_back(ParityCase{json.at("text").get<std::string>(),
                               json.at("ids").get<std::vector<int32_t>>(),
                               json.at("tokens").get<std::vector<std::string>>()});
  }
  EXPECT_FALSE(cases.empty());
  return cases;
}

const Tokenizer& TestTokenizer() {
  static const Tokenizer* const kTokenizer = [] {
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
        Tokenizer::FromFiles(VocabPath(), MergesPath());
    if (!tokenizer.ok()) {
      ADD_FAILURE() << tokenizer.status();
      std::abort();
    }
    return tokenizer->release();
  }();
  return *kTokenizer;
}

std::string WriteTempFile(const std::string& name, const std::string& content) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/", info != nullptr ? info->name() : "test", "_", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  EXPECT_TRUE(out.good()) << path;
  return path;
}

}  // namespace securebert::tokenizer::testing
