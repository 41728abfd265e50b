"""The engine bench's token mix (bench/token_mix.h), reproduced id for id in Python.

securebert-engine-bench times static batches of MakeTokenMix(texts, 8, 256, seed 7): random
vocabulary ids between <s> and </s>, lengths uniform in [8, 256]. The Python runtimes of the
runtime table (transformers eager, ONNX Runtime: bench/raw_runtimes.py) must time the very
same sequences, so this module replays what the C++ draws: std::mt19937 seeded with one
integer, and libstdc++'s std::uniform_int_distribution over a 32-bit generator, which is
Lemire's multiply-and-reject (GCC 12's bits/uniform_int_dist.h, _S_nd with a 64-bit
product). The harness checks the replay against the engine bench's own token count in every
run (`mix_matches_engine_bench` in the results); bench/tests/test_mixes.py pins the first
ids that the C++ printed.

Pure Python and numpy-free: 6,600 tokens take a few milliseconds.
"""

from typing import List

# What the engine bench passes to MakeTokenMix.
ENGINE_BENCH_SEED = 7
MIN_TOKENS = 8
MAX_TOKENS = 256
# Ordinary ids are drawn from [FIRST_ID, LAST_ID] (token_mix.h).
FIRST_ID, LAST_ID = 4, 50000
BOS_ID, EOS_ID, PAD_ID = 0, 2, 1

_MASK32 = 0xFFFFFFFF


class Mt19937:
    """std::mt19937: the 32-bit Mersenne Twister with the standard's integer seeding."""

    _N, _M = 624, 397

    def __init__(self, seed: int):
        state = [seed & _MASK32]
        for i in range(1, self._N):
            prev = state[-1]
            state.append((1812433253 * (prev ^ (prev >> 30)) + i) & _MASK32)
        self._state = state
        self._index = self._N

    def _twist(self) -> None:
        s, n, m = self._state, self._N, self._M
        for i in range(n):
            y = (s[i] & 0x80000000) | (s[(i + 1) % n] & 0x7FFFFFFF)
            s[i] = s[(i + m) % n] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
        self._index = 0

    def __call__(self) -> int:
        if self._index >= self._N:
            self._twist()
        y = self._state[self._index]
        self._index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        return y ^ (y >> 18)


def uniform_int(rng: Mt19937, low: int, high: int) -> int:
    """std::uniform_int_distribution<int>(low, high)(rng) as libstdc++ (GCC >= 11) computes it."""
    span = high - low + 1  # the distribution's range + 1, as a 32-bit unsigned value
    product = rng() * span
    low_bits = product & _MASK32
    if low_bits < span:
        threshold = ((1 << 32) - span) % span  # -span % span in 32-bit unsigned arithmetic
        while low_bits < threshold:
            product = rng() * span
            low_bits = product & _MASK32
    return low + (product >> 32)


def make_token_mix(count: int, min_tokens: int = MIN_TOKENS, max_tokens: int = MAX_TOKENS,
                   seed: int = ENGINE_BENCH_SEED) -> List[List[int]]:
    """MakeTokenMix(count, min_tokens, max_tokens, seed): <s> ids... </s> per sequence."""
    rng = Mt19937(seed)
    mix = []
    for _ in range(count):
        length = uniform_int(rng, min_tokens, max_tokens)
        mix.append([BOS_ID] + [uniform_int(rng, FIRST_ID, LAST_ID) for _ in range(length - 2)]
                   + [EOS_ID])
    return mix


def sorted_by_length(mix: List[List[int]]) -> List[List[int]]:
    """The mix as the engine bench times it: shortest first (std::sort by size; ties keep no
    particular order there, and equal lengths cost the same, so any order of ties will do)."""
    return sorted(mix, key=len)


def count_tokens(mix: List[List[int]]) -> int:
    return sum(len(s) for s in mix)
