// securebert-engine-bench: the batching engine against the raw model, side
// by side in one run, on the same token mix (issue: dynamic batching).
//
//   raw      the model runner alone, static batches of the mix sorted by
//            length (the least padding a static batcher can get), in the two
//            arrangements of the cores: one forward with all threads, or one
//            concurrent forward per core with one thread each; the best batch
//            size and arrangement is "raw best".
//   engine   the Engine with its default split (one instance per core, one
//            thread each, idle cores lent to a lone batch) and default
//            options under a closed loop of --submitters threads, each
//            submitting one text at a time from the same mix.
//
// Both sides run with the server's malloc tuning unless --notune_malloc.
//
// Prints a Markdown table and a JSON line with the ratio engine / raw best
// and the engine's padding efficiency. Figures, not assertions.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "batching/engine.h"
#include "bench/token_mix.h"
#include "model/blas_kernel.h"
#include "model/host_allocator.h"
#include "model/torch_model.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, model_dir, "", "Exported model directory (the random-init base model).");
ABSL_FLAG(int32_t, texts, 96, "Texts in the token mix.");
ABSL_FLAG(int32_t, min_tokens, 8, "Shortest text, tokens.");
ABSL_FLAG(int32_t, max_tokens, 256, "Longest text, tokens.");
ABSL_FLAG(int32_t, submitters, 16, "Closed-loop submitter threads for the engine.");
ABSL_FLAG(std::string, batch_sizes, "1,4,8,16", "Static batch sizes to try for the raw model.");
ABSL_FLAG(int32_t, cores, 0, "Cores to use; 0: all.");
ABSL_FLAG(int32_t, max_batch_tokens, 0,
          "The engine's batch token budget (EngineOptions::max_batch_tokens); 0: the "
          "server's default for the device.");
ABSL_FLAG(bool, tune_malloc, true,
          "Tune malloc as securebert-server does (model/host_allocator.h); applies to "
          "the raw model and the engine alike.");

namespace {

using securebert::batching::ModelInput;
using securebert::model::TorchModel;
using Mix = std::vector<std::vector<int32_t>>;

// A figure from a run that failed would be meaningless: stop the bench.
[[noreturn]] void Fail(const absl::Status& status) {
  std::cerr << "securebert-engine-bench: " << status << "\n";
  std::exit(1);
}

ModelInput Pack(const Mix& mix, size_t begin, size_t end) {
  ModelInput in;
  in.batch_size = static_cast<int32_t>(end - begin);
  for (size_t i = begin; i < end; ++i) {
    in.seq_len = std::max<int32_t>(in.seq_len, static_cast<int32_t>(mix[i].size()));
  }
  in.input_ids.assign(static_cast<size_t>(in.batch_size) * in.seq_len, 1);
  in.attention_mask.assign(in.input_ids.size(), 0);
  // What the server's Embed with mean pooling asks of the model.
  in.row_outputs.assign(in.batch_size, securebert::batching::RowOutput::kMean);
  for (size_t r = 0; r < end - begin; ++r) {
    for (size_t t = 0; t < mix[begin + r].size(); ++t) {
      in.input_ids[r * in.seq_len + t] = mix[begin + r][t];
      in.attention_mask[r * in.seq_len + t] = 1;
    }
  }
  return in;
}

// Real tokens per second of `workers` threads with `threads_each` intra-op
// threads, each running its share of the sorted mix in batches of `batch`.
double RawTokensPerSecond(TorchModel& model, const Mix& sorted, int workers, int threads_each,
                          int batch) {
  std::vector<std::thread> pool;
  const absl::Time start = absl::Now();
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      securebert::model::SetThreadIntraOpThreads(threads_each);
      // Worker w takes every workers-th batch, so each sees the whole mix's lengths.
      for (size_t b = static_cast<size_t>(w) * batch; b < sorted.size();
           b += static_cast<size_t>(workers) * batch) {
        auto out = model.Forward(Pack(sorted, b, std::min(sorted.size(), b + batch)));
        if (!out.ok()) Fail(out.status());
      }
    });
  }
  for (auto& t : pool) t.join();
  return securebert::bench::CountTokens(sorted) / absl::ToDoubleSeconds(absl::Now() - start);
}

struct EngineFigures {
  double tokens_per_second = 0;
  double padding_efficiency = 0;
  double mean_batch = 0;
};

class PaddingObserver : public securebert::batching::EngineObserver {
 public:
  void OnBatch(const securebert::batching::BatchStats& s) override {
    real_ += s.real_tokens;
    padded_ += s.padded_tokens;
    rows_ += s.batch_size;
    ++batches_;
  }
  std::atomic<int64_t> real_{0}, padded_{0}, rows_{0}, batches_{0};
};

EngineFigures RunEngine(const std::shared_ptr<TorchModel>& model, const Mix& mix, int cores,
                        int submitters) {
  securebert::batching::EngineOptions options;
  options.max_batch_tokens = absl::GetFlag(FLAGS_max_batch_tokens);
  std::vector<std::unique_ptr<securebert::batching::Model>> instances;
  for (int i = 0; i < cores; ++i) instances.push_back(model->NewInstance(1));
  PaddingObserver observer;
  auto engine = securebert::batching::Engine::Create(options, std::move(instances), &observer);
  if (!engine.ok()) Fail(engine.status());
  if (auto s = (*engine)->Warmup(); !s.ok()) Fail(s);
  observer.real_ = observer.padded_ = observer.rows_ = observer.batches_ = 0;
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int t = 0; t < submitters; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < mix.size(); i = next++) {
        securebert::batching::Request r;
        r.kind = securebert::batching::Request::Kind::kEmbed;
        r.pooling = securebert::batching::Pooling::kMean;
        r.sequences.push_back(mix[i]);
        absl::Notification done;
        absl::Status answer;
        auto s =
            (*engine)->Submit(std::move(r), [&](absl::StatusOr<securebert::batching::Response> a) {
              answer = a.status();
              done.Notify();
            });
        if (!s.ok()) Fail(s);
        done.WaitForNotification();
        if (!answer.ok()) Fail(answer);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return {securebert::bench::CountTokens(mix) / seconds,
          static_cast<double>(observer.real_) / std::max<int64_t>(1, observer.padded_),
          static_cast<double>(observer.rows_) / std::max<int64_t>(1, observer.batches_)};
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_tune_malloc)) {
    if (auto s = securebert::model::TuneHostAllocator(); !s.ok()) std::cerr << s << "\n";
  }
  std::cerr << "blas: " << securebert::model::DescribeBlasKernel()
            << ", malloc: " << securebert::model::HostAllocatorName() << "\n";
  const int cores = absl::GetFlag(FLAGS_cores) > 0
                        ? absl::GetFlag(FLAGS_cores)
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto model = TorchModel::Load(absl::GetFlag(FLAGS_model_dir), {});
  if (!model.ok()) {
    std::cerr << model.status() << "\n";
    return 1;
  }
  const Mix mix =
      securebert::bench::MakeTokenMix(absl::GetFlag(FLAGS_texts), absl::GetFlag(FLAGS_min_tokens),
                                      absl::GetFlag(FLAGS_max_tokens), 7);
  Mix sorted = mix;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.size() < b.size(); });
  // One untimed pass so that both sides start warm.
  RawTokensPerSecond(**model,
                     Mix(sorted.begin(), sorted.begin() + std::min<size_t>(8, sorted.size())), 1,
                     cores, 4);

  nlohmann::json report = {{"model_id", (*model)->spec().model_id},
                           {"cores", cores},
                           {"texts", mix.size()},
                           {"tokens", securebert::bench::CountTokens(mix)}};
  std::printf("| arrangement | batch | tokens/s |\n|---|---:|---:|\n");
  double best = 0;
  std::string best_name;
  std::vector<int> batch_sizes;
  for (const auto& part : absl::StrSplit(absl::GetFlag(FLAGS_batch_sizes), ',')) {
    batch_sizes.push_back(std::stoi(std::string(part)));
  }
  for (int batch : batch_sizes) {
    for (auto [workers, threads] : {std::pair{1, cores}, std::pair{cores, 1}}) {
      if (workers == threads && workers == 1 && cores == 1 && batch == 0) continue;
      const double tps = RawTokensPerSecond(**model, sorted, workers, threads, batch);
      const std::string name =
          std::to_string(workers) + " forward(s) x " + std::to_string(threads) + " thread(s)";
      std::printf("| raw: %s | %d | %.1f |\n", name.c_str(), batch, tps);
      report["raw"].push_back({{"arrangement", name}, {"batch", batch}, {"tokens_per_s", tps}});
      if (tps > best) best = tps, best_name = name + ", batch " + std::to_string(batch);
      if (cores == 1) break;  // both arrangements are the same on one core
    }
  }
  const EngineFigures engine = RunEngine(*model, mix, cores, absl::GetFlag(FLAGS_submitters));
  std::printf("| engine: %d instances x 1 thread, %d submitters | %.1f (mean) | %.1f |\n", cores,
              absl::GetFlag(FLAGS_submitters), engine.mean_batch, engine.tokens_per_second);
  std::printf(
      "\nraw best: %.1f tokens/s (%s)\nengine / raw best: %.3f\n"
      "engine padding efficiency: %.3f\n",
      best, best_name.c_str(), engine.tokens_per_second / best, engine.padding_efficiency);
  report["raw_best"] = {{"tokens_per_s", best}, {"setting", best_name}};
  report["engine"] = {{"tokens_per_s", engine.tokens_per_second},
                      {"padding_efficiency", engine.padding_efficiency},
                      {"mean_batch_size", engine.mean_batch},
                      {"instances", cores},
                      {"intra_op_threads", 1}};
  report["ratio_engine_over_raw_best"] = engine.tokens_per_second / best;
  std::printf("JSON %s\n", report.dump().c_str());
  return 0;
}
