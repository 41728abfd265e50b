#include "model/model_manifest.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/model_dir.h"

namespace securebert::model {
namespace {

using ::securebert::testing::CopyTinyModel;
using ::securebert::testing::TinyModelDir;
using ::testing::HasSubstr;

TEST(ModelManifest, ReadsTheTinyModel) {
  auto m = LoadManifest(TinyModelDir());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->vocab_size, 50265);
  EXPECT_EQ(m->max_input_tokens, m->max_position_embeddings - 2);
  EXPECT_EQ(m->bos_id, 0);
  EXPECT_EQ(m->pad_id, 1);
  EXPECT_EQ(m->eos_id, 2);
  EXPECT_EQ(m->mask_id, 50264);
  EXPECT_EQ(m->mask_token, "<mask>");
  EXPECT_TRUE(m->random_weights);
  EXPECT_EQ(m->files.count("encoder.pt"), 1u);
  EXPECT_EQ(m->files.count("vocab.json"), 1u);
}

TEST(ModelManifest, MissingManifest) {
  const std::string dir = CopyTinyModel("no_manifest");
  std::filesystem::remove(std::filesystem::path(dir) / "manifest.json");
  absl::Status s = LoadManifest(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("manifest.json is missing"));
}

TEST(ModelManifest, MalformedJson) {
  const std::string dir = CopyTinyModel("bad_json");
  std::ofstream(std::filesystem::path(dir) / "manifest.json") << "{\"format\": ";
  EXPECT_EQ(LoadManifest(dir).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModelManifest, MissingFieldIsNamed) {
  const std::string dir =
      CopyTinyModel("no_field", [](nlohmann::json& m) { m["architecture"].erase("hidden_size"); });
  absl::Status s = LoadManifest(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("hidden_size"));
}

TEST(ModelManifest, SpecialTokenOutsideVocabulary) {
  const std::string dir = CopyTinyModel(
      "bad_special", [](nlohmann::json& m) { m["special_tokens"]["mask"]["id"] = 60000; });
  absl::Status s = LoadManifest(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("60000"));
}

TEST(ModelManifest, MaxInputTokensBeyondPositions) {
  const std::string dir =
      CopyTinyModel("bad_max", [](nlohmann::json& m) { m["max_input_tokens"] = 9999; });
  EXPECT_EQ(LoadManifest(dir).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModelManifest, MissingListedFile) {
  const std::string dir = CopyTinyModel("missing_file");
  std::filesystem::remove(std::filesystem::path(dir) / "lm_head.pt");
  absl::Status s = LoadManifest(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("lm_head.pt"));
}

TEST(ModelManifest, UnsupportedFormatVersion) {
  const std::string dir =
      CopyTinyModel("bad_version", [](nlohmann::json& m) { m["format_version"] = 2; });
  absl::Status s = LoadManifest(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("format_version"));
}

// Every integer field refuses a value that is not an integer its type holds:
// a float (1e300 once reached an unchecked float-to-int conversion, undefined
// behaviour the model_dir fuzzer found), an integer past int32, a float that
// happens to be whole. The error names the field.
struct IntegerFieldCase {
  const char* name;
  std::vector<std::string> path;
  bool int32 = true;  // else int64
};

class ManifestIntegerField : public ::testing::TestWithParam<IntegerFieldCase> {};

TEST_P(ManifestIntegerField, RefusesValuesThatAreNotItsInteger) {
  const IntegerFieldCase& field = GetParam();
  std::vector<std::string> values = {"1e300", "-1e300", "64.0", "18446744073709551616"};
  if (field.int32) values.push_back("2147483648");
  for (const std::string& value : values) {
    const std::string dir = CopyTinyModel(absl::StrCat("int_", field.name), [&](nlohmann::json& m) {
      nlohmann::json* node = &m;
      for (const std::string& key : field.path) {
        node = key == "*files" ? &node->at("files").begin().value() : &(*node)[key];
      }
      *node = nlohmann::json::parse(value);
    });
    absl::Status s = LoadManifest(dir).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << value;
    EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("\"", field.path.back(), "\""))) << value;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fields, ManifestIntegerField,
    ::testing::Values(IntegerFieldCase{"format_version", {"format_version"}},
                      IntegerFieldCase{"hidden_size", {"architecture", "hidden_size"}},
                      IntegerFieldCase{"max_input_tokens", {"max_input_tokens"}},
                      IntegerFieldCase{"mask_id", {"special_tokens", "mask", "id"}},
                      IntegerFieldCase{"file_bytes", {"*files", "bytes"}, false}),
    [](const ::testing::TestParamInfo<IntegerFieldCase>& info) { return info.param.name; });

}  // namespace
}  // namespace securebert::model
