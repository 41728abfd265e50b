"""Where our pre-tokenizer's character classes and Hugging Face's differ.

The GPT-2 pattern sorts every code point into \\p{L}, \\p{N}, \\s or the rest.
Our tokenizer takes the classes from utf8proc (libutf8proc 2.8.0: Unicode
15.0); `tokenizers` 0.23.3 takes them from its Oniguruma (Unicode 16.0). The
code points below are exactly those the two sort differently: letters and
digits first assigned in Unicode 15.1 (CJK Extension I) and 16.0 (Egyptian
Hieroglyphs Extended-A, Garay, Todhri, Kirat Rai, Sunuwar, Ol Onal, ...),
which Hugging Face puts in \\p{L} / \\p{N} and we put in "the rest". \\s is
the same 25 White_Space code points on both sides.

derive_differences() recomputes the table from the two libraries themselves,
so test_tokenizers_parity.py can prove it exact for the installed versions.
"""

import ctypes
import ctypes.util
import re
import subprocess

from tokenizers import Regex, pre_tokenizers

# (first, last, Hugging Face's class, our class); "O" is "none of L, N, S".
HF_VS_OURS = (
    (0x01C89, 0x01C8A, "L", "O"), (0x0A7CB, 0x0A7CD, "L", "O"), (0x0A7DA, 0x0A7DC, "L", "O"),
    (0x105C0, 0x105F3, "L", "O"), (0x10D40, 0x10D49, "N", "O"), (0x10D4A, 0x10D65, "L", "O"),
    (0x10D6F, 0x10D85, "L", "O"), (0x10EC2, 0x10EC4, "L", "O"), (0x11380, 0x11389, "L", "O"),
    (0x1138B, 0x1138B, "L", "O"), (0x1138E, 0x1138E, "L", "O"), (0x11390, 0x113B5, "L", "O"),
    (0x113B7, 0x113B7, "L", "O"), (0x113D1, 0x113D1, "L", "O"), (0x113D3, 0x113D3, "L", "O"),
    (0x116D0, 0x116E3, "N", "O"), (0x11BC0, 0x11BE0, "L", "O"), (0x11BF0, 0x11BF9, "N", "O"),
    (0x13460, 0x143FA, "L", "O"), (0x16100, 0x1611D, "L", "O"), (0x16130, 0x16139, "N", "O"),
    (0x16D40, 0x16D6C, "L", "O"), (0x16D70, 0x16D79, "N", "O"), (0x18CFF, 0x18CFF, "L", "O"),
    (0x1CCF0, 0x1CCF9, "N", "O"), (0x1E5D0, 0x1E5ED, "L", "O"), (0x1E5F0, 0x1E5F0, "L", "O"),
    (0x1E5F1, 0x1E5FA, "N", "O"), (0x2EBF0, 0x2EE5D, "L", "O"),
)
DIFFERING = frozenset(cp for a, b, _, _ in HF_VS_OURS for cp in range(a, b + 1))  # 5,004
_DIFFERING_RE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b, _, _ in HF_VS_OURS) + "]")


def has_differing(text):
    """Whether `text` holds a code point of HF_VS_OURS."""
    return _DIFFERING_RE.search(text) is not None


def _negated_ranges(hf_class):
    return "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b, hf, ours in HF_VS_OURS
                   if hf == hf_class and ours != hf_class)


def gpt2_pattern_with_our_classes():
    """The GPT-2 pattern of `tokenizers`' ByteLevel, with \\p{L} and \\p{N}
    narrowed to our classes (every row of HF_VS_OURS is "L or N" -> "O")."""
    assert all(ours == "O" and hf in "LN" for _, _, hf, ours in HF_VS_OURS)
    letters = f"[\\p{{L}}&&[^{_negated_ranges('L')}]]"
    numbers = f"[\\p{{N}}&&[^{_negated_ranges('N')}]]"
    return (f"'s|'t|'re|'ve|'m|'ll|'d| ?{letters}+| ?{numbers}+| ?[^\\s{letters}{numbers}]+"
            r"|\s+(?!\S)|\s+")


def _utf8proc(cli_path):
    """The libutf8proc the CLI is linked with (ldd), else the system's."""
    ldd = subprocess.run(["ldd", str(cli_path)], capture_output=True, text=True, check=False)
    found = re.search(r"libutf8proc\S*\s+=>\s+(\S+)", ldd.stdout)
    path = found.group(1) if found else ctypes.util.find_library("utf8proc")
    lib = ctypes.CDLL(path)
    lib.utf8proc_category.argtypes = [ctypes.c_int32]
    lib.utf8proc_unicode_version.restype = ctypes.c_char_p
    return lib


def _onig_members(scalars, pattern, chunk=4096):
    """Which of `scalars` Oniguruma's `pattern` (one class, "+") matches. In
    chunks: `tokenizers` is slow on one string of a million characters."""
    member = bytearray(b"\x01") * len(scalars)
    split = pre_tokenizers.Split(Regex(pattern), behavior="removed")
    for base in range(0, len(scalars), chunk):
        text = "".join(map(chr, scalars[base:base + chunk]))
        for _, (start, end) in split.pre_tokenize_str(text):  # what is left: non-members
            member[base + start:base + end] = bytes(end - start)
    return member


def derive_differences(cli_path):
    """[(first, last, hf_class, our_class)] recomputed from `tokenizers`'
    Oniguruma and utf8proc (our char_classifier.cc's rule: L* letters, N*
    numbers, Zs Zl Zp + U+0009..U+000D + U+0085 whitespace); and utf8proc's
    Unicode version."""
    scalars = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    hf_l, hf_n, hf_s = (_onig_members(scalars, p) for p in (r"\p{L}+", r"\p{N}+", r"\s+"))
    lib = _utf8proc(cli_path)
    rows = []
    for i, cp in enumerate(scalars):
        hf = "L" if hf_l[i] else "N" if hf_n[i] else "S" if hf_s[i] else "O"
        category = lib.utf8proc_category(cp)
        if 9 <= cp <= 13 or cp == 0x85 or category in (23, 24, 25):
            ours = "S"
        elif 1 <= category <= 5:
            ours = "L"
        elif 9 <= category <= 11:
            ours = "N"
        else:
            ours = "O"
        if hf == ours:
            continue
        if rows and rows[-1][1] == cp - 1 and rows[-1][2:] == (hf, ours):
            rows[-1] = (rows[-1][0], cp, hf, ours)
        else:
            rows.append((cp, cp, hf, ours))
    return rows, lib.utf8proc_unicode_version().decode()
