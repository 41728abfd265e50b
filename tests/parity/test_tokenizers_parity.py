"""Our tokenizer (through the securebert-tokenize CLI) against Hugging Face's
`tokenizers` on 24,611 generated strings (parity_corpus.py: prose, logs,
code, URLs, hashes, IPs, paths, emoji, CJK, combining marks, RTL, control
characters, random code points of all 17 planes, 300..10,000-byte words,
runs of whitespace, <s> </s> <mask> <pad> <unk> and look-alikes inside text,
and the texts of tests/data/tokenizer/parity.jsonl), in six configurations:
no limit; right and left truncation to 16 and to 64 tokens; no special
tokens. One CLI process per configuration, all texts on its stdin.

The reference is RoBERTa's fast tokenizer built from `tokenizers` with the
same vocab.json and merges.txt (hf_reference.py); it is itself checked against
transformers' RobertaTokenizerFast.from_pretrained on the same files, what
model-card users run.

For every string and configuration these hold exactly (nothing is skipped):

1. ids, tokens (as HF's Encoding.tokens shows them) and the truncated flag
   are Hugging Face's. The one exception, exact: the 5,004 code points of
   unicode_classes.HF_VS_OURS (letters and digits first assigned in Unicode
   15.1 and 16.0) are \\p{L} / \\p{N} to `tokenizers`' Oniguruma (Unicode
   16.0) and neither to our utf8proc (Unicode 15.0). A string holding one is
   compared with the reference whose pre-tokenizer has our classes
   (hf_reference.reference(our_classes=True)). Tested besides: that
   reference is the stock one on every other string, it does differ on some
   corpus strings, and the table is exactly where the two libraries differ.
2. Offsets. Ours are byte offsets; HF's are character offsets, converted to
   bytes here through the UTF-8 encoding. Widen each of our offsets to whole
   characters (start down, end up, to the nearest character boundary;
   hf_reference.round_out): the result is exactly HF's offsets with
   trim_offsets=False. Only tokens that hold part of a character's bytes
   change (byte-level BPE splits emoji, CJK, ...): "😀" is two tokens, ours
   (0,3) and (3,4), HF's both (0,4).
3. Apply `tokenizers`' trim_offsets to the widened offsets
   (hf_reference.trim_offsets: a token's start moves past its leading "Ġ" and
   White_Space characters, never past its end; its end back over its trailing
   ones, never before its start): the result is exactly HF's offsets
   (RobertaProcessing, trim_offsets=True). So in "Hello world" the token
   "Ġworld" is ours (5,11), HF's (6,11); in "a   b" the space-only tokens
   "Ġ" (1,2) and (2,3) are HF's (2,2) and (3,3); a " <mask>" that absorbed
   whitespace (lstrip) is ours (1,9), HF's (3,9). A BPE token of newlines or
   tabs ("ĊĊ") is not trimmed: only "Ġ" counts inside BPE tokens; an added
   token's absorbed whitespace is trimmed whatever White_Space it is.

Set SECUREBERT_TOKENIZE_BIN to the CLI (default build/bin/securebert-tokenize);
a missing CLI fails the tests. Run with -s to see the counts per configuration.
"""

import json
import os
from pathlib import Path

import pytest

import hf_reference
import parity_corpus
import unicode_classes
from parity_check import Config, ParityRunner, reproduction, shrink

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "tests" / "data" / "tokenizer"
VOCAB, MERGES = DATA_DIR / "vocab.json", DATA_DIR / "merges.txt"
CONFIGS = {
    "untruncated": Config(),
    "right16": Config(16, "right"),
    "left16": Config(16, "left"),
    "right64": Config(64, "right"),
    "left64": Config(64, "left"),
    "no_special_tokens": Config(special=False),
}
MAX_REPRODUCTIONS = 3  # kinds of failure shrunk and printed per configuration


@pytest.fixture(scope="module")
def cli():
    path = Path(os.environ.get("SECUREBERT_TOKENIZE_BIN",
                               REPO / "build" / "bin" / "securebert-tokenize"))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"securebert-tokenize not found at {path}: build it "
                    "(cmake --build build --target securebert-tokenize) or set "
                    "SECUREBERT_TOKENIZE_BIN", pytrace=False)
    return path


@pytest.fixture(scope="module")
def runner(cli):
    return ParityRunner(cli, VOCAB, MERGES)


@pytest.fixture(scope="module")
def corpus():
    return parity_corpus.make_corpus(parity_texts=parity_corpus.parity_file_texts())


@pytest.fixture(scope="module")
def texts(corpus):
    return [text for _, text in corpus]


def test_corpus_has_every_kind(corpus):
    texts = [t for _, t in corpus]
    assert len(texts) >= 20_000
    assert set(parity_corpus.COUNTS) | {"parity_file", "empty"} == {c for c, _ in corpus}
    assert texts == [t for _, t in parity_corpus.make_corpus(
        parity_texts=[t for c, t in corpus if c == "parity_file"])], "not deterministic"
    planes = {ord(c) >> 16 for t in texts for c in t}
    assert planes == set(range(17))
    assert not any(0xD800 <= ord(c) <= 0xDFFF for t in texts for c in t)
    assert sum(len(t.encode()) >= 10_000 for t in texts) >= 30
    for needle in parity_corpus.SPECIALS + ("   ", "\n\n\n", "\t\t", "\u3000<mask>", "\x00"):
        assert any(needle in t for t in texts), needle
    assert sum(unicode_classes.has_differing(t) for t in texts) >= 300


@pytest.mark.parametrize("name", CONFIGS)
def test_ids_and_offsets_match_hugging_face(name, runner, texts):
    config = CONFIGS[name]
    outcomes = runner.compare(texts, config)
    failures = [(t, o.failure) for t, o in zip(texts, outcomes) if o.failure]
    print(f"\n[{name}] {len(texts)} strings compared ({sum(len(t.encode()) for t in texts)} "
          f"bytes): {len(texts) - len(failures)} pass; offsets equal to HF's as they are: "
          f"{sum(o.exact for o in outcomes)}, by rule 2 (partial characters): "
          f"{sum(o.widened for o in outcomes)}, by rule 3 (trim_offsets): "
          f"{sum(o.trimmed for o in outcomes)}; our character classes used for "
          f"{sum(map(unicode_classes.has_differing, texts))}")
    if failures:
        first_of_kind = {}
        for text, failure in failures:
            first_of_kind.setdefault(failure, text)
        shown = [reproduction(runner, shrink(runner, text, config), config)
                 for text in list(first_of_kind.values())[:MAX_REPRODUCTIONS]]
        counts = {kind: sum(f == kind for _, f in failures) for kind in first_of_kind}
        pytest.fail(f"[{name}] {len(failures)} of {len(texts)} strings differ {counts}; "
                    "minimal reproductions (the first string of each kind, shrunk):\n" +
                    "\n\n".join(shown), pytrace=False)


# Literal values (checked by hand) for the rules of the docstring.
EXAMPLES = [
    # text, our byte offsets, HF's offsets as bytes
    ("Hello world", [(0, 0), (0, 5), (5, 11), (0, 0)], [(0, 0), (0, 5), (6, 11), (0, 0)]),
    ("a  <mask> b", [(0, 0), (0, 1), (1, 9), (9, 11), (0, 0)],
     [(0, 0), (0, 1), (3, 9), (10, 11), (0, 0)]),
    ("x\u3000\t<mask>", [(0, 0), (0, 1), (1, 11), (0, 0)], [(0, 0), (0, 1), (5, 11), (0, 0)]),
    ("😀 😀x", [(0, 0), (0, 3), (3, 4), (4, 8), (8, 9), (9, 10), (0, 0)],
     [(0, 0), (0, 4), (0, 4), (5, 9), (5, 9), (9, 10), (0, 0)]),
    ("a   b", [(0, 0), (0, 1), (1, 2), (2, 3), (3, 5), (0, 0)],
     [(0, 0), (0, 1), (2, 2), (3, 3), (4, 5), (0, 0)]),
    ("a\n\n b", [(0, 0), (0, 1), (1, 3), (3, 5), (0, 0)], [(0, 0), (0, 1), (1, 3), (4, 5), (0, 0)]),
]


def test_offset_rules_on_literal_examples(runner):
    ours = runner.run_cli([text for text, _, _ in EXAMPLES], Config())
    hf = runner.run_hf([text for text, _, _ in EXAMPLES], Config(), trim=True)
    for (text, ours_expected, hf_expected), line, encoding in zip(EXAMPLES, ours, hf):
        starts = hf_reference.char_starts(text)
        assert [tuple(p) for p in line["offsets"]] == ours_expected, text
        assert hf_reference.chars_to_bytes(starts, encoding.offsets) == hf_expected, text
        assert line["ids"] == encoding.ids, text


def test_our_classes_reference_differs_only_on_unicode_16(runner, texts):
    stock = runner.refs[(False, True)]
    narrowed = runner.refs[(True, True)]
    stock.no_truncation()
    narrowed.no_truncation()
    differing = 0
    for text, a, b in zip(texts, stock.encode_batch(texts), narrowed.encode_batch(texts)):
        same = (a.ids, a.offsets) == (b.ids, b.offsets)
        assert same or unicode_classes.has_differing(text), repr(text)
        differing += not same
    print(f"\n{differing} corpus strings tokenize differently with Unicode 16.0 classes")
    assert differing > 0
    # Unicode 16.0 letters: one word to HF, three to us (and to Unicode 15.0).
    assert narrowed.pre_tokenizer.pre_tokenize_str("a\U00013460b") != \
        stock.pre_tokenizer.pre_tokenize_str("a\U00013460b")


def test_class_difference_table_is_exact(cli):
    rows, utf8proc_version = unicode_classes.derive_differences(cli)
    assert rows == list(unicode_classes.HF_VS_OURS), (
        f"utf8proc {utf8proc_version} and tokenizers' Oniguruma now differ on {rows}; update "
        "unicode_classes.HF_VS_OURS and server/tokenizer/README.md")


def test_reference_is_transformers_roberta_tokenizer(tmp_path, runner, texts):
    from transformers import RobertaTokenizerFast  # pylint: disable=import-outside-toplevel
    for name in ("vocab.json", "merges.txt"):
        (tmp_path / name).symlink_to(DATA_DIR / name)
    # As saved with roberta-base / SecureBERT: <mask> with lstrip. (transformers
    # 5 gives a directory without this file a <mask> without lstrip.)
    (tmp_path / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "pad_token": "<pad>", "cls_token": "<s>",
        "mask_token": {"content": "<mask>", "lstrip": True, "rstrip": False,
                       "normalized": False, "single_word": False}}))
    model_card = RobertaTokenizerFast.from_pretrained(str(tmp_path))
    ours_ref = runner.refs[(False, True)]
    mine, theirs = json.loads(ours_ref.to_str()), json.loads(model_card.backend_tokenizer.to_str())
    for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder", "added_tokens"):
        assert mine[key] == theirs[key], key
    for side, max_length in (("right", None), ("left", 16)):
        model_card.truncation_side = side
        got = model_card(texts, return_offsets_mapping=True, truncation=max_length is not None,
                         max_length=max_length)
        if max_length:
            ours_ref.enable_truncation(max_length, direction=side)
        else:
            ours_ref.no_truncation()
        expected = ours_ref.encode_batch(texts)
        if got["input_ids"] != [e.ids for e in expected] or \
                got["offset_mapping"] != [e.offsets for e in expected]:
            for text, ids, offsets, encoding in zip(texts, got["input_ids"],
                                                    got["offset_mapping"], expected):
                assert (ids, offsets) == (encoding.ids, encoding.offsets), (side, repr(text))
            pytest.fail(f"[{side}] transformers' answer has other types than the reference's")
    ours_ref.no_truncation()
