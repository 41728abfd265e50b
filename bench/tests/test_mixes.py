"""The Python replays of the C++ mixes against what the C++ printed (bench/token_mix.py,
bench/text_mix.py).

The pinned values come from a driver compiled against bench/token_mix.h and
client/load/text_generator.cc with this tree's compiler (GCC 12, libstdc++): the engine
bench's MakeTokenMix(48 | 16, 8, 256, 7), and CyberTextGenerator's default texts.
"""

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import text_mix  # noqa: E402  pylint: disable=wrong-import-position
import token_mix  # noqa: E402  pylint: disable=wrong-import-position


def test_token_mix_replays_the_engine_bench_mix():
    mix = token_mix.make_token_mix(48)
    assert token_mix.count_tokens(mix) == 6610
    assert [len(s) for s in mix[:3]] == [27, 24, 241]
    assert mix[0][:6] == [0, 11370, 38997, 15951, 21923, 48912]
    assert mix[1][:6] == [0, 33718, 14410, 33617, 45480, 34703]
    assert mix[2][:6] == [0, 6662, 22443, 26173, 19235, 37522]
    assert all(s[-1] == token_mix.EOS_ID for s in mix)
    assert token_mix.count_tokens(token_mix.make_token_mix(16)) == 1923


def test_mt19937_matches_the_standards_10000th_output():
    # [rand.predef]: the 10000th consecutive invocation of a default-constructed
    # std::mt19937 (seed 5489) produces 4123659995.
    rng = token_mix.Mt19937(5489)
    for _ in range(9999):
        rng()
    assert rng() == 4123659995


def test_mt19937_64_matches_the_standards_10000th_output():
    # [rand.predef]: std::mt19937_64's 10000th output is 9981545732273789042.
    rng = text_mix.Mt19937_64(5489)
    for _ in range(9999):
        rng()
    assert rng() == 9981545732273789042


class _Scripted:
    """A generator that returns given 32-bit values in order."""

    def __init__(self, values):
        self.values = list(values)

    def __call__(self):
        return self.values.pop(0)


def test_uniform_int_rejects_low_products_below_the_threshold():
    # Range 3: threshold = 2**32 % 3 = 1. A draw of 0 has product 0 (low bits 0 < 1): it is
    # rejected; 2**31 maps to (2**31 * 3) >> 32 = 1.
    rng = _Scripted([0, 1 << 31])
    assert token_mix.uniform_int(rng, 10, 12) == 11
    assert rng.values == []
    # Low bits >= range: accepted at once, no threshold computed.
    assert token_mix.uniform_int(_Scripted([(1 << 32) - 1]), 0, 2) == 2


def test_text_mix_replays_securebert_loads_default_texts():
    texts = text_mix.generated_texts()
    assert len(texts) == 1024
    assert texts[0].startswith("Security teams should monitor Windows event logs for signs of "
                               "DLL side-loading. The Emotet sample relies on credential "
                               "dumping and beacons to phishing URLs over HTTPS.")
    assert texts[0].endswith("to a ransomware affiliate, who used TrickBot")
    digest = hashlib.sha256(("\n".join(texts) + "\n").encode("utf-8")).hexdigest()
    assert digest == "b10b00ba49c953c2158f023abd1fd482fd8eb859d933fa28141b04dd57775922"


def test_text_mix_inserts_the_mask_as_the_cpp_does():
    generator = text_mix.CyberTextGenerator(min_tokens=20, max_tokens=40, seed=5,
                                            insert_mask=True)
    assert generator.next() == ("Lazarus Group exploited CVE-2017-0144 in the VPN appliance to "
                                "deploy ransomware. Analysts linked 25 command and control "
                                "servers to the threat actor, who used Emotet <mask>")
    assert generator.next() == ("The a custom loader sample relies on process injection and "
                                "<mask> to phishing URLs over HTTPS.")


def test_word_token_estimate_counts_letters_and_other_bytes():
    assert text_mix.estimate_word_tokens("a") == 1
    assert text_mix.estimate_word_tokens("<mask>") == 1
    assert text_mix.estimate_word_tokens("CVE-2021-44228") == 1 + 6  # 3 letters, 11 others
    assert text_mix.estimate_word_tokens("credentials.") == 2 + 1
