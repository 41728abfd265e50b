"""A pure-Python byte-level BPE tokenizer for the naive peer (bench/naive_peer.py).

It reads a model directory's vocab.json and merges.txt and encodes text the
way RoBERTa's slow Python tokenizer does: GPT-2 pre-tokenization, each piece
mapped byte by byte onto printable characters, then BPE merges by rank with
a per-word cache. Special tokens in the text are matched as added tokens;
`<mask>` swallows the whitespace before it (lstrip), as in SecureBERT's
special_tokens_map.json.

Python's `re` has no \\p{L} / \\p{N}, so the GPT-2 pattern is approximated:
letters are `[^\\W\\d_]`, numbers `\\d`. Ids may therefore differ from Hugging
Face's on exotic text (letter-like marks, non-decimal numerals). This module
exists so the naive peer does comparable tokenization work per request; it is
a throughput peer, not a reference tokenizer.
"""

import json
import re
from pathlib import Path
from typing import Dict, List, Tuple

# GPT-2's pre-tokenizer with Python-`re` stand-ins for \p{L} and \p{N}.
_PRETOKENIZE = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
# Added tokens: <mask> with every whitespace before it (lstrip=True), the others bare.
_ADDED_SPLIT = re.compile(r"(\s*<mask>|<s>|</s>|<pad>|<unk>)")
MASK_TEXT = "<mask>"


def byte_to_char_table() -> Dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters.

    Printable Latin-1 bytes stand for themselves; the others are moved up to
    code points 256 and beyond, in byte order.
    """
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
                 list(range(ord("®"), ord("ÿ") + 1)))
    table = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


class ByteLevelBpe:
    """Encodes text to (id, token text, byte start, byte end) tuples and decodes ids.

    Not thread-safe for writes to its word cache in theory; under CPython's GIL
    dict updates are atomic, which is what a naive server relies on.
    """

    def __init__(self, model_dir: Path):
        model_dir = Path(model_dir)
        with open(model_dir / "vocab.json", encoding="utf-8") as f:
            self.vocab: Dict[str, int] = json.load(f)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.ranks: Dict[Tuple[str, str], int] = {}
        with open(model_dir / "merges.txt", encoding="utf-8") as f:
            for line in f:
                if line.startswith("#version") or not line.strip():
                    continue
                left, right = line.rstrip("\n").split(" ")
                self.ranks[(left, right)] = len(self.ranks)
        self.byte_char = byte_to_char_table()
        self.char_byte = {c: b for b, c in self.byte_char.items()}
        self.unk_id = self.vocab.get("<unk>", 3)
        self.mask_id = self.vocab.get(MASK_TEXT)
        self._cache: Dict[str, List[str]] = {}

    def _bpe(self, word: str) -> List[str]:
        """Merges the characters of one mapped pre-token by rank, lowest first."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.ranks.get(pair, 1 << 30), i)
                      for i, pair in enumerate(zip(parts, parts[1:]))]
            rank, _ = min(ranked)
            if rank == 1 << 30:
                break
            merged: List[str] = []
            i = 0
            while i < len(parts):
                if i + 1 < len(parts) and self.ranks.get((parts[i], parts[i + 1])) == rank:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        self._cache[word] = parts
        return parts

    def _encode_plain(self, text: str, byte_base: int, out: List[Tuple[int, str, int, int]]):
        """Appends the tokens of text without added tokens; offsets from byte_base."""
        position = byte_base
        for piece in _PRETOKENIZE.findall(text):
            raw = piece.encode("utf-8")
            mapped = "".join(self.byte_char[b] for b in raw)
            for token in self._bpe(mapped):
                width = len(token)  # one mapped character per byte
                out.append((self.vocab.get(token, self.unk_id), token, position, position + width))
                position += width

    def encode(self, text: str) -> List[Tuple[int, str, int, int]]:
        """Tokens of text, no <s> / </s>: (id, vocabulary string, byte start, byte end)."""
        out: List[Tuple[int, str, int, int]] = []
        position = 0
        for index, segment in enumerate(_ADDED_SPLIT.split(text)):
            if not segment:
                continue
            width = len(segment.encode("utf-8"))
            if index % 2 == 1:  # an added token (odd items are the split's captures)
                token = segment.lstrip()
                start = position + width - len(token)
                out.append((self.vocab.get(token, self.unk_id), token, start, position + width))
            else:
                self._encode_plain(segment, position, out)
            position += width
        return out

    def decode_token(self, token_id: int) -> str:
        """One id back to text, stripped, invalid UTF-8 replaced (as the model card prints)."""
        token = self.id_to_token.get(token_id, "")
        if token.startswith("<") and token.endswith(">"):
            return token
        raw = bytes(self.char_byte.get(c, 0x3F) for c in token)
        return raw.decode("utf-8", errors="replace").strip()
