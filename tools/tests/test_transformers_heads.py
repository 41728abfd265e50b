"""The exporter's task heads against Hugging Face `transformers` itself.

transformers' own RobertaForSequenceClassification (4 labels, single- and multi-label) and
RobertaForTokenClassification (40 NER-style labels whose label2id disagrees with id2label,
id2label keys written in string order as transformers 4 wrote them) with seeded random
weights and the tiny config are saved with save_pretrained and exported with --hf-dir
(reference model + our checkpoint reader) and --hf (transformers' loader). Each export's
encoder.pt + task_head.pt, and the goldens written beside it, must reproduce transformers'
logits within 1e-4 (fp32) on right-padded batches of 1 to 512 tokens; the manifest must
name the labels in id order.

Needs `transformers` (the project's venv): without it every test here fails (never skips),
so tools/CMakeLists.txt's python_tools, run with Debian's python3, must --ignore this file.
Run with `-rP` to see the measured max differences.
"""

from __future__ import annotations  # annotations name hf_parity, which may be missing

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import torch

import hf_checkpoint
import safetensors_io

try:
    import hf_parity
except ImportError as missing:  # Debian's python3: each test fails, the rest of tools/tests runs
    hf_parity = None
    MISSING_TRANSFORMERS = str(missing)

# Subject name -> (head kind, label count, problem_type in config.json).
SUBJECTS = {
    "sequence": ("sequence", 4, None),
    "sequence-multi-label": ("sequence", 4, "multi_label_classification"),
    "token": ("token", 40, None),
}
BATCHES = ((512, 300, 77, 3, 2, 1), (130, 129, 64), (5,))
SEED = 2718
EXPORTS = {
    "hf-dir": lambda src: ["--hf-dir", str(src)],
    "hf": lambda src: ["--hf", str(src)],
}


@dataclasses.dataclass
class Subject:
    """One transformers classifier, its checkpoint, its exports and transformers' logits."""

    name: str  # a SUBJECTS key
    kind: str  # "sequence" or "token"
    model: object  # transformers' classifier, eval
    labels: List[str]  # id2label in id order
    checkpoint: Path  # save_pretrained output (config.json rewritten, see below)
    exports: Dict[str, Path]  # export name -> model directory
    batches: List[object]  # hf_parity.Batch inputs
    expected: List[torch.Tensor]  # transformers' logits per batch: [B, L] or [B, T, L]


def _scramble_label_order(checkpoint: Path) -> None:
    """Rewrites config.json with id2label keys in string order ("10" before "2")."""
    path = checkpoint / "config.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["id2label"] = {key: raw["id2label"][key] for key in sorted(raw["id2label"])}
    path.write_text(json.dumps(raw, indent=2), encoding="utf-8")


@pytest.fixture(scope="module", params=list(SUBJECTS))
def subject(request, tmp_path_factory):
    if hf_parity is None:
        pytest.fail(MISSING_TRANSFORMERS, pytrace=False)
    name = request.param
    kind, count, problem_type = SUBJECTS[name]
    labels = hf_parity.ner_labels(count) if kind == "token" else \
        [f"class_{i}" for i in range(count)]
    root = tmp_path_factory.mktemp(f"heads-{name}")
    model = hf_parity.build_classifier(kind, hf_parity.SHAPES["tiny"], labels, SEED,
                                       problem_type=problem_type)
    checkpoint = hf_parity.save_safetensors_checkpoint(model, root / "hf")
    _scramble_label_order(checkpoint)
    exports = {}
    for export, arguments in EXPORTS.items():
        exports[export] = root / f"export-{export}"
        hf_parity.run_exporter(*arguments(checkpoint), "--out", str(exports[export]))
    batches = [hf_parity.make_batch(lengths, seed=SEED + i) for i, lengths in enumerate(BATCHES)]
    with torch.no_grad():
        expected = [model(input_ids=b.input_ids, attention_mask=b.attention_mask).logits
                    for b in batches]
    yield Subject(name, kind, model, labels, checkpoint, exports, batches, expected)
    shutil.rmtree(root, ignore_errors=True)


def test_checkpoint_takes_the_form_real_fine_tunes_do(subject):
    """The premises: no LM head stored; id2label out of integer order; label2id disagreeing."""
    stored = hf_parity.read_json(subject.checkpoint / "config.json")
    assert stored["architectures"] == [type(subject.model).__name__]
    assert [stored["label2id"][name] for name in subject.labels] != list(range(len(subject.labels)))
    if subject.kind == "token":
        assert list(stored["id2label"])[:3] == ["0", "1", "10"]
    keys = set(safetensors_io.read_file(subject.checkpoint / "model.safetensors"))
    assert not any(k.startswith("lm_head.") for k in keys)
    assert any(k.startswith("classifier.") for k in keys)


def test_logits_are_not_degenerate(subject):
    """The premise of the tolerance: logits spread well beyond 1e-4, rows disagree."""
    logits = subject.expected[0]
    assert float(logits.std()) > 1.0
    top2 = logits.topk(2, dim=-1).values
    assert float((top2[..., 0] - top2[..., 1]).median()) > 0.1
    assert float((logits[0] - logits[1]).abs().max()) > 100 * hf_parity.TOLERANCE


@pytest.mark.parametrize("export", list(EXPORTS))
def test_manifest_names_the_labels_in_id_order(subject, export):
    manifest = hf_parity.read_json(subject.exports[export] / "manifest.json")
    assert "lm_head" not in manifest
    problem_type = SUBJECTS[subject.name][2] or "single_label_classification"
    assert manifest["task_head"] == {
        "kind": f"{subject.kind}_classification", "file": "task_head.pt",
        "num_labels": len(subject.labels), "labels": subject.labels,
        "problem_type": problem_type, "architecture": type(subject.model).__name__}
    assert "task_head.pt" in manifest["files"] and "lm_head.pt" not in manifest["files"]


@pytest.mark.parametrize("export", list(EXPORTS))
@torch.no_grad()
def test_exported_logits_match_transformers(subject, export):
    directory = subject.exports[export]
    encoder = torch.jit.load(str(directory / "encoder.pt")).eval()
    head = torch.jit.load(str(directory / "task_head.pt")).eval()
    worst = 0.0
    for batch, expected in zip(subject.batches, subject.expected):
        hidden = encoder(batch.input_ids, batch.attention_mask)
        if subject.kind == "sequence":
            diff = hf_parity.max_abs_diff(head(hidden[:, 0]), expected)
        else:
            diff = hf_parity.max_diff_at_real_tokens(head(hidden), expected,
                                                     batch.attention_mask)
        worst = max(worst, diff)
    print(f"[{subject.name}] export {export} (encoder.pt + task_head.pt): "
          f"max |diff| logits {worst:.2e}")
    assert worst <= hf_parity.TOLERANCE, f"{export}: logits differ by {worst:.3g}"


@pytest.mark.parametrize("export", list(EXPORTS))
@torch.no_grad()
def test_exported_head_weights_are_transformers_weights(subject, export):
    head = torch.jit.load(str(subject.exports[export] / "task_head.pt"))
    theirs = dict(subject.model.classifier.named_parameters())
    assert set(head.state_dict()) == set(theirs)
    for key, value in head.state_dict().items():
        assert torch.equal(value, theirs[key]), key


@pytest.mark.parametrize("export", list(EXPORTS))
@torch.no_grad()
def test_golden_head_logits_match_transformers(subject, export):
    document = hf_parity.read_json(subject.exports[export] / "goldens.json")
    worst = 0.0
    for case in document["cases"]:
        assert case["lm"] == []
        ids = torch.tensor([case["input_ids"]])
        logits = subject.model(input_ids=ids).logits[0]
        worst = max(worst, hf_parity.max_abs_diff(torch.tensor(case["head_logits"]),
                                                  logits.reshape(-1)))
    print(f"[{subject.name}] goldens of {export}: {len(document['cases'])} cases, "
          f"max |diff| head_logits {worst:.2e}")
    assert worst <= hf_parity.TOLERANCE


def test_unsupported_architecture_is_refused_through_transformers(tmp_path):
    """--hf reads the architecture first: a RobertaForQuestionAnswering is refused by name."""
    if hf_parity is None:
        pytest.fail(MISSING_TRANSFORMERS, pytrace=False)
    model = hf_parity.transformers.RobertaForQuestionAnswering(
        hf_parity.hf_config(hf_parity.SHAPES["tiny"]))
    checkpoint = hf_parity.save_safetensors_checkpoint(model, tmp_path / "qa")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    result = subprocess.run([sys.executable, str(hf_parity.EXPORTER), "--hf", str(checkpoint),
                             "--out", str(tmp_path / "m")], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 1
    assert "['RobertaForQuestionAnswering'] names none of the supported" in result.stderr
    assert not (tmp_path / "m").exists()


# Mistakes a port of the heads could make: (name, head kinds it applies to, the wrong logits
# from the reference model's encoder output and head).
DEVIATIONS = {
    "no-tanh": ("sequence", lambda c, h: c.out_proj(c.dense(h[:, 0]))),
    "mean-pooled": ("sequence", lambda c, h: c(h.mean(dim=1))),
    "no-bias": ("token", lambda c, h: h @ c.weight.T),
}


@torch.no_grad()
def test_comparison_detects_plausible_deviations(subject):
    """The comparison has teeth: each deviation of the subject's kind exceeds the tolerance."""
    reference = hf_checkpoint.load_reference_model(subject.checkpoint)
    batch, expected = subject.batches[0], subject.expected[0]
    hidden = reference.roberta(batch.input_ids, batch.attention_mask)
    tried = 0
    for deviation, (kind, wrong) in DEVIATIONS.items():
        if kind != subject.kind:
            continue
        logits = wrong(reference.classifier, hidden)
        if kind == "sequence":
            worst = hf_parity.max_abs_diff(logits, expected)
        else:
            worst = hf_parity.max_diff_at_real_tokens(logits, expected, batch.attention_mask)
        print(f"[{subject.name}] deviation {deviation}: logits off by {worst:.2e}")
        assert worst > 2 * hf_parity.TOLERANCE, deviation
        tried += 1
    assert tried
