#include "model/torch_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/model_dir.h"

namespace securebert::model {
namespace {

using ::securebert::testing::CopyTinyModel;
using ::securebert::testing::ReadJson;
using ::securebert::testing::TinyInt8ModelDir;
using ::securebert::testing::TinyModelDir;
using ::testing::HasSubstr;

constexpr float kTolerance = 1e-4f;  // max abs difference allowed vs Python

struct GoldenCase {
  std::string name;
  std::vector<int32_t> ids;
  std::vector<float> hidden;  // [T, H]
  std::vector<int32_t> mask_positions;
  std::vector<std::vector<int32_t>> topk_ids;
  std::vector<std::vector<float>> topk_scores;
};

std::vector<GoldenCase> LoadGoldens(const std::string& dir = TinyModelDir()) {
  std::vector<GoldenCase> cases;
  const nlohmann::json goldens = ReadJson(dir + "/goldens.json");
  for (const auto& c : goldens.at("cases")) {
    GoldenCase g{c.at("name"), c.at("input_ids"), c.at("last_hidden_state"), {}, {}, {}};
    for (const auto& lm : c.at("lm")) {
      g.mask_positions.push_back(lm.at("position"));
      g.topk_ids.push_back(lm.at("topk_ids"));
      g.topk_scores.push_back(lm.at("topk_scores"));
    }
    cases.push_back(std::move(g));
  }
  return cases;
}

// Packs `cases` into one padded batch, LM rows at every mask.
batching::ModelInput MakeBatch(const std::vector<GoldenCase>& cases, int32_t pad_id) {
  batching::ModelInput in;
  in.batch_size = static_cast<int32_t>(cases.size());
  for (const auto& c : cases) in.seq_len = std::max<int32_t>(in.seq_len, c.ids.size());
  in.input_ids.assign(in.batch_size * in.seq_len, pad_id);
  in.attention_mask.assign(in.batch_size * in.seq_len, 0);
  in.row_outputs.assign(in.batch_size, batching::RowOutput::kTokens);
  in.top_k = 10;
  for (int32_t row = 0; row < in.batch_size; ++row) {
    const auto& c = cases[row];
    for (size_t t = 0; t < c.ids.size(); ++t) {
      in.input_ids[row * in.seq_len + t] = c.ids[t];
      in.attention_mask[row * in.seq_len + t] = 1;
    }
    for (int32_t p : c.mask_positions) in.lm_rows.push_back({row, p});
  }
  return in;
}

// Compares one batch's output with the goldens; returns the max abs diff seen.
float ExpectMatchesGoldens(const std::vector<GoldenCase>& cases, const batching::ModelInput& in,
                           const batching::ModelOutput& out, int32_t hidden) {
  float worst = 0;
  size_t lm = 0;
  int ids_compared = 0;
  for (int32_t row = 0; row < in.batch_size; ++row) {
    const GoldenCase& c = cases[row];
    for (size_t t = 0; t < c.ids.size(); ++t) {
      for (int32_t h = 0; h < hidden; ++h) {
        const float got = out.embeddings[row][t * hidden + h];
        worst = std::max(worst, std::fabs(got - c.hidden[t * hidden + h]));
      }
    }
    for (size_t m = 0; m < c.mask_positions.size(); ++m, ++lm) {
      for (int32_t k = 0; k < in.top_k; ++k) {
        const float got = out.topk_scores[lm * in.top_k + k];
        worst = std::max(worst, std::fabs(got - c.topk_scores[m][k]));
        // Ids must agree unless two candidates' probabilities are within a
        // relative 1e-4 (a logit gap of ~1e-4, far above float32 noise);
        // random-weight models have nearly flat distributions.
        const auto& want = c.topk_scores[m];
        auto close = [&](int32_t a, int32_t b) {
          return std::fabs(want[a] - want[b]) < 1e-4f * want[a];
        };
        const bool tie = (k > 0 && close(k, k - 1)) || (k + 1 < in.top_k && close(k, k + 1));
        if (!tie) {
          EXPECT_EQ(out.topk_ids[lm * in.top_k + k], c.topk_ids[m][k]) << c.name;
          ++ids_compared;
        }
      }
    }
  }
  EXPECT_EQ(lm, in.lm_rows.size());
  if (!in.lm_rows.empty()) {
    EXPECT_GT(ids_compared, 0) << "every candidate was a tie: the id check never ran";
  }
  EXPECT_LE(worst, kTolerance);
  return worst;
}

class TorchModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(TinyModelDir().empty()) << "SECUREBERT_TEST_MODEL_DIR is not set";
    auto model = TorchModel::Load(TinyModelDir(), {});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *model;
    cases_ = LoadGoldens();
    ASSERT_GE(cases_.size(), 3u);
  }
  std::shared_ptr<TorchModel> model_;
  std::vector<GoldenCase> cases_;
};

TEST_F(TorchModelTest, SpecComesFromManifest) {
  const auto& spec = model_->spec();
  EXPECT_EQ(spec.vocab_size, 50265);
  EXPECT_EQ(spec.max_input_tokens, 512);
  EXPECT_EQ(spec.pad_id, 1);
  EXPECT_EQ(spec.device, "cpu");
  EXPECT_EQ(spec.dtype, "float32");
  EXPECT_GT(spec.hidden_size, 0);
  EXPECT_EQ(model_->manifest().mask_id, 50264);
}

TEST_F(TorchModelTest, SingleSequencesMatchPythonGoldens) {
  float worst = 0;
  for (const GoldenCase& c : cases_) {
    const batching::ModelInput in = MakeBatch({c}, model_->spec().pad_id);
    auto out = model_->Forward(in);
    ASSERT_TRUE(out.ok()) << out.status();
    worst = std::max(worst, ExpectMatchesGoldens({c}, in, *out, model_->spec().hidden_size));
  }
  std::cout << "max abs diff, single sequences vs Python: " << worst << "\n";
}

TEST_F(TorchModelTest, PaddedMixedLengthBatchMatchesPythonGoldens) {
  std::vector<GoldenCase> batch = cases_;
  std::reverse(batch.begin(), batch.end());  // longest first, shortest padded most
  const batching::ModelInput in = MakeBatch(batch, model_->spec().pad_id);
  auto out = model_->Forward(in);
  ASSERT_TRUE(out.ok()) << out.status();
  const float worst = ExpectMatchesGoldens(batch, in, *out, model_->spec().hidden_size);
  std::cout << "max abs diff, padded batch of " << batch.size() << " vs Python: " << worst << "\n";
}

TEST_F(TorchModelTest, PoolsOnTheModelSideWhatEachRowAsks) {
  // Padded mixed lengths, each row asking for something else: every row's
  // answer is the goldens' CLS row, mean over real tokens, all tokens, or
  // nothing, so padding never leaks into a pooled vector.
  std::vector<GoldenCase> batch = cases_;
  std::reverse(batch.begin(), batch.end());
  batching::ModelInput in = MakeBatch(batch, model_->spec().pad_id);
  in.lm_rows.clear();
  const batching::RowOutput kinds[] = {batching::RowOutput::kMean, batching::RowOutput::kCls,
                                       batching::RowOutput::kTokens, batching::RowOutput::kNothing};
  for (int32_t row = 0; row < in.batch_size; ++row) in.row_outputs[row] = kinds[row % 4];
  auto out = model_->Forward(in);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->embeddings.size(), batch.size());
  const int32_t hidden = model_->spec().hidden_size;
  float worst = 0;
  for (int32_t row = 0; row < in.batch_size; ++row) {
    const GoldenCase& c = batch[row];
    const size_t tokens = c.ids.size();
    std::vector<float> want;
    switch (in.row_outputs[row]) {
      case batching::RowOutput::kNothing:
        break;
      case batching::RowOutput::kTokens:
        want = c.hidden;
        break;
      case batching::RowOutput::kCls:
        want.assign(c.hidden.begin(), c.hidden.begin() + hidden);
        break;
      case batching::RowOutput::kMean:
        want.assign(hidden, 0.f);
        for (size_t t = 0; t < tokens; ++t) {
          for (int32_t h = 0; h < hidden; ++h) want[h] += c.hidden[t * hidden + h] / tokens;
        }
        break;
      case batching::RowOutput::kSequenceLogits:
      case batching::RowOutput::kTokenLogits:
        FAIL() << "the MLM model has no task head (torch_model_heads_test.cc tests heads)";
    }
    ASSERT_EQ(out->embeddings[row].size(), want.size()) << c.name;
    for (size_t i = 0; i < want.size(); ++i) {
      worst = std::max(worst, std::fabs(out->embeddings[row][i] - want[i]));
    }
  }
  EXPECT_LE(worst, kTolerance);
  std::cout << "max abs diff, model-side pooling vs Python: " << worst << "\n";
}

TEST_F(TorchModelTest, InstancesShareWeightsAndRunTheSameModel) {
  auto instance = model_->NewInstance(1);
  instance->BindToCurrentThread();
  const batching::ModelInput in = MakeBatch({cases_[1]}, model_->spec().pad_id);
  auto out = instance->Forward(in);
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectMatchesGoldens({cases_[1]}, in, *out, model_->spec().hidden_size);
  EXPECT_EQ(&instance->spec(), &model_->spec());
}

TEST_F(TorchModelTest, TiedWordEmbeddingIsHeldOnce) {
  // encoder.pt and lm_head.pt each store the word-embedding matrix; loaded,
  // the LM head uses the encoder's, so the weights come to less than the two
  // files minus one copy (the goldens tests check the LM head still agrees).
  EXPECT_TRUE(model_->shares_tied_embedding());
  const auto& m = model_->manifest();
  const int64_t embedding = int64_t{m.vocab_size} * m.hidden_size * 4;
  const int64_t files = m.files.at(m.encoder_file).bytes + m.files.at(m.lm_head_file).bytes;
  EXPECT_LT(model_->weight_bytes(), files - embedding);
  EXPECT_GT(model_->weight_bytes(), embedding);
}

TEST_F(TorchModelTest, MalformedBatchIsAnError) {
  batching::ModelInput in = MakeBatch({cases_[0]}, 1);
  in.input_ids.pop_back();
  EXPECT_EQ(model_->Forward(in).status().code(), absl::StatusCode::kInvalidArgument);
  in = MakeBatch({cases_[0]}, 1);
  in.lm_rows.push_back({0, in.seq_len});
  EXPECT_EQ(model_->Forward(in).status().code(), absl::StatusCode::kInvalidArgument);
  in = MakeBatch({cases_[0]}, 1);
  in.row_outputs.clear();
  EXPECT_EQ(model_->Forward(in).status().code(), absl::StatusCode::kInvalidArgument);
}

absl::Status LoadStatus(const std::string& dir, TorchModelOptions options = {}) {
  return TorchModel::Load(dir, options).status();
}

TEST(TorchModelErrors, MissingDirectory) {
  absl::Status s = LoadStatus("/nonexistent/securebert-model");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/securebert-model"));
}

TEST(TorchModelErrors, CorruptTorchScriptFile) {
  const std::string dir = CopyTinyModel("corrupt");
  const auto path = std::filesystem::path(dir) / "encoder.pt";
  const auto size = std::filesystem::file_size(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(size, 'x');
  absl::Status s = LoadStatus(dir);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("encoder.pt"));
}

TEST(TorchModelErrors, TruncatedTorchScriptFile) {
  const std::string dir = CopyTinyModel("truncated");
  const auto path = std::filesystem::path(dir) / "encoder.pt";
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  absl::Status s = LoadStatus(dir);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("truncated"));
}

TEST(TorchModelErrors, TruncatedTorchScriptFileWithMatchingManifest) {
  const auto half = std::filesystem::file_size(TinyModelDir() + "/encoder.pt") / 2;
  const std::string dir = CopyTinyModel(
      "truncated_manifest", [&](nlohmann::json& m) { m["files"]["encoder.pt"]["bytes"] = half; });
  std::filesystem::resize_file(std::filesystem::path(dir) / "encoder.pt", half);
  absl::Status s = LoadStatus(dir);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("cannot load TorchScript file"));
}

TEST(TorchModelErrors, ManifestModuleMismatch) {
  const std::string dir = CopyTinyModel("hidden_mismatch", [](nlohmann::json& m) {
    m["architecture"]["hidden_size"] = m["architecture"]["hidden_size"].get<int>() * 2;
  });
  absl::Status s = LoadStatus(dir);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("manifest/module mismatch"));
}

TEST(TorchModelErrors, VocabularyLargerThanModel) {
  // A vocab.json with an id past the model's embedding table.
  const std::string dir = CopyTinyModel("vocab_beyond");
  const std::string vocab_path = dir + "/vocab.json";
  nlohmann::json vocab = ReadJson(vocab_path);
  vocab["Ġextra"] = 50265 + 100;
  securebert::testing::WriteJson(vocab_path, vocab);
  nlohmann::json manifest = ReadJson(dir + "/manifest.json");
  manifest["files"]["vocab.json"]["bytes"] = std::filesystem::file_size(vocab_path);
  securebert::testing::WriteJson(dir + "/manifest.json", manifest);
  absl::Status s = LoadStatus(dir);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("vocabulary size mismatch"));
  EXPECT_THAT(s.message(), HasSubstr("50365"));
}

TEST(TorchModelErrors, VocabularyIdThatIsNotAnInteger) {
  // 1e300 once went through an unchecked float-to-int64 conversion.
  for (const char* id : {"1e300", "7.0", "\"7\""}) {
    const std::string dir = CopyTinyModel("vocab_float");
    const std::string vocab_path = dir + "/vocab.json";
    nlohmann::json vocab = ReadJson(vocab_path);
    vocab["Ġextra"] = nlohmann::json::parse(id);
    securebert::testing::WriteJson(vocab_path, vocab);
    nlohmann::json manifest = ReadJson(dir + "/manifest.json");
    manifest["files"]["vocab.json"]["bytes"] = std::filesystem::file_size(vocab_path);
    securebert::testing::WriteJson(dir + "/manifest.json", manifest);
    absl::Status s = LoadStatus(dir);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(s.message(), HasSubstr("Ġextra")) << id;
  }
}

TEST(TorchModelErrors, LmHeadVocabularyMismatch) {
  const std::string dir = CopyTinyModel(
      "vocab_large", [](nlohmann::json& m) { m["architecture"]["vocab_size"] = 50265 + 7; });
  absl::Status s = LoadStatus(dir);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("vocabulary size mismatch"));
  EXPECT_THAT(s.message(), HasSubstr("lm_head"));
}

TEST(TorchModelErrors, UnknownDevice) {
  absl::Status s = LoadStatus(TinyModelDir(), {.device = "tpu:0"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown device"));
  EXPECT_EQ(LoadStatus(TinyModelDir(), {.device = "cuda:x"}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TorchModelErrors, CudaRequestedWhereAbsent) {
  absl::Status s = LoadStatus(TinyModelDir(), {.device = "cuda:0"});
  if (s.ok()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("CUDA is not available"));
}

TEST(TorchModelErrors, HalfPrecisionNeedsCuda) {
  absl::Status s = LoadStatus(TinyModelDir(), {.device = "cpu", .dtype = "float16"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("needs a CUDA device"));
  EXPECT_EQ(LoadStatus(TinyModelDir(), {.device = "cpu", .dtype = "int8"}).code(),
            absl::StatusCode::kInvalidArgument);
}

// --- int8 (tools/quantize.py): the tiny model's twin, encoder Linear layers
// dynamically quantized, served with the engine its manifest names.

// Least cosine, token by token, between the int8 and float32 tiny models'
// last_hidden_state (docs/performance.md, "int8", has the base model's).
constexpr double kInt8MinCosine = 0.99;

double Cosine(const float* a, const float* b, int32_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (int32_t i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

class TorchModelInt8Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(TinyInt8ModelDir().empty()) << "SECUREBERT_TEST_MODEL_DIR is not set";
    auto int8 = TorchModel::Load(TinyInt8ModelDir(), {});
    ASSERT_TRUE(int8.ok()) << int8.status();
    int8_ = *int8;
    auto fp32 = TorchModel::Load(TinyModelDir(), {});
    ASSERT_TRUE(fp32.ok()) << fp32.status();
    fp32_ = *fp32;
  }
  std::shared_ptr<TorchModel> int8_;
  std::shared_ptr<TorchModel> fp32_;
};

TEST_F(TorchModelInt8Test, ManifestAndSpecSayInt8) {
  EXPECT_EQ(int8_->spec().dtype, "int8-dynamic");
  EXPECT_EQ(int8_->manifest().dtype, kInt8Dynamic);
  EXPECT_FALSE(int8_->manifest().quantized_engine.empty());
  EXPECT_EQ(fp32_->spec().dtype, "float32");
  EXPECT_TRUE(fp32_->manifest().quantized_engine.empty());
  EXPECT_EQ(int8_->spec().hidden_size, fp32_->spec().hidden_size);
}

TEST_F(TorchModelInt8Test, SingleSequencesMatchItsOwnPythonGoldens) {
  // One unpadded sequence at a time, as goldens.py ran the quantized model:
  // the same int8 kernels on the same activation range.
  const std::vector<GoldenCase> cases = LoadGoldens(TinyInt8ModelDir());
  ASSERT_GE(cases.size(), 3u);
  float worst = 0;
  for (const GoldenCase& c : cases) {
    const batching::ModelInput in = MakeBatch({c}, int8_->spec().pad_id);
    auto out = int8_->Forward(in);
    ASSERT_TRUE(out.ok()) << out.status();
    worst = std::max(worst, ExpectMatchesGoldens({c}, in, *out, int8_->spec().hidden_size));
  }
  std::cout << "int8: max abs diff, single sequences vs Python: " << worst << "\n";
}

TEST_F(TorchModelInt8Test, PaddedBatchIsCloseToTheFloat32ModelButNotEqual) {
  std::vector<GoldenCase> batch = LoadGoldens();
  std::reverse(batch.begin(), batch.end());
  const batching::ModelInput in = MakeBatch(batch, fp32_->spec().pad_id);
  auto a = fp32_->Forward(in);
  auto b = int8_->Forward(in);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  const int32_t hidden = fp32_->spec().hidden_size;
  double least = 1;
  float largest_difference = 0;
  for (int32_t row = 0; row < in.batch_size; ++row) {
    const std::vector<float>& x = a->embeddings[row];
    const std::vector<float>& y = b->embeddings[row];
    ASSERT_EQ(x.size(), y.size());
    for (size_t t = 0; t * hidden < x.size(); ++t) {
      least = std::min(least, Cosine(&x[t * hidden], &y[t * hidden], hidden));
    }
    for (size_t i = 0; i < x.size(); ++i) {
      largest_difference = std::max(largest_difference, std::fabs(x[i] - y[i]));
    }
  }
  std::cout << "int8 vs float32, padded batch: least token cosine " << least
            << ", largest difference " << largest_difference << "\n";
  EXPECT_GE(least, kInt8MinCosine);
  EXPECT_GT(largest_difference, 0.0f) << "the int8 model computed exactly the float32 one";
}

TEST(TorchModelInt8Errors, CudaIsRefusedNamingTheModel) {
  absl::Status s = LoadStatus(TinyInt8ModelDir(), {.device = "cuda"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("int8-dynamic, which runs on the CPU only"));
  EXPECT_THAT(s.message(), HasSubstr("--device cpu"));
}

TEST(TorchModelInt8Errors, AnEngineThisBuildLacksIsNamed) {
  const std::string dir = CopyTinyModel(
      "int8_engine", [](nlohmann::json& m) { m["quantization"]["engine"] = "tpu-int8"; },
      TinyInt8ModelDir());
  absl::Status s = LoadStatus(dir);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("quantized engine \"tpu-int8\""));
  EXPECT_THAT(s.message(), HasSubstr("--qengine"));
}

TEST(TorchModelInt8Errors, ManifestWithoutQuantizationOrWithAnUnknownDtype) {
  const std::string bare = CopyTinyModel(
      "int8_bare", [](nlohmann::json& m) { m.erase("quantization"); }, TinyInt8ModelDir());
  absl::Status s = LoadStatus(bare);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("needs a \"quantization\" object"));
  const std::string int4 = CopyTinyModel("int4", [](nlohmann::json& m) { m["dtype"] = "int4"; });
  s = LoadStatus(int4);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("\"int4\" is not float32 or int8-dynamic"));
}

}  // namespace
}  // namespace securebert::model
