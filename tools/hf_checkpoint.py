#!/usr/bin/env python3
"""Load a downloaded Hugging Face RoBERTa directory into the reference model.

Reads `config.json` and the weights (`model.safetensors`, `pytorch_model.bin`,
or a sharded `*.index.json` of either) without importing `transformers`, and
copies them into the reference model of the architecture config.json names
(`architectures`): `roberta_ref.RobertaForMaskedLM`, or roberta_heads.py's
`RobertaForSequenceClassification` / `RobertaForTokenClassification`, under the
same names. A config without `architectures` is read as a masked LM.

For a masked LM, as Hugging Face does, the decoder weight is tied to the word
embeddings and the decoder bias to `lm_head.bias` (a checkpoint may omit
either). For a classifier, the labels are config.json's `id2label` in integer
id order (`label2id` is not read: real checkpoints have ones that disagree) and
`problem_type` defaults to single-label. Legacy LayerNorm names `gamma`/`beta`
are read as `weight`/`bias`, and the pooler and the `position_ids` /
`token_type_ids` buffers some checkpoints carry are ignored; any other tensor
the model lacks, or lacks from the checkpoint, is an error.
"""

import inspect
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch

import roberta_heads
import roberta_ref
import safetensors_io

CONFIG_FILE = "config.json"
# Single-file weights, in order of preference, and their sharded index files.
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")

WORD_EMBEDDINGS = "roberta.embeddings.word_embeddings.weight"
DECODER_WEIGHT = "lm_head.decoder.weight"
DECODER_BIAS = "lm_head.decoder.bias"
LM_HEAD_BIAS = "lm_head.bias"

_IGNORED_PREFIXES = ("roberta.pooler.",)
_IGNORED_SUFFIXES = ("embeddings.position_ids", "embeddings.token_type_ids")


MASKED_LM = roberta_ref.RobertaForMaskedLM.architecture
# config.json "architectures" entries this loader reads -> the head kind (None: masked LM).
SUPPORTED_ARCHITECTURES = {MASKED_LM: None,
                           **{arch: kind for kind, arch in roberta_heads.ARCHITECTURES.items()}}


class CheckpointError(ValueError):
    """A model directory or checkpoint that cannot be loaded, with the reason."""


def _config_path(model_dir: Path) -> Path:
    path = Path(model_dir) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(
            f"{model_dir}: no {CONFIG_FILE}; expected a Hugging Face model directory "
            f"({CONFIG_FILE}, {' or '.join(WEIGHT_FILES)}, tokenizer files)")
    return path


def read_config(model_dir: Path) -> roberta_ref.RobertaConfig:
    """The architecture from `model_dir/config.json`."""
    try:
        return roberta_ref.RobertaConfig.from_json_file(_config_path(model_dir))
    except ValueError as e:
        raise CheckpointError(str(e)) from e


def architecture_of(raw: Dict[str, Any], source: str) -> str:
    """The supported class config.json's "architectures" names (RobertaForMaskedLM if absent)."""
    names = raw.get("architectures") or [MASKED_LM]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CheckpointError(f"{source}: \"architectures\" is {names!r}, not a list of names")
    supported = sorted({n for n in names if n in SUPPORTED_ARCHITECTURES})
    if len(supported) != 1:
        problem = "names none of" if not supported else "names more than one of"
        raise CheckpointError(
            f"{source}: \"architectures\" {names} {problem} the supported "
            f"{', '.join(SUPPORTED_ARCHITECTURES)}")
    return supported[0]


def _labels(raw: Dict[str, Any], source: str) -> Tuple[str, ...]:
    """id2label's names in integer id order; LABEL_i for num_labels (default 2) without one."""
    id2label = raw.get("id2label")
    if id2label is None:  # Hugging Face's default names
        count = raw.get("num_labels", 2)
        if not isinstance(count, int) or isinstance(count, bool):
            raise CheckpointError(f"{source}: \"num_labels\" is {count!r}, not an integer")
        return tuple(f"LABEL_{i}" for i in range(count))
    if not isinstance(id2label, dict) or not id2label:
        raise CheckpointError(f"{source}: \"id2label\" is {id2label!r}, not a non-empty object")
    try:
        by_id = {int(key): name for key, name in id2label.items()}
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{source}: \"id2label\" has a key that is not an integer "
                              f"id: {e}") from e
    if sorted(by_id) != list(range(len(by_id))) or len(by_id) != len(id2label):
        raise CheckpointError(f"{source}: \"id2label\" ids {sorted(by_id)[:8]} are not "
                              f"0..{len(id2label) - 1}")
    return tuple(by_id[i] for i in range(len(by_id)))


def head_from_config(raw: Dict[str, Any], source: str) -> Optional[roberta_heads.TaskHeadConfig]:
    """The task head a Hugging Face config dict describes; None for a masked LM."""
    kind = SUPPORTED_ARCHITECTURES[architecture_of(raw, source)]
    if kind is None:
        return None
    problem_type = raw.get("problem_type") or roberta_heads.SINGLE_LABEL
    try:
        return roberta_heads.TaskHeadConfig(kind, _labels(raw, source), problem_type)
    except ValueError as e:
        raise CheckpointError(f"{source}: {e}") from e


def read_head(model_dir: Path) -> Optional[roberta_heads.TaskHeadConfig]:
    """The task head `model_dir/config.json` describes; None for a masked LM."""
    path = _config_path(model_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not valid JSON: {e}") from e
    return head_from_config(raw, str(path))


def _read_torch_bin(path: Path) -> Dict[str, torch.Tensor]:
    kwargs = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = True  # refuse pickled code; a state dict needs none
    try:
        state = torch.load(path, **kwargs)
    except Exception as e:  # pickle and zip errors have many types; report them all the same way
        raise CheckpointError(f"{path}: cannot read as a PyTorch state dict: {e}") from e
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a dict of tensors (a state dict)")
    return dict(state)


def _read_weight_file(path: Path) -> Dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path}: weight file is missing")
    if path.name.endswith(".safetensors"):
        return safetensors_io.load_file(path)
    return _read_torch_bin(path)


def _read_sharded(index_path: Path) -> Dict[str, torch.Tensor]:
    try:
        weight_map = json.loads(index_path.read_text(encoding="utf-8"))["weight_map"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{index_path}: not a weight index with a 'weight_map': {e}") from e
    state: Dict[str, torch.Tensor] = {}
    for shard in sorted(set(weight_map.values())):
        state.update(_read_weight_file(index_path.parent / shard))
    missing = sorted(set(weight_map) - set(state))
    if missing:
        raise CheckpointError(
            f"{index_path}: shards lack tensors listed in the index: {_describe(missing)}")
    return state


def read_state_dict(model_dir: Path) -> Tuple[Dict[str, torch.Tensor], str]:
    """The checkpoint's tensors and the name of the file (or index) they came from."""
    model_dir = Path(model_dir)
    for name in WEIGHT_FILES:
        if (model_dir / name).is_file():
            return _read_weight_file(model_dir / name), name
    for name in INDEX_FILES:
        if (model_dir / name).is_file():
            return _read_sharded(model_dir / name), name
    raise CheckpointError(
        f"{model_dir}: no weights file; expected one of {', '.join(WEIGHT_FILES + INDEX_FILES)}")


def _normalized(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Drops ignored entries and renames legacy LayerNorm parameters."""
    out: Dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if key.startswith(_IGNORED_PREFIXES) or key.endswith(_IGNORED_SUFFIXES):
            continue
        if key.endswith(".gamma"):
            key = key[: -len("gamma")] + "weight"
        elif key.endswith(".beta"):
            key = key[: -len("beta")] + "bias"
        out[key] = tensor
    return out


def _apply_ties(state: Dict[str, torch.Tensor], tie_word_embeddings: bool) -> None:
    """Fills the tied entries the way Hugging Face's tying resolves them."""
    if LM_HEAD_BIAS not in state and DECODER_BIAS in state:
        state[LM_HEAD_BIAS] = state[DECODER_BIAS]
    if LM_HEAD_BIAS in state:
        state[DECODER_BIAS] = state[LM_HEAD_BIAS]
    if tie_word_embeddings and WORD_EMBEDDINGS in state:
        state[DECODER_WEIGHT] = state[WORD_EMBEDDINGS]


def _describe(keys: List[str]) -> str:
    shown = ", ".join(keys[:8])
    return shown + (f" (and {len(keys) - 8} more)" if len(keys) > 8 else "")


def load_into(model: roberta_heads.ReferenceModel, state: Dict[str, torch.Tensor],
              source: str) -> None:
    """Copies a Hugging Face state dict into `model`; raises CheckpointError naming any problem."""
    state = _normalized(state)
    if model.lm_head is not None:
        _apply_ties(state, model.config.tie_word_embeddings)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    if missing:
        raise CheckpointError(f"{source}: checkpoint lacks {_describe(missing)}")
    unexpected = sorted(set(state) - set(expected))
    if unexpected:
        raise CheckpointError(f"{source}: checkpoint has tensors the model does not: "
                              f"{_describe(unexpected)}")
    for key, target in expected.items():
        tensor = state[key]
        if tuple(tensor.shape) != tuple(target.shape):
            raise CheckpointError(
                f"{source}: tensor {key} has shape {list(tensor.shape)}, but config.json "
                f"implies {list(target.shape)}")
        if not tensor.is_floating_point():
            raise CheckpointError(f"{source}: tensor {key} has non-float dtype {tensor.dtype}")
    model.load_state_dict({k: state[k] for k in expected}, strict=True)


def load_reference_model(model_dir: Path) -> roberta_heads.ReferenceModel:
    """The reference model (float32, eval mode) holding a Hugging Face directory's weights.

    A masked LM, or a classifier with its head config, as config.json's architectures say.
    """
    config = read_config(model_dir)
    head = read_head(model_dir)
    state, weights_name = read_state_dict(model_dir)
    model = roberta_heads.build_model(config, head)
    load_into(model, state, str(Path(model_dir) / weights_name))
    return model
