// Shared set-up of the end-to-end tests: one real securebert-server on the
// tiny model per test suite, a client, and the same model and tokenizer
// loaded in-process to compute the answers the server must give.
#ifndef SECUREBERT_TESTS_E2E_E2E_FIXTURE_H_
#define SECUREBERT_TESTS_E2E_E2E_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "batching/model.h"
#include "client/securebert_client.h"
#include "gtest/gtest.h"
#include "model/torch_model.h"
#include "tests/testing/model_dir.h"
#include "tests/testing/server_process.h"
#include "tokenizer/tokenizer.h"

namespace securebert::testing {

// Server flags every e2e suite uses: small limits, so limit errors are cheap.
inline std::vector<std::string> DefaultServerArgs() {
  return {"--model_dir=" + TinyModelDir(), "--max_client_batch_size=8", "--max_input_tokens=128",
          "--max_batch_tokens=2048", "--log_level=info"};
}

inline std::unique_ptr<client::SecureBertClient> MakeClient(const std::string& target,
                                                            int max_attempts = 1) {
  client::ClientOptions options;
  options.channel.target = target;
  options.deadline_ms = 60000;
  options.retry.max_attempts = max_attempts;
  auto c = client::SecureBertClient::Create(options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

// What the model runner gives for one text, computed in-process.
struct Reference {
  std::vector<int32_t> ids;
  std::vector<float> hidden;  // [T, H]
  std::vector<int32_t> mask_positions;
  std::vector<std::vector<int32_t>> topk_ids;  // per mask
  std::vector<std::vector<float>> topk_scores;
};

class InProcessModel {
 public:
  InProcessModel() {
    auto model = model::TorchModel::Load(TinyModelDir(), {});
    EXPECT_TRUE(model.ok()) << model.status();
    model_ = *model;
    auto tok = tokenizer::Tokenizer::FromModelDir(TinyModelDir());
    EXPECT_TRUE(tok.ok()) << tok.status();
    tokenizer_ = *std::move(tok);
  }

  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  int32_t hidden_size() const { return model_->spec().hidden_size; }

  // Tokenizes and runs `text` alone (right-truncated to max_tokens).
  Reference Run(const std::string& text, int32_t top_k = 10, size_t max_tokens = 128) const {
    Reference r;
    tokenizer::EncodeOptions options;
    options.truncation = tokenizer::Truncation::kRight;
    options.max_tokens = max_tokens;
    auto encoding = tokenizer_->Encode(text, options);
    EXPECT_TRUE(encoding.ok()) << encoding.status();
    r.ids = encoding->ids;
    batching::ModelInput in;
    in.batch_size = 1;
    in.seq_len = static_cast<int32_t>(r.ids.size());
    in.input_ids.assign(r.ids.begin(), r.ids.end());
    in.attention_mask.assign(r.ids.size(), 1);
    in.row_outputs = {batching::RowOutput::kTokens};
    for (size_t t = 0; t < r.ids.size(); ++t) {
      if (r.ids[t] == tokenizer_->mask_id()) {
        r.mask_positions.push_back(static_cast<int32_t>(t));
        in.lm_rows.push_back({0, static_cast<int32_t>(t)});
      }
    }
    in.top_k = in.lm_rows.empty() ? 0 : top_k;
    auto out = model_->Forward(in);
    EXPECT_TRUE(out.ok()) << out.status();
    r.hidden = out->embeddings[0];
    for (size_t m = 0; m < r.mask_positions.size(); ++m) {
      r.topk_ids.emplace_back(out->topk_ids.begin() + m * top_k,
                              out->topk_ids.begin() + (m + 1) * top_k);
      r.topk_scores.emplace_back(out->topk_scores.begin() + m * top_k,
                                 out->topk_scores.begin() + (m + 1) * top_k);
    }
    return r;
  }

 private:
  std::shared_ptr<model::TorchModel> model_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
};

inline float MaxAbsDiff(const std::vector<float>& a,
                        const google::protobuf::RepeatedField<float>& b) {
  EXPECT_EQ(a.size(), static_cast<size_t>(b.size()));
  float worst = 0;
  for (size_t i = 0; i < a.size() && i < static_cast<size_t>(b.size()); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[static_cast<int>(i)]));
  }
  return worst;
}

}  // namespace securebert::testing

#endif  // SECUREBERT_TESTS_E2E_E2E_FIXTURE_H_
