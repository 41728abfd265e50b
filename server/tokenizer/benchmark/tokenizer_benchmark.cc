// Encode / decode throughput of the tokenizer on a generated >= 6 MB
// cybersecurity-like corpus (bench_corpus.h), one document per call as the
// server sees requests. Reports bytes/s (MB/s) and tokens/s, on one thread
// and on several threads sharing one Tokenizer (real time, so the rates add
// up across threads).
//
//   build/bin/securebert_tokenizer_benchmark
//   build/bin/securebert_tokenizer_benchmark --benchmark_filter='BM_Encode/'
//
// SECUREBERT_TOKENIZER_BENCH_CORPUS=FILE.jsonl benchmarks that corpus instead.
// bench/tokenizer_vs_hf.py runs Hugging Face's `tokenizers` on the same
// corpus in the same run (1.7-2.0 MB/s on one thread through its Python
// bindings, on the 2-core VM).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "tokenizer/benchmark/bench_corpus.h"
#include "tokenizer/tokenizer.h"

namespace securebert::tokenizer {
namespace {

const std::string kDataDir = SECUREBERT_SOURCE_DIR "/tests/data/tokenizer";

struct Fixture {
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<std::string> documents;
  size_t total_bytes = 0;
};

const Fixture& GetFixture() {
  static const Fixture* const kFixture = [] {
    auto* fixture = new Fixture();
    auto tokenizer = Tokenizer::FromFiles(kDataDir + "/vocab.json", kDataDir + "/merges.txt");
    // SECUREBERT_TOKENIZER_BENCH_CORPUS=FILE.jsonl benchmarks that corpus
    // ({"text": ...} lines, one document each) instead of the generated one.
    const char* corpus = std::getenv("SECUREBERT_TOKENIZER_BENCH_CORPUS");
    BenchCorpusOptions options;
    options.seed_path = kDataDir + "/bench_corpus_seed.txt";
    options.parity_path = kDataDir + "/parity.jsonl";
    auto documents =
        corpus != nullptr && *corpus != '\0' ? ReadJsonlTexts(corpus) : MakeBenchCorpus(options);
    if (!tokenizer.ok() || !documents.ok()) {
      std::fprintf(stderr, "benchmark set-up failed: %s %s\n",
                   tokenizer.status().ToString().c_str(), documents.status().ToString().c_str());
      std::exit(1);
    }
    fixture->tokenizer = *std::move(tokenizer);
    fixture->documents = *std::move(documents);
    for (const std::string& d : fixture->documents) fixture->total_bytes += d.size();
    return fixture;
  }();
  return *kFixture;
}

void EncodeCorpus(benchmark::State& state, const EncodeOptions& options) {
  const Fixture& fixture = GetFixture();
  const size_t documents = fixture.documents.size();
  // Threads start at different documents so they do not walk in lockstep.
  const size_t start = documents * static_cast<size_t>(state.thread_index()) /
                       static_cast<size_t>(std::max(1, state.threads()));
  int64_t bytes = 0;
  int64_t tokens = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < documents; ++i) {
      const std::string& document = fixture.documents[(start + i) % documents];
      auto encoding = fixture.tokenizer->Encode(document, options);
      if (!encoding.ok()) {
        state.SkipWithError(std::string(encoding.status().message()).c_str());
        return;
      }
      bytes += static_cast<int64_t>(document.size());
      tokens += static_cast<int64_t>(encoding->ids.size());
      benchmark::DoNotOptimize(encoding->ids.data());
    }
  }
  state.SetBytesProcessed(bytes);
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.counters["corpus_MB"] = benchmark::Counter(static_cast<double>(fixture.total_bytes) / 1e6,
                                                   benchmark::Counter::kAvgThreads);
}

// Whole documents, no limit.
void BM_Encode(benchmark::State& state) { EncodeCorpus(state, EncodeOptions{}); }

// As the service encodes: right truncation to SecureBERT's 512 tokens.
void BM_EncodeTruncated512(benchmark::State& state) {
  EncodeOptions options;
  options.truncation = Truncation::kRight;
  options.max_tokens = 512;
  EncodeCorpus(state, options);
}

void BM_Decode(benchmark::State& state) {
  const Fixture& fixture = GetFixture();
  std::vector<std::vector<int32_t>> encoded;
  for (const std::string& document : fixture.documents) {
    encoded.push_back(fixture.tokenizer->Encode(document, EncodeOptions{})->ids);
  }
  int64_t bytes = 0;
  for (auto _ : state) {
    for (const auto& ids : encoded) {
      const std::string text = fixture.tokenizer->Decode(ids, /*skip_special_tokens=*/true);
      bytes += static_cast<int64_t>(text.size());
      benchmark::DoNotOptimize(text.data());
    }
  }
  state.SetBytesProcessed(bytes);
}

void ThreadCounts(benchmark::internal::Benchmark* benchmark) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int threads = 1; threads < cores; threads *= 2) benchmark->Threads(threads);
  benchmark->Threads(cores);
}

BENCHMARK(BM_Encode)->Apply(ThreadCounts)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeTruncated512)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace securebert::tokenizer

BENCHMARK_MAIN();
