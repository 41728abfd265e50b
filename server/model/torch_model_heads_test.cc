// TorchModel with a task head (tools/export_model.py --head): the head's
// logits against the exporter's goldens, in padded batches mixed with
// embedding rows, and the errors of a model that lacks the head or the MLM
// head a row asks for.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/torch_model.h"
#include "nlohmann/json.hpp"
#include "tests/testing/model_dir.h"

namespace securebert::model {
namespace {

using ::securebert::testing::CopyTinyModel;
using ::securebert::testing::ReadJson;
using ::securebert::testing::TinySequenceModelDir;
using ::securebert::testing::TinyTokenModelDir;
using ::testing::HasSubstr;

constexpr float kTolerance = 1e-4f;  // max abs difference allowed vs Python

struct HeadCase {
  std::vector<int32_t> ids;
  std::vector<float> hidden;  // [T, H]
  std::vector<float> logits;  // [L] (sequence head) or [T, L] (token head)
};

std::vector<HeadCase> LoadHeadGoldens(const std::string& dir) {
  std::vector<HeadCase> cases;
  const nlohmann::json goldens = ReadJson(dir + "/goldens.json");
  for (const auto& c : goldens.at("cases")) {
    EXPECT_TRUE(c.at("lm").empty()) << "a model without an MLM head has no LM goldens";
    cases.push_back({c.at("input_ids"), c.at("last_hidden_state"), c.at("head_logits")});
  }
  return cases;
}

// One padded batch of `cases`: row r asks for `head_output` when r is even,
// for the <s> vector when odd, so head rows and embedding rows share it.
batching::ModelInput MixedBatch(const std::vector<HeadCase>& cases, batching::RowOutput head_output,
                                int32_t pad_id) {
  batching::ModelInput in;
  in.batch_size = static_cast<int32_t>(cases.size());
  for (const auto& c : cases) in.seq_len = std::max<int32_t>(in.seq_len, c.ids.size());
  in.input_ids.assign(in.batch_size * in.seq_len, pad_id);
  in.attention_mask.assign(in.batch_size * in.seq_len, 0);
  for (int32_t row = 0; row < in.batch_size; ++row) {
    in.row_outputs.push_back(row % 2 == 0 ? head_output : batching::RowOutput::kCls);
    for (size_t t = 0; t < cases[row].ids.size(); ++t) {
      in.input_ids[row * in.seq_len + t] = cases[row].ids[t];
      in.attention_mask[row * in.seq_len + t] = 1;
    }
  }
  return in;
}

float MaxDiff(const std::vector<float>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  float worst = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    worst = std::max(worst, std::fabs(got[i] - want[i]));
  }
  return worst;
}

struct HeadModel {
  std::string dir;
  batching::TaskHead head;
  batching::RowOutput output;
  int32_t labels;
};

class TorchModelHeadsTest : public ::testing::TestWithParam<HeadModel> {
 protected:
  // A copy's directory name, distinct per head (ctest runs cases in parallel).
  static std::string Name(const std::string& base) {
    return base + "_" + std::to_string(GetParam().labels);
  }
};

TEST_P(TorchModelHeadsTest, SpecNamesTheHeadAndNoMlmHead) {
  ASSERT_FALSE(GetParam().dir.empty()) << "SECUREBERT_TEST_MODEL_DIR is not set";
  auto model = TorchModel::Load(GetParam().dir, {});
  ASSERT_TRUE(model.ok()) << model.status();
  const batching::ModelSpec& spec = (*model)->spec();
  EXPECT_EQ(spec.task_head, GetParam().head);
  EXPECT_EQ(spec.num_labels, GetParam().labels);
  EXPECT_FALSE(spec.has_lm_head);
  EXPECT_EQ((*model)->manifest().task_head.labels.size(), static_cast<size_t>(GetParam().labels));
}

TEST_P(TorchModelHeadsTest, PaddedMixedBatchMatchesPythonGoldens) {
  auto model = TorchModel::Load(GetParam().dir, {});
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<HeadCase> cases = LoadHeadGoldens(GetParam().dir);
  ASSERT_GE(cases.size(), 3u);
  std::reverse(cases.begin(), cases.end());  // the longest first: the others padded
  const batching::ModelInput in = MixedBatch(cases, GetParam().output, (*model)->spec().pad_id);
  auto out = (*model)->Forward(in);
  ASSERT_TRUE(out.ok()) << out.status();
  const int32_t hidden = (*model)->spec().hidden_size;
  float worst = 0;
  int head_rows = 0;
  for (int32_t row = 0; row < in.batch_size; ++row) {
    const HeadCase& c = cases[row];
    if (row % 2 == 0) {
      worst = std::max(worst, MaxDiff(out->embeddings[row], c.logits));
      ++head_rows;
    } else {
      const std::vector<float> cls(c.hidden.begin(), c.hidden.begin() + hidden);
      worst = std::max(worst, MaxDiff(out->embeddings[row], cls));
    }
  }
  EXPECT_GE(head_rows, 2);
  EXPECT_LE(worst, kTolerance);
  std::cout << "max abs diff, " << in.batch_size << " padded rows (" << head_rows
            << " head rows) vs Python: " << worst << "\n";
}

TEST_P(TorchModelHeadsTest, RowsTheModelCannotAnswerFailThePrecondition) {
  auto model = TorchModel::Load(GetParam().dir, {});
  ASSERT_TRUE(model.ok()) << model.status();
  const std::vector<HeadCase> cases = LoadHeadGoldens(GetParam().dir);
  batching::ModelInput in = MixedBatch({cases[0]}, batching::RowOutput::kCls, 1);
  in.lm_rows.push_back({0, 1});
  in.top_k = 5;
  auto out = (*model)->Forward(in);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(out.status().message(), HasSubstr("no MLM head"));

  const batching::RowOutput other = GetParam().output == batching::RowOutput::kTokenLogits
                                        ? batching::RowOutput::kSequenceLogits
                                        : batching::RowOutput::kTokenLogits;
  out = (*model)->Forward(MixedBatch({cases[0]}, other, 1));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(out.status().message(), HasSubstr("-classification head"));
}

TEST_P(TorchModelHeadsTest, LabelsThatDisagreeWithTheHeadAreRefusedAtLoad) {
  const std::string dir = CopyTinyModel(
      Name("fewer_labels"),
      [](nlohmann::json& m) {
        m["task_head"]["labels"] = {"O", "B-X"};
        m["task_head"]["num_labels"] = 2;
      },
      GetParam().dir);
  auto model = TorchModel::Load(dir, {});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(model.status().message(), HasSubstr("2 labels"));
}

TEST_P(TorchModelHeadsTest, ManifestErrorsNameTheField) {
  const std::string unknown = CopyTinyModel(
      Name("unknown_head"),
      [](nlohmann::json& m) { m["task_head"]["kind"] = "question_answering"; }, GetParam().dir);
  auto model = TorchModel::Load(unknown, {});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("question_answering"));

  const std::string count = CopyTinyModel(
      Name("label_count"), [](nlohmann::json& m) { m["task_head"]["num_labels"] = 3; },
      GetParam().dir);
  model = TorchModel::Load(count, {});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("num_labels"));

  const std::string headless = CopyTinyModel(
      Name("headless"), [](nlohmann::json& m) { m.erase("task_head"); }, GetParam().dir);
  model = TorchModel::Load(headless, {});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("neither"));
}

INSTANTIATE_TEST_SUITE_P(
    Heads, TorchModelHeadsTest,
    ::testing::Values(HeadModel{TinyTokenModelDir(), batching::TaskHead::kTokenClassification,
                                batching::RowOutput::kTokenLogits, 40},
                      HeadModel{TinySequenceModelDir(), batching::TaskHead::kSequenceClassification,
                                batching::RowOutput::kSequenceLogits, 4}),
    [](const ::testing::TestParamInfo<HeadModel>& info) {
      return info.param.head == batching::TaskHead::kTokenClassification ? "Token" : "Sequence";
    });

}  // namespace
}  // namespace securebert::model
