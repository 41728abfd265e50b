#!/usr/bin/python3
"""Writes the seed corpora of the request and model-dir fuzzers (committed under
tests/fuzz/corpus/; rerun after changing it): a few well-formed inputs of each
shape, so the fuzzers start from the paths real traffic takes.

  /usr/bin/python3 tests/fuzz/make_seeds.py

Protobuf is written by hand (field tags and varints): the seeds must not
depend on generated code.
"""

import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, value):
    """A length-delimited (bytes) or varint (int) field."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


EMBED, PREDICT_MASK, TOKENIZE = 0, 1, 2
REQUESTS = {
    "embed_mean": (EMBED, [field(1, "CVE-2024-3094 backdoor in xz"), field(2, 2), field(3, 1)]),
    "embed_tokens": (EMBED, [field(1, "ransomware encrypts files"), field(1, ""), field(4, 1)]),
    "embed_cls_long": (EMBED, [field(1, "lateral movement " * 40), field(2, 1), field(4, 2)]),
    "predict_one": (PREDICT_MASK, [field(1, "Attackers used <mask> to steal credentials."),
                                   field(2, 5)]),
    "predict_many": (PREDICT_MASK, [field(1, "The <mask> exploited <mask> in <mask>."),
                                    field(1, "a <mask>"), field(2, 20), field(4, 1)]),
    "tokenize": (TOKENIZE, [field(1, "Emotet spreads by email. 日本語 🔥"), field(2, 1)]),
}


def escaped(text):
    """A string as FuzzedDataProvider.ConsumeRandomLengthString reads it back:
    backslashes doubled, then a backslash and a space to end it."""
    return text.replace("\\", "\\\\") + "\\ "


def model_dir_seed(vocab, merges, with_tokenizer_json):
    manifest = {"format": "securebert-model", "format_version": 1, "model_id": "fuzz/seed",
                "architecture": {"model_type": "roberta", "num_layers": 2, "hidden_size": 64,
                                 "num_attention_heads": 4, "vocab_size": len(vocab),
                                 "max_position_embeddings": 514, "pad_token_id": 1},
                "max_input_tokens": 512, "encoder": "encoder.pt", "lm_head": "lm_head.pt",
                "files": {}}
    config = {"tokenizer_class": "RobertaTokenizer", "add_prefix_space": False,
              "model_max_length": 512}
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
               "pad_token": "<pad>", "cls_token": "<s>", "sep_token": "</s>",
               "mask_token": {"content": "<mask>", "lstrip": True, "rstrip": False,
                              "normalized": False, "single_word": False}}
    parts = [json.dumps(manifest), json.dumps(config), json.dumps(special), json.dumps(vocab),
             "#version: 0.2\n" + "\n".join(merges) + "\n"]
    text = "".join(escaped(p) for p in parts)
    if with_tokenizer_json:
        text += json.dumps({"model": {"type": "BPE", "vocab": vocab, "merges": merges},
                            "added_tokens": []})
    # The last byte is ConsumeBool's: odd means "write tokenizer.json".
    return text.encode() + bytes([1 if with_tokenizer_json else 0])


def main():
    request_dir = HERE / "corpus" / "request"
    request_dir.mkdir(parents=True, exist_ok=True)
    for name, (kind, fields) in REQUESTS.items():
        (request_dir / name).write_bytes(bytes([kind]) + b"".join(fields))
    tokens = ["<s>", "<pad>", "</s>", "<unk>", "a", "b", "c", "Ġ", "Ġa", "ab", "Ġab", "<mask>"]
    vocab = {token: i for i, token in enumerate(tokens)}
    merges = ["Ġ a", "a b", "Ġa b"]
    model_dir = HERE / "corpus" / "model_dir"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "vocab_merges").write_bytes(model_dir_seed(vocab, merges, False))
    (model_dir / "tokenizer_json").write_bytes(model_dir_seed(vocab, merges, True))


if __name__ == "__main__":
    main()
