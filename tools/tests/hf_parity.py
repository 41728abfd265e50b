"""Random-weight Hugging Face checkpoints built with `transformers`, for exporter parity tests.

Who uses it: tools/tests/test_transformers_parity.py (the exporter against transformers) and
tests/parity/test_server_vs_transformers.py (the C++ server against transformers). Both need
`transformers` (the project's venv, requirements/pypi.lock); without it importing this module
fails with a message that says so, because a parity test that skips proves nothing.

What it builds: transformers' own RobertaForMaskedLM with SecureBERT's config (or a tiny one),
every parameter overwritten from a seeded generator (biases and LayerNorms too, so no term can
hide as 0 or 1; the LM head's LayerNorm gain makes the softmax peaked, so score tolerances
mean something); or, the same way, transformers' RobertaForSequenceClassification /
RobertaForTokenClassification (`build_classifier`: head weights scaled so the label logits
spread, NER-style token labels whose label2id disagrees with id2label as real fine-tunes'
do); saved the ways a real checkpoint may come:
  - `save_pretrained` (model.safetensors; tied decoder weight and bias left out),
  - a `.bin`-only copy: torch.save of the full state dict, the tied entries and the legacy
    `roberta.embeddings.position_ids` buffer included, as transformers 4.x wrote it.
The tokenizer files (roberta-base vocabulary) go beside the weights.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch

# Set before transformers is imported: the hub is never needed (every model is local).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
try:
    import transformers
except ImportError as e:  # pragma: no cover - depends on the interpreter
    raise ImportError(
        "the transformers parity tests need `transformers`; run them with the project's venv "
        "(scripts/python-env.sh prints its interpreter), not Debian's python3") from e

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPORTER = REPO_ROOT / "tools" / "export_model.py"
TOKENIZER_DIR = REPO_ROOT / "tests" / "data" / "tokenizer"

# Largest accepted |ours - transformers| for hidden states, logits and softmax scores (fp32).
TOLERANCE = 1e-4

PAD_ID, BOS_ID, EOS_ID, MASK_ID = 1, 0, 2, 50264
# Ordinary ids are drawn from [FIRST_ORDINARY_ID, MASK_ID): past <s> <pad> </s> <unk>.
FIRST_ORDINARY_ID = 4

# ehsanaghaei/SecureBERT's config.json, less dropout and bookkeeping keys.
SECUREBERT_CONFIG = dict(
    vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
    intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1,
    layer_norm_eps=1e-5, pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID,
    hidden_act="gelu", position_embedding_type="absolute", tie_word_embeddings=True)


@dataclasses.dataclass(frozen=True)
class Shape:
    """One model shape under test and how its random weights are scaled."""

    name: str  # test id: "tiny" or "full"
    overrides: Dict[str, int]  # changes to SECUREBERT_CONFIG
    weight_std: float  # std of every Linear and Embedding weight
    logit_std: float  # target std of the MLM logits (sets the LM head's LayerNorm gain)


SHAPES = {
    "tiny": Shape("tiny", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                               intermediate_size=128), weight_std=0.1, logit_std=4.0),
    "full": Shape("full", {}, weight_std=0.02, logit_std=4.0),
}


def hf_config(shape: Shape, **head) -> "transformers.RobertaConfig":
    """transformers' RobertaConfig for `shape` (SecureBERT's numbers unless overridden).

    `head`: num_labels, id2label, label2id, problem_type of a classifier.
    """
    values = dict(SECUREBERT_CONFIG, **shape.overrides)
    return transformers.RobertaConfig(**values, **head, initializer_range=shape.weight_std)


@torch.no_grad()
def _randomize(model, shape: Shape, seed: int, gains: Dict[str, float],
               weight_stds: Dict[str, float]) -> None:
    """Every parameter from a seeded generator, in named_parameters order (tied ones once).

    LayerNorm weights 1 + 0.1 noise (times gains[name] where given), other weights
    weight_stds.get(name, shape.weight_std) * noise, biases 0.05 * noise.
    """
    generator = torch.Generator().manual_seed(seed)
    for name, param in model.named_parameters():
        noise = torch.randn(param.shape, generator=generator)
        if "LayerNorm.weight" in name or "layer_norm.weight" in name:
            param.copy_(gains.get(name, 1.0) * (1.0 + 0.1 * noise))
        elif name.endswith(".weight"):
            param.copy_(weight_stds.get(name, shape.weight_std) * noise)
        else:
            param.copy_(0.05 * noise)


def build_model(shape: Shape, seed: int) -> "transformers.RobertaForMaskedLM":
    """transformers' RobertaForMaskedLM (eval, fp32, default attention) with seeded weights."""
    torch.manual_seed(seed)  # transformers' own init draws from the global generator
    model = transformers.RobertaForMaskedLM(hf_config(shape)).eval()
    hidden = model.config.hidden_size
    head_gain = shape.logit_std / (shape.weight_std * hidden ** 0.5)
    _randomize(model, shape, seed, {"lm_head.layer_norm.weight": head_gain}, {})
    assert model.lm_head.decoder.weight is model.roberta.embeddings.word_embeddings.weight
    return model


def ner_labels(count: int) -> List[str]:
    """"O", then B-/I- pairs of made-up entity types, as a token classifier's id2label."""
    kinds = ["MALWARE", "THREAT_ACTOR", "VULNERABILITY", "TOOL", "INDICATOR", "CAMPAIGN",
             "SYSTEM", "ORGANIZATION", "LOCATION", "TIME"]
    labels = ["O"]
    for i in range(1, count):
        kind = kinds[((i - 1) // 2) % len(kinds)] + str((i - 1) // (2 * len(kinds)) or "")
        labels.append(("B-" if i % 2 else "I-") + kind)
    return labels


def build_classifier(kind: str, shape: Shape, labels: Sequence[str], seed: int,
                     problem_type: Optional[str] = None):
    """transformers' RobertaFor{Sequence,Token}Classification (eval, fp32), seeded weights.

    kind: "sequence" or "token". label2id deliberately disagrees with id2label (each name
    maps to the next id), as some published fine-tunes' configs do: only id2label may be read.
    The head's weights are scaled so its logits have a std of about shape.logit_std.
    """
    count = len(labels)
    config = hf_config(shape, num_labels=count, id2label=dict(enumerate(labels)),
                       label2id={name: (i + 1) % count for i, name in enumerate(labels)},
                       problem_type=problem_type)
    model_class = {"sequence": transformers.RobertaForSequenceClassification,
                   "token": transformers.RobertaForTokenClassification}[kind]
    torch.manual_seed(seed)
    model = model_class(config).eval()
    width = model.config.hidden_size ** 0.5
    stds = {"classifier.weight": shape.logit_std / width,  # token head
            "classifier.dense.weight": 1.0 / width,  # sequence head: tanh near unit scale
            "classifier.out_proj.weight": shape.logit_std / (0.63 * width)}
    _randomize(model, shape, seed, {}, stds)
    return model


def _copy_tokenizer(directory: Path) -> None:
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(TOKENIZER_DIR / name, directory / name)


def save_safetensors_checkpoint(model, directory: Path) -> Path:
    """save_pretrained (model.safetensors without the tied entries) plus tokenizer files."""
    model.save_pretrained(str(directory))
    _copy_tokenizer(directory)
    return directory


def save_bin_checkpoint(model, directory: Path) -> Path:
    """A .bin-only directory, as transformers 4.x's save_pretrained(safe_serialization=False).

    transformers 5 always writes safetensors, so the state dict is saved with torch.save:
    every entry, tied decoder weight and bias included, plus the `position_ids` buffer
    that checkpoints of that era carry.
    """
    directory.mkdir(parents=True)
    model.config.save_pretrained(str(directory))
    state = dict(model.state_dict())
    positions = model.config.max_position_embeddings
    state["roberta.embeddings.position_ids"] = torch.arange(positions).expand((1, -1))
    torch.save(state, directory / "pytorch_model.bin")
    _copy_tokenizer(directory)
    return directory


def run_exporter(*args: str, python: str = sys.executable, timeout_s: int = 900) -> str:
    """Runs tools/export_model.py (with this interpreter by default), offline; its stdout line."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([python, str(EXPORTER), *args], env=env, text=True,
                            capture_output=True, timeout=timeout_s, check=False)
    assert result.returncode == 0, (
        f"export_model.py {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout.strip()


@dataclasses.dataclass(frozen=True)
class Batch:
    """A right-padded batch and the positions whose logits are compared."""

    lengths: Tuple[int, ...]  # real tokens per row, <s> and </s> included
    input_ids: torch.Tensor  # [B, max(lengths)] int64, <pad> after each row's length
    attention_mask: torch.Tensor  # [B, max(lengths)] int64, 0 on padding
    rows: torch.Tensor  # [N] row of each compared logit position
    cols: torch.Tensor  # [N] token index of each compared logit position


def make_batch(lengths: Sequence[int], seed: int) -> Batch:
    """<s> ordinary ids (every 37th one <mask>, and position 1 when there is room) </s>, padded.

    A 1-token row is just <s>; a 2-token row is <s> </s>. Logits are compared at every mask,
    at <s>, at the last real token and at the middle one.
    """
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.full((len(lengths), width), PAD_ID, dtype=torch.int64)
    mask = torch.zeros((len(lengths), width), dtype=torch.int64)
    rows: List[int] = []
    cols: List[int] = []
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(FIRST_ORDINARY_ID, MASK_ID, (n,), generator=generator)
        ids[row, 0] = BOS_ID
        if n >= 2:
            ids[row, n - 1] = EOS_ID
        masks = [p for p in range(1, n - 1) if p == 1 or p % 37 == 0]
        ids[row, masks] = MASK_ID
        mask[row, :n] = 1
        for col in sorted(set(masks) | {0, n - 1, n // 2}):
            rows.append(row)
            cols.append(col)
    return Batch(tuple(lengths), ids, mask, torch.tensor(rows), torch.tensor(cols))


@dataclasses.dataclass(frozen=True)
class Expected:
    """transformers' outputs on one batch."""

    hidden: torch.Tensor  # model.roberta(...).last_hidden_state, [B, T, H]
    logits: torch.Tensor  # model(...).logits at (batch.rows, batch.cols), [N, V]


@torch.no_grad()
def transformers_outputs(model, batch: Batch) -> Expected:
    """last_hidden_state from `model.roberta` and MLM logits from `model`, on the padded batch."""
    hidden = model.roberta(input_ids=batch.input_ids,
                           attention_mask=batch.attention_mask).last_hidden_state
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    return Expected(hidden, logits[batch.rows, batch.cols].clone())


def max_diff_at_real_tokens(ours: torch.Tensor, theirs: torch.Tensor,
                            attention_mask: torch.Tensor) -> float:
    """max |ours - theirs| over the positions the attention mask keeps ([B, T, H] inputs)."""
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    keep = attention_mask.bool()
    return float((ours[keep] - theirs[keep]).abs().max())


def max_abs_diff(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    """max |ours - theirs| over tensors of one shape."""
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    return float((ours - theirs).abs().max())


def topk_mismatches(ids: Sequence[int], scores: Sequence[float],
                    probs: torch.Tensor) -> List[str]:
    """What is wrong with a top-k answer (`ids`, `scores`, best first) given transformers' `probs`.

    Each score must be within TOLERANCE of transformers' probability of that id. Rank r may
    hold another id than transformers' rank r only when the two ids' probabilities are within
    a relative TOLERANCE (a tie that float rounding may order either way).
    """
    problems = []
    k = len(ids)
    top_probs, top_ids = torch.topk(probs, k)
    for rank, (token, score) in enumerate(zip(ids, scores)):
        theirs = float(probs[token])
        if abs(score - theirs) > TOLERANCE:
            problems.append(f"rank {rank}: id {token} score {score:.6g}, transformers {theirs:.6g}")
        expected_id, expected_prob = int(top_ids[rank]), float(top_probs[rank])
        if token != expected_id and abs(theirs - expected_prob) > TOLERANCE * expected_prob:
            problems.append(f"rank {rank}: id {token} (p={theirs:.6g}) where transformers has "
                            f"{expected_id} (p={expected_prob:.6g})")
    if len(set(ids)) != k:
        problems.append(f"repeated ids in {list(ids)}")
    return problems


def read_json(path: Path):
    """A JSON file's value."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
