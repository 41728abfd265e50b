// 64 concurrent clients x mixed RPCs x 20 requests each against the real
// server: every answer correct and matched to its own request, and the
// batcher really batched.
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/metrics_scrape.h"

namespace securebert::testing {
namespace {

constexpr int kClients = 64;
constexpr int kRequestsPerClient = 20;
constexpr float kTolerance = 1e-4f;

enum class Kind { kEmbed, kPredictMask, kTokenize };

struct Outcome {
  Kind kind;
  std::string text;
  absl::Status status;
  v1::EmbedResponse embed;
  v1::PredictMaskResponse predict;
  v1::TokenizeResponse tokenize;
};

std::string TextFor(int client, int i) {
  // Unique per request, lengths varying 1..~60 words, so that a swapped
  // answer cannot match.
  std::string text = "client " + std::to_string(client) + " request " + std::to_string(i);
  for (int w = 0; w < (client * 7 + i * 3) % 60; ++w) text += " exploit" + std::to_string(w);
  return text;
}

TEST(ConcurrencyTest, SixtyFourClientsMixedRpcsAllAnsweredCorrectly) {
  ServerProcess server(BinaryPath("securebert-server"), DefaultServerArgs());
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  std::vector<std::vector<Outcome>> outcomes(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = MakeClient(server.target());
      for (int i = 0; i < kRequestsPerClient; ++i) {
        Outcome o;
        o.kind = static_cast<Kind>((c + i) % 3);
        o.text = TextFor(c, i);
        if (o.kind == Kind::kEmbed) {
          v1::EmbedRequest r;
          r.add_inputs(o.text);
          r.set_pooling(v1::POOLING_MEAN);
          auto resp = client->Embed(r);
          o.status = resp.status();
          if (resp.ok()) o.embed = *resp;
        } else if (o.kind == Kind::kPredictMask) {
          o.text += " <mask>.";
          v1::PredictMaskRequest r;
          r.add_inputs(o.text);
          r.set_top_k(3);
          auto resp = client->PredictMask(r);
          o.status = resp.status();
          if (resp.ok()) o.predict = *resp;
        } else {
          v1::TokenizeRequest r;
          r.add_inputs(o.text);
          auto resp = client->Tokenize(r);
          o.status = resp.status();
          if (resp.ok()) o.tokenize = *resp;
        }
        outcomes[c].push_back(std::move(o));
      }
    });
  }
  for (auto& t : threads) t.join();

  InProcessModel model;
  const int32_t h = model.hidden_size();
  int answered = 0;
  for (const auto& per_client : outcomes) {
    for (const Outcome& o : per_client) {
      ASSERT_TRUE(o.status.ok()) << o.status;
      ++answered;
      const Reference want = model.Run(o.text, 3);
      if (o.kind == Kind::kEmbed) {
        std::vector<float> mean(h, 0.f);
        for (size_t t = 0; t < want.ids.size(); ++t) {
          for (int32_t k = 0; k < h; ++k) mean[k] += want.hidden[t * h + k] / want.ids.size();
        }
        EXPECT_EQ(o.embed.embeddings(0).num_tokens(), want.ids.size());
        EXPECT_LE(MaxAbsDiff(mean, o.embed.embeddings(0).values()), kTolerance) << o.text;
      } else if (o.kind == Kind::kPredictMask) {
        const auto& mask = o.predict.results(0).masks(0);
        EXPECT_EQ(mask.position(), static_cast<uint32_t>(want.mask_positions[0]));
        for (int k = 0; k < 3; ++k) {
          EXPECT_NEAR(mask.predictions(k).score(), want.topk_scores[0][k], kTolerance);
        }
      } else {
        const auto& tokens = o.tokenize.results(0).tokens();
        ASSERT_EQ(tokens.size(), static_cast<int>(want.ids.size()));
        for (int t = 0; t < tokens.size(); ++t) {
          EXPECT_EQ(tokens[t].id(), static_cast<uint32_t>(want.ids[t]));
        }
      }
    }
  }
  EXPECT_EQ(answered, kClients * kRequestsPerClient);

  const auto metrics = ScrapeMetrics(server.metrics_port());
  const double batches = metrics.at("securebert_batch_size_count");
  const double sequences = metrics.at("securebert_batch_size_sum");
  EXPECT_GT(sequences / batches, 1.0) << "no batch held more than one sequence";
  EXPECT_LT(metrics.at("securebert_batch_size_bucket{le=\"1\"}"), batches);
  double ok = 0;
  for (const char* rpc : {"Embed", "PredictMask", "Tokenize"}) {
    ok += metrics.at(std::string("securebert_requests_total{rpc=\"") + rpc + "\",code=\"OK\"}");
  }
  EXPECT_EQ(ok, kClients * kRequestsPerClient);
}

}  // namespace
}  // namespace securebert::testing
