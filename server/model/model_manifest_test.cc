#include "model/model_manifest.h"

#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace securebert::model
