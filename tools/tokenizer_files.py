#!/usr/bin/env python3
"""Tokenizer files of a model directory, gathered from a Hugging Face tokenizer directory.

A model directory always holds `vocab.json`, `merges.txt`, `tokenizer_config.json`
and `special_tokens_map.json`, plus `tokenizer.json` when the source had one.
When the source has only `tokenizer.json`, the byte-level BPE vocabulary and
merges are extracted from it. The special-token ids for the manifest are looked
up in the vocabulary, never assumed.
"""

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

VOCAB_FILE = "vocab.json"
MERGES_FILE = "merges.txt"
TOKENIZER_JSON = "tokenizer.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
SPECIAL_TOKENS_MAP = "special_tokens_map.json"

# What Hugging Face writes for a RoBERTa tokenizer; used when the source has no map.
ROBERTA_SPECIAL_TOKENS_MAP: Dict[str, Any] = {
    "bos_token": "<s>",
    "cls_token": "<s>",
    "eos_token": "</s>",
    "mask_token": {"content": "<mask>", "lstrip": True, "normalized": False,
                   "rstrip": False, "single_word": False},
    "pad_token": "<pad>",
    "sep_token": "</s>",
    "unk_token": "<unk>",
}
# Manifest role -> special_tokens_map.json key.
SPECIAL_ROLES = {"bos": "bos_token", "pad": "pad_token", "eos": "eos_token",
                 "unk": "unk_token", "mask": "mask_token"}


class TokenizerFilesError(ValueError):
    """Tokenizer files that are missing or inconsistent with the model."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TokenizerFilesError(f"{path}: not valid JSON: {e}") from e


def _dump_json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _bpe_from_tokenizer_json(path: Path) -> Dict[str, bytes]:
    """vocab.json and merges.txt contents extracted from a fast-tokenizer file."""
    tokenizer = _read_json(path)
    model = tokenizer.get("model", {}) if isinstance(tokenizer, dict) else {}
    if model.get("type") != "BPE" or "vocab" not in model or "merges" not in model:
        raise TokenizerFilesError(f"{path}: model is not a byte-level BPE with vocab and merges")
    vocab = dict(model["vocab"])
    merges: List[str] = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    for added in tokenizer.get("added_tokens", []):
        vocab.setdefault(added["content"], added["id"])
    return {VOCAB_FILE: _dump_json(vocab),
            MERGES_FILE: ("#version: 0.2\n" + "\n".join(merges) + "\n").encode("utf-8")}


def _tokenizer_config(src_dir: Path, max_input_tokens: int) -> bytes:
    """The source's tokenizer_config.json with model_max_length capped to what the model allows."""
    path = src_dir / TOKENIZER_CONFIG
    config: Dict[str, Any] = _read_json(path) if path.is_file() else {}
    if not isinstance(config, dict):
        raise TokenizerFilesError(f"{path}: expected a JSON object")
    config.setdefault("tokenizer_class", "RobertaTokenizer")
    config.setdefault("add_prefix_space", False)
    limit = config.get("model_max_length")
    if not isinstance(limit, int) or limit <= 0 or limit > max_input_tokens:
        config["model_max_length"] = max_input_tokens
    return _dump_json(config)


def collect(src_dir: Path, max_input_tokens: int) -> Dict[str, bytes]:
    """File name -> contents for the model directory, from a Hugging Face tokenizer directory."""
    src_dir = Path(src_dir)
    files: Dict[str, bytes] = {}
    has_bpe_files = (src_dir / VOCAB_FILE).is_file() and (src_dir / MERGES_FILE).is_file()
    if has_bpe_files:
        files[VOCAB_FILE] = (src_dir / VOCAB_FILE).read_bytes()
        files[MERGES_FILE] = (src_dir / MERGES_FILE).read_bytes()
    if (src_dir / TOKENIZER_JSON).is_file():
        files[TOKENIZER_JSON] = (src_dir / TOKENIZER_JSON).read_bytes()
        if not has_bpe_files:
            files.update(_bpe_from_tokenizer_json(src_dir / TOKENIZER_JSON))
    if VOCAB_FILE not in files:
        raise TokenizerFilesError(
            f"{src_dir}: no tokenizer; expected {VOCAB_FILE} + {MERGES_FILE} or {TOKENIZER_JSON}")
    files[TOKENIZER_CONFIG] = _tokenizer_config(src_dir, max_input_tokens)
    map_path = src_dir / SPECIAL_TOKENS_MAP
    files[SPECIAL_TOKENS_MAP] = (map_path.read_bytes() if map_path.is_file()
                                 else _dump_json(ROBERTA_SPECIAL_TOKENS_MAP))
    return files


def _token_text(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def special_tokens(files: Dict[str, bytes], vocab_size: int, pad_token_id: int) -> Dict[str, Dict]:
    """The manifest's special_tokens: role -> {"token", "id"}, checked against the model."""
    vocab = json.loads(files[VOCAB_FILE])
    token_map = json.loads(files[SPECIAL_TOKENS_MAP])
    out: Dict[str, Dict] = {}
    for role, key in SPECIAL_ROLES.items():
        token = _token_text(token_map.get(key, ROBERTA_SPECIAL_TOKENS_MAP[key]))
        if token is None or token not in vocab:
            raise TokenizerFilesError(
                f"{SPECIAL_TOKENS_MAP}: {key} {token!r} is not in {VOCAB_FILE}")
        token_id = vocab[token]
        if not 0 <= token_id < vocab_size:
            raise TokenizerFilesError(
                f"{key} {token!r} has id {token_id}, outside the model's vocab_size {vocab_size}")
        out[role] = {"token": token, "id": token_id}
    if out["pad"]["id"] != pad_token_id:
        raise TokenizerFilesError(
            f"pad token {out['pad']['token']!r} has id {out['pad']['id']} in {VOCAB_FILE} but "
            f"config.json says pad_token_id {pad_token_id}")
    return out


def golden_candidate_ids(files: Dict[str, bytes], vocab_size: int) -> List[int]:
    """Sorted ids of ordinary vocabulary entries, for building golden inputs."""
    vocab = json.loads(files[VOCAB_FILE])
    special = {_token_text(v) for v in json.loads(files[SPECIAL_TOKENS_MAP]).values()}
    return sorted(i for t, i in vocab.items() if t not in special and 0 <= i < vocab_size)
