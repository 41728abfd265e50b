// The benchmark token mix: deterministic sequences of random vocabulary ids,
// <s> ... </s>, with lengths uniform in [min_tokens, max_tokens] (8..256 by
// default, the mix the performance targets are stated for). Header-only.
#ifndef SECUREBERT_BENCH_TOKEN_MIX_H_
#define SECUREBERT_BENCH_TOKEN_MIX_H_

#include <cstdint>
#include <random>
#include <vector>

namespace securebert::bench {

inline std::vector<std::vector<int32_t>> MakeTokenMix(int count, int min_tokens, int max_tokens,
                                                      uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> length(min_tokens, max_tokens);
  std::uniform_int_distribution<int32_t> id(4, 50000);
  std::vector<std::vector<int32_t>> mix(count);
  for (auto& seq : mix) {
    const int n = length(rng);
    seq.push_back(0);
    for (int i = 0; i < n - 2; ++i) seq.push_back(id(rng));
    seq.push_back(2);
  }
  return mix;
}

inline int64_t CountTokens(const std::vector<std::vector<int32_t>>& mix) {
  int64_t n = 0;
  for (const auto& s : mix) n += static_cast<int64_t>(s.size());
  return n;
}

}  // namespace securebert::bench

#endif  // SECUREBERT_BENCH_TOKEN_MIX_H_
