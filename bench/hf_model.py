#!/usr/bin/env python3
"""The benchmark's weights: a seeded random-init transformers checkpoint of SecureBERT's shape.

Every runtime the harness compares loads these same weights: transformers (the model card's
code, bench/transformers_peer.py), ONNX Runtime (bench/raw_runtimes.py, exported from it)
and securebert-server / securebert-engine-bench (its `tools/export_model.py --hf-dir`
export). The directory is what `save_pretrained` writes (config.json, model.safetensors)
plus the roberta-base tokenizer files of tests/data/tokenizer, and a tokenizer_config.json
and special_tokens_map.json that give <mask> lstrip, as ehsanaghaei/SecureBERT's do
(transformers 5 builds <mask> without lstrip from vocab.json and merges.txt alone, and
then "a <mask>" keeps a lone "Ġ" token the server does not produce).

  hf_model.py --shape base --seed 0 --out DIR     SecureBERT's shape (12 x 768, 50,265 ids)
  hf_model.py --shape tiny --seed 0 --out DIR     2 layers of width 64 (quick mode)

Weights: transformers' own initialisation (normal(0, 0.02) weights, unit LayerNorms, zero
biases) under torch.manual_seed(seed): the same seed gives the same checkpoint. Prints one
JSON line on stdout: the directory, the shape and the seconds it took.
"""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKENIZER_DIR = REPO_ROOT / "tests" / "data" / "tokenizer"

# ehsanaghaei/SecureBERT's config.json (dropout and bookkeeping keys aside).
SECUREBERT_CONFIG = dict(
    vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
    intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1,
    layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
    hidden_act="gelu", position_embedding_type="absolute", tie_word_embeddings=True)
SHAPES = {
    "base": {},
    "tiny": dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                 intermediate_size=128),
}
MASK_TOKEN = {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False,
              "single_word": False}
SPECIAL_TOKENS_MAP = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
                      "mask_token": MASK_TOKEN, "pad_token": "<pad>", "sep_token": "</s>",
                      "unk_token": "<unk>"}
TOKENIZER_CONFIG = {"tokenizer_class": "RobertaTokenizer", "add_prefix_space": False,
                    "model_max_length": 512, "errors": "replace",
                    "mask_token": dict(MASK_TOKEN, __type="AddedToken"),
                    **{k: v for k, v in SPECIAL_TOKENS_MAP.items() if k != "mask_token"}}
MASK_ID, SPACE_ID = 50264, 1437  # "<mask>" and the lone "Ġ" of roberta-base


def write_tokenizer_files(directory: Path) -> None:
    """vocab.json, merges.txt, and the two files that give <mask> lstrip."""
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(TOKENIZER_DIR / name, directory / name)
    for name, value in (("special_tokens_map.json", SPECIAL_TOKENS_MAP),
                        ("tokenizer_config.json", TOKENIZER_CONFIG)):
        (directory / name).write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def check_mask_lstrip(directory: Path) -> None:
    """Raises unless RobertaTokenizerFast from `directory` strips the space before <mask>."""
    import transformers  # pylint: disable=import-outside-toplevel
    tokenizer = transformers.RobertaTokenizerFast.from_pretrained(str(directory))
    ids = tokenizer("Attackers used <mask> to steal data.")["input_ids"]
    if MASK_ID not in ids or SPACE_ID in ids:
        raise RuntimeError(f"{directory}: <mask> is not lstrip in transformers: ids {ids}")


def build(shape: str, seed: int, out: Path) -> dict:
    """Writes the seeded checkpoint and tokenizer files to `out` (created; must not exist)."""
    import torch  # pylint: disable=import-outside-toplevel
    import transformers  # pylint: disable=import-outside-toplevel
    started = time.monotonic()
    torch.manual_seed(seed)
    config = transformers.RobertaConfig(**dict(SECUREBERT_CONFIG, **SHAPES[shape]))
    model = transformers.RobertaForMaskedLM(config).eval()
    out.mkdir(parents=True)
    model.save_pretrained(str(out))
    write_tokenizer_files(out)
    check_mask_lstrip(out)
    return {"hf_dir": str(out), "shape": shape, "seed": seed,
            "transformers": transformers.__version__, "torch": torch.__version__,
            "seconds": round(time.monotonic() - started, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="directory to create")
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"hf_model.py: {args.out} exists", file=sys.stderr)
        return 1
    print(json.dumps(build(args.shape, args.seed, args.out)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
