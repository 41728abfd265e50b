"""Shared helpers for the export-toolchain tests: small models, fake Hugging Face directories."""

import json
import shutil
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest
import torch

TOOLS_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOOLS_DIR))

import roberta_heads  # noqa: E402  pylint: disable=wrong-import-position
import roberta_ref  # noqa: E402  pylint: disable=wrong-import-position
import safetensors_io  # noqa: E402  pylint: disable=wrong-import-position

TOKENIZER_DIR = TOOLS_DIR.parent / "tests" / "data" / "tokenizer"
# Large enough for the roberta-base vocabulary (<mask> is 50264).
FULL_VOCAB = 50265


def small_config(vocab_size: int = 1000, **overrides) -> roberta_ref.RobertaConfig:
    """A two-layer, 32-wide RoBERTa: fast, but with several heads and a distinct FFN width."""
    values = dict(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2,
                  num_attention_heads=4, intermediate_size=48, max_position_embeddings=514)
    values.update(overrides)
    return roberta_ref.RobertaConfig(**values)


@torch.no_grad()
def randomized(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Makes every parameter random (biases and LayerNorms too), so no term can hide as 0 or 1."""
    generator = torch.Generator().manual_seed(seed)
    for name, param in model.named_parameters():
        noise = torch.randn(param.shape, generator=generator)
        if "LayerNorm.weight" in name or "layer_norm.weight" in name:
            param.copy_(1.0 + 0.1 * noise)
        else:
            param.copy_(0.05 * noise)
    return model.eval()


def make_model(config: roberta_ref.RobertaConfig, seed: int = 0) -> roberta_ref.RobertaForMaskedLM:
    """A reference masked LM with every parameter random."""
    return randomized(roberta_ref.RobertaForMaskedLM(config), seed)


def make_head_model(config: roberta_ref.RobertaConfig, kind: str, labels, seed: int = 0,
                    problem_type: str = roberta_heads.SINGLE_LABEL):
    """A reference classifier (`kind`, label names `labels`) with every parameter random."""
    head = roberta_heads.TaskHeadConfig(kind, tuple(labels), problem_type)
    return randomized(roberta_heads.build_model(config, head), seed)


def hf_config_dict(model) -> Dict:
    """The config.json transformers would write for `model` (masked LM or classifier)."""
    raw = model.config.to_hf_dict()
    if model.head is not None:
        raw["architectures"] = [model.head.architecture]
        raw["id2label"] = {str(i): label for i, label in enumerate(model.head.labels)}
        raw["label2id"] = {label: i for i, label in enumerate(model.head.labels)}
        raw["problem_type"] = model.head.problem_type
    return raw


def random_batch(batch: int, length: int, vocab_size: int, seed: int,
                 lengths: Optional[list] = None):
    """(input_ids, attention_mask): <s> ids </s>, right-padded with <pad> to each row's length."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, vocab_size, (batch, length), generator=generator)
    mask = torch.ones(batch, length, dtype=torch.int64)
    for row in range(batch):
        n = length if lengths is None else lengths[row]
        ids[row, 0] = 0
        ids[row, n - 1] = 2
        ids[row, n:] = 1
        mask[row, n:] = 0
    return ids, mask


def write_fake_hf_dir(directory: Path, model: torch.nn.Module,
                      weights: str = "safetensors", omit: tuple = (),
                      extra: Optional[Dict[str, torch.Tensor]] = None,
                      config: Optional[Dict] = None) -> Path:
    """A Hugging Face-style model directory for `model` (a masked LM or a classifier).

    weights: "safetensors" or "bin". `omit` drops state-dict entries (e.g. the tied
    decoder weight, as real checkpoints do); `extra` adds entries (pooler, buffers).
    `config` replaces the config.json that `hf_config_dict` would write.
    """
    directory.mkdir(parents=True, exist_ok=True)
    raw = hf_config_dict(model) if config is None else config
    (directory / "config.json").write_text(json.dumps(raw))
    state = {k: v.clone() for k, v in model.state_dict().items() if k not in omit}
    state.update(extra or {})
    if weights == "safetensors":
        safetensors_io.save_file(state, directory / "model.safetensors", {"format": "pt"})
    else:
        torch.save(state, directory / "pytorch_model.bin")
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(TOKENIZER_DIR / name, directory / name)
    (directory / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "RobertaTokenizer", "model_max_length": 512, "errors": "replace"}))
    return directory


@pytest.fixture(scope="session")
def full_vocab_model() -> roberta_ref.RobertaForMaskedLM:
    """A small model whose vocabulary covers the roberta-base tokenizer."""
    return make_model(small_config(vocab_size=FULL_VOCAB), seed=11)
