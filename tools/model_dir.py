#!/usr/bin/env python3
"""Writes a self-contained model directory, atomically, for the C++ model runner.

Contents (names are the contract with server/model/):
  encoder.pt      TorchScript: forward(input_ids[B,T] int64, attention_mask[B,T] int64)
                  -> last_hidden_state[B,T,H] float32; int attributes hidden_size,
                  num_layers, vocab_size, max_position_embeddings, pad_token_id
  lm_head.pt      masked LMs only. TorchScript: forward(hidden[N,H] float32) -> logits[N,V]
                  float32; int attributes hidden_size, vocab_size
  task_head.pt    classifiers only (roberta_heads.py). TorchScript, int attributes hidden_size,
                  num_labels; sequence: forward(cls[N,H]) -> logits[N,L] (the <s> vectors);
                  token: forward(hidden[N,T,H]) -> logits[N,T,L]
  vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json
                  [, tokenizer.json]
  goldens.json    see goldens.py
  accuracy.json   int8 models only: the accuracy report against float32 (quantize.py)
  manifest.json   format, architecture, special tokens, dtype ("float32" or "int8-dynamic",
                  with a "quantization" object naming the quantized engine), the module
                  files ("encoder"; "lm_head" only when there is one; a "task_head" object
                  with the kind, labels and problem type), sha256 and size of every other file

Everything is written to a hidden sibling directory first and renamed into place,
so an interrupted export never leaves a partial model directory behind.
"""

import dataclasses
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Dict, Optional

import torch

import roberta_heads

FORMAT = "securebert-model"
FORMAT_VERSION = 1
ENCODER_FILE = "encoder.pt"
LM_HEAD_FILE = "lm_head.pt"
TASK_HEAD_FILE = "task_head.pt"
GOLDENS_FILE = "goldens.json"
MANIFEST_FILE = "manifest.json"
EXPORTER = "tools/export_model.py"


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Where the weights came from, as recorded in the manifest."""

    model_id: str  # e.g. "ehsanaghaei/SecureBERT" or "random-init/tiny"
    source: str  # human-readable origin, e.g. "hf-dir:/path" or "random-init:tiny:seed=0"
    random_weights: bool  # true when the weights are not a trained checkpoint's


@dataclasses.dataclass(frozen=True)
class Quantization:
    """How the encoder was quantized: the manifest's dtype and entry, extra files."""

    dtype: str  # "int8-dynamic"
    entry: Dict  # the manifest's "quantization" object
    files: Dict[str, Dict]  # JSON documents written beside the model, by name


class DestinationError(ValueError):
    """The output path exists and may not be replaced."""


def check_destination(out: Path, force: bool) -> None:
    """Refuses an existing `out` unless --force is given and it is a model directory (or empty).

    Called before any work so a refusal is immediate; the check is repeated at the rename.
    """
    if not out.exists() and not out.is_symlink():
        return
    if not force:
        raise DestinationError(f"{out} already exists; pass --force to replace it")
    if not out.is_dir() or out.is_symlink():
        raise DestinationError(f"{out} exists and is not a directory; refusing to replace it")
    manifest = out / MANIFEST_FILE
    if not any(out.iterdir()):
        return
    try:
        is_model_dir = json.loads(manifest.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        is_model_dir = False
    if not is_model_dir:
        raise DestinationError(
            f"{out} exists and is not a {FORMAT} directory (no valid {MANIFEST_FILE}); "
            "refusing to replace it even with --force")


def script_modules(model: roberta_heads.ReferenceModel) -> Dict[str, torch.jit.ScriptModule]:
    """{file name: TorchScript module}: the encoder and the LM head or the task head.

    Scripted, not traced, so every batch size and length works.
    """
    model.eval()
    modules = {ENCODER_FILE: torch.jit.script(model.roberta)}
    if model.lm_head is not None:
        modules[LM_HEAD_FILE] = torch.jit.script(model.lm_head)
    if model.head is not None:
        modules[TASK_HEAD_FILE] = torch.jit.script(model.classifier)
    return modules


def file_entries(directory: Path) -> Dict[str, Dict]:
    """{"name": {"sha256", "bytes"}} for every file in `directory` except the manifest."""
    entries = {}
    for path in sorted(directory.iterdir()):
        if path.name == MANIFEST_FILE or not path.is_file():
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        entries[path.name] = {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}
    return entries


def task_head_entry(head: roberta_heads.TaskHeadConfig) -> Dict:
    """The manifest's "task_head" object."""
    return {
        "kind": head.kind,
        "file": TASK_HEAD_FILE,
        "num_labels": head.num_labels,
        "labels": list(head.labels),
        "problem_type": head.problem_type,
        "architecture": head.architecture,
    }


def build_manifest(model: roberta_heads.ReferenceModel, special: Dict[str, Dict],
                   provenance: Provenance, directory: Path,
                   quantization: Optional[Quantization] = None) -> Dict:
    """The manifest for `model`'s files, already written to `directory`."""
    config = model.config
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_id": provenance.model_id,
        "source": provenance.source,
        "random_weights": provenance.random_weights,
        "architecture": {
            "model_type": "roberta",
            "num_layers": config.num_hidden_layers,
            "hidden_size": config.hidden_size,
            "num_attention_heads": config.num_attention_heads,
            "intermediate_size": config.intermediate_size,
            "vocab_size": config.vocab_size,
            "max_position_embeddings": config.max_position_embeddings,
            "type_vocab_size": config.type_vocab_size,
            "layer_norm_eps": config.layer_norm_eps,
            "pad_token_id": config.pad_token_id,
        },
        "special_tokens": special,
        "max_input_tokens": config.max_input_tokens,
        "dtype": quantization.dtype if quantization else "float32",
        "encoder": ENCODER_FILE,
    }
    if model.lm_head is not None:
        manifest["lm_head"] = LM_HEAD_FILE
    if model.head is not None:
        manifest["task_head"] = task_head_entry(model.head)
    manifest.update({
        "files": file_entries(directory),
        "torch_version": torch.__version__,
        "exporter": EXPORTER,
    })
    if quantization:
        manifest["quantization"] = quantization.entry
    return manifest


def _write_json(path: Path, value: Dict) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def _move_into_place(staging: Path, out: Path, force: bool) -> None:
    check_destination(out, force)
    if not out.exists():
        os.rename(staging, out)
        return
    retired = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(out, retired)
    os.rename(staging, out)
    shutil.rmtree(retired)


def write(out: Path, model: roberta_heads.ReferenceModel, tokenizer: Dict[str, bytes],
          special: Dict[str, Dict], goldens: Dict, provenance: Provenance, force: bool,
          quantization: Optional[Quantization] = None) -> Dict:
    """Writes the model directory at `out` and returns its manifest."""
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        for name, module in script_modules(model).items():
            module.save(str(staging / name))
        for name, content in tokenizer.items():
            (staging / name).write_bytes(content)
        (staging / GOLDENS_FILE).write_text(json.dumps(goldens, separators=(",", ":")) + "\n",
                                            encoding="utf-8")
        for name, document in (quantization.files.items() if quantization else ()):
            _write_json(staging / name, document)
        manifest = build_manifest(model, special, provenance, staging, quantization)
        _write_json(staging / MANIFEST_FILE, manifest)
        _move_into_place(staging, out, force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest
