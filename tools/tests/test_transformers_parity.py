"""The exporter against Hugging Face `transformers` itself, not against its own reference.

For a tiny shape and SecureBERT's full shape, transformers' RobertaForMaskedLM with seeded
random weights is saved as a Hugging Face directory twice (save_pretrained's safetensors
with tied weights left out; a .bin-only copy) and exported three ways: --hf-dir of each
(reference model + our checkpoint reader) and --hf of the safetensors one (transformers'
loader). Every export's encoder.pt and lm_head.pt, the reference model itself and the
goldens written beside the export must reproduce transformers' last_hidden_state and MLM
logits within 1e-4 (fp32), on right-padded batches with rows of 1 to 512 tokens.

Needs `transformers` (the project's venv): without it every test here fails (never skips),
so tools/CMakeLists.txt's python_tools, run with Debian's python3, must --ignore this file.
The `full` cases (about 125M parameters, 2.5 GB of scratch files, removed afterwards) take
most of the time; `-k tiny` or `-k full` selects one shape. Run with `-rP` to see the
measured max differences and timings.
"""

from __future__ import annotations  # annotations name hf_parity, which may be missing

import dataclasses
import shutil
import time
import types
from pathlib import Path
from typing import Dict, List

import pytest
import torch

import hf_checkpoint
import roberta_ref
import safetensors_io

try:
    import hf_parity
except ImportError as missing:  # Debian's python3: each test fails, the rest of tools/tests runs
    hf_parity = None
    MISSING_TRANSFORMERS = str(missing)

# Right-padded batches (row lengths, <s> and </s> included) per shape; the full shape's are
# smaller because every forward through it costs seconds on a CPU.
BATCHES = {
    "tiny": ((512, 300, 77, 3, 2, 1), (3, 2, 1), (130, 129, 64)),
    "full": ((512, 300), (77, 3, 2, 1)),
}
SEEDS = {"tiny": 1234, "full": 4321}
# Export name -> exporter arguments (given the two checkpoint directories).
EXPORTS = {
    "hf-dir-safetensors": lambda st, bin_: ["--hf-dir", str(st)],
    "hf-dir-bin": lambda st, bin_: ["--hf-dir", str(bin_)],
    "hf": lambda st, bin_: ["--hf", str(st)],
}
TIED_KEYS = ("lm_head.decoder.weight", "lm_head.decoder.bias")


@dataclasses.dataclass
class Subject:
    """One shape's transformers model, its checkpoints, its exports and transformers' outputs."""

    shape: str  # "tiny" or "full"
    model: object  # transformers.RobertaForMaskedLM, eval
    safetensors_dir: Path  # save_pretrained output
    bin_dir: Path  # .bin-only copy
    exports: Dict[str, Path]  # export name -> model directory
    batches: List[hf_parity.Batch]  # inputs of every comparison
    expected: List[hf_parity.Expected]  # transformers' outputs, one per batch
    seconds: Dict[str, float]  # what each setup step took
    loaded: Dict[str, tuple] = dataclasses.field(default_factory=dict)  # (encoder, lm_head)
    cases: Dict[tuple, tuple] = dataclasses.field(default_factory=dict)  # ids -> (hidden, logits)
    loaded_reference: list = dataclasses.field(default_factory=list)  # [the reference model]

    def reference(self) -> roberta_ref.RobertaForMaskedLM:
        """The reference model loaded from the safetensors directory by our reader, once."""
        if not self.loaded_reference:
            self.loaded_reference.append(
                hf_checkpoint.load_reference_model(self.safetensors_dir))
        return self.loaded_reference[0]

    def modules(self, export: str):
        """The export's reloaded TorchScript (encoder, lm_head), loaded once."""
        if export not in self.loaded:
            directory = self.exports[export]
            self.loaded[export] = (torch.jit.load(str(directory / "encoder.pt")).eval(),
                                   torch.jit.load(str(directory / "lm_head.pt")).eval())
        return self.loaded[export]

    @torch.no_grad()
    def transformers_case(self, input_ids: List[int]):
        """transformers' (last_hidden_state [T,H], logits [T,V]) for one unpadded sequence, once."""
        key = tuple(input_ids)
        if key not in self.cases:
            ids = torch.tensor([input_ids])
            self.cases[key] = (self.model.roberta(input_ids=ids).last_hidden_state[0],
                               self.model(input_ids=ids).logits[0])
        return self.cases[key]


def _timed(seconds: Dict[str, float], name: str, fn):
    started = time.monotonic()
    value = fn()
    seconds[name] = time.monotonic() - started
    return value


@pytest.fixture(scope="module", params=["tiny", "full"])
def subject(request, tmp_path_factory):
    """Builds, saves and exports one shape; its scratch directory is removed afterwards."""
    if hf_parity is None:
        pytest.fail(MISSING_TRANSFORMERS, pytrace=False)
    name = request.param
    shape = hf_parity.SHAPES[name]
    root = tmp_path_factory.mktemp(f"parity-{name}")
    seconds: Dict[str, float] = {}
    model = _timed(seconds, "build", lambda: hf_parity.build_model(shape, SEEDS[name]))
    st = _timed(seconds, "save_pretrained",
                lambda: hf_parity.save_safetensors_checkpoint(model, root / "hf-safetensors"))
    bin_ = _timed(seconds, "save_bin",
                  lambda: hf_parity.save_bin_checkpoint(model, root / "hf-bin"))
    exports = {}
    for export, arguments in EXPORTS.items():
        out = root / f"export-{export}"
        _timed(seconds, f"export {export}",
               lambda: hf_parity.run_exporter(*arguments(st, bin_), "--out", str(out)))
        exports[export] = out
    batches = [hf_parity.make_batch(lengths, seed=SEEDS[name] + i)
               for i, lengths in enumerate(BATCHES[name])]
    expected = _timed(seconds, "transformers forward",
                      lambda: [hf_parity.transformers_outputs(model, b) for b in batches])
    print(f"\n[{name}] setup seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    yield Subject(name, model, st, bin_, exports, batches, expected, seconds)
    shutil.rmtree(root, ignore_errors=True)


@torch.no_grad()
def compare(subject: Subject, what: str, encoder, lm_head) -> None:
    """Asserts encoder/lm_head reproduce transformers on every batch; prints the max diffs."""
    worst_hidden = worst_logits = 0.0
    for batch, expected in zip(subject.batches, subject.expected):
        hidden = encoder(batch.input_ids, batch.attention_mask)
        worst_hidden = max(worst_hidden, hf_parity.max_diff_at_real_tokens(
            hidden, expected.hidden, batch.attention_mask))
        logits = lm_head(hidden[batch.rows, batch.cols])
        worst_logits = max(worst_logits, hf_parity.max_abs_diff(logits, expected.logits))
    print(f"[{subject.shape}] {what}: max |diff| last_hidden_state {worst_hidden:.2e}, "
          f"logits {worst_logits:.2e}")
    tolerance = hf_parity.TOLERANCE
    assert worst_hidden <= tolerance, f"{what}: last_hidden_state differs by {worst_hidden:.3g}"
    assert worst_logits <= tolerance, f"{what}: MLM logits differ by {worst_logits:.3g}"


def test_checkpoints_take_the_forms_real_ones_do(subject):
    """The premises: tied weights left out of the safetensors; a .bin transformers loads."""
    stored = safetensors_io.read_file(subject.safetensors_dir / "model.safetensors")
    assert not set(TIED_KEYS) & set(stored)
    assert "roberta.embeddings.word_embeddings.weight" in stored and "lm_head.bias" in stored
    assert {p.name for p in subject.bin_dir.iterdir()} == {
        "config.json", "pytorch_model.bin", "vocab.json", "merges.txt"}
    pickled = torch.load(subject.bin_dir / "pytorch_model.bin", weights_only=True)
    assert {*TIED_KEYS, "roberta.embeddings.position_ids"} <= set(pickled)
    reloaded = type(subject.model).from_pretrained(str(subject.bin_dir)).eval()
    theirs = subject.model.state_dict()
    for key, value in reloaded.state_dict().items():
        assert torch.equal(value, theirs[key]), key
    assert reloaded.lm_head.decoder.weight is reloaded.roberta.embeddings.word_embeddings.weight


def test_outputs_are_not_degenerate(subject):
    """The premises of the tolerances: long padded rows, a peaked softmax, spread-out states."""
    assert any(0 in b.attention_mask for b in subject.batches)
    assert max(max(b.lengths) for b in subject.batches) >= 300
    probs = torch.softmax(subject.expected[0].logits, dim=-1)
    assert float(probs.max(dim=-1).values.median()) > 0.01  # a 1e-4 score error would show
    spread = float(subject.expected[0].hidden[subject.batches[0].attention_mask.bool()].std())
    assert spread > 0.1


def test_reference_model_matches_transformers(subject):
    reference = subject.reference()
    compare(subject, "reference model (roberta_ref, eager)", reference.roberta, reference.lm_head)


@pytest.mark.parametrize("export", list(EXPORTS))
def test_export_matches_transformers(subject, export):
    encoder, lm_head = subject.modules(export)
    compare(subject, f"export {export} (encoder.pt + lm_head.pt)", encoder, lm_head)


@pytest.mark.parametrize("export", list(EXPORTS))
def test_exported_weights_are_transformers_weights(subject, export):
    """Bit-identical parameters under Hugging Face's names, tied decoder included."""
    encoder, lm_head = subject.modules(export)
    for ours, theirs in ((encoder, subject.model.roberta), (lm_head, subject.model.lm_head)):
        expected = dict(theirs.named_parameters(remove_duplicate=False))
        got = ours.state_dict()
        assert set(got) == set(expected)
        for key, value in got.items():
            assert torch.equal(value, expected[key]), key
    assert torch.equal(lm_head.state_dict()["decoder.weight"],
                       subject.model.roberta.embeddings.word_embeddings.weight)


@pytest.mark.parametrize("export", list(EXPORTS))
@torch.no_grad()
def test_goldens_match_transformers(subject, export):
    """goldens.json (what the C++ tests hold the server to) against transformers."""
    document = hf_parity.read_json(subject.exports[export] / "goldens.json")
    worst_hidden = worst_score = 0.0
    masks = 0
    for case in document["cases"]:
        hidden, logits = subject.transformers_case(case["input_ids"])
        golden = torch.tensor(case["last_hidden_state"]).view(hidden.shape)
        worst_hidden = max(worst_hidden, hf_parity.max_abs_diff(golden, hidden))
        for entry in case["lm"]:
            probs = torch.softmax(logits[entry["position"]], dim=-1)
            problems = hf_parity.topk_mismatches(entry["topk_ids"], entry["topk_scores"], probs)
            assert not problems, f"{case['name']} position {entry['position']}: {problems}"
            scores = torch.tensor(entry["topk_scores"])
            worst_score = max(worst_score, hf_parity.max_abs_diff(
                scores, probs[entry["topk_ids"]]))
            masks += 1
    print(f"[{subject.shape}] goldens of {export}: {len(document['cases'])} cases, {masks} masks; "
          f"max |diff| last_hidden_state {worst_hidden:.2e}, top-k scores {worst_score:.2e}")
    assert masks >= 3
    assert worst_hidden <= hf_parity.TOLERANCE, f"goldens differ by {worst_hidden:.3g}"


@pytest.mark.parametrize("export, source", [("hf-dir-safetensors", "hf-dir:"),
                                            ("hf-dir-bin", "hf-dir:"), ("hf", "transformers:")])
def test_manifest_describes_the_checkpoint(subject, export, source):
    manifest = hf_parity.read_json(subject.exports[export] / "manifest.json")
    config = subject.model.config
    assert manifest["source"].startswith(source) and manifest["random_weights"] is False
    assert manifest["architecture"] == {
        "model_type": "roberta", "num_layers": config.num_hidden_layers,
        "hidden_size": config.hidden_size, "num_attention_heads": config.num_attention_heads,
        "intermediate_size": config.intermediate_size, "vocab_size": config.vocab_size,
        "max_position_embeddings": config.max_position_embeddings,
        "type_vocab_size": config.type_vocab_size, "layer_norm_eps": config.layer_norm_eps,
        "pad_token_id": config.pad_token_id}
    assert manifest["max_input_tokens"] == 512


def _tanh_gelu(monkeypatch):
    approximate = types.SimpleNamespace(
        gelu=lambda x: torch.nn.functional.gelu(x, approximate="tanh"))
    monkeypatch.setattr(roberta_ref, "F", approximate)


def _positions_without_offset(monkeypatch):
    original = roberta_ref.position_ids_from_input_ids
    monkeypatch.setattr(roberta_ref, "position_ids_from_input_ids",
                        lambda ids, pad: original(ids, pad) - ids.ne(pad).to(torch.int64))


def _padding_attended(monkeypatch):
    monkeypatch.setattr(roberta_ref, "lowest_value", lambda dtype: 0.0)


@pytest.mark.parametrize("deviate", [_tanh_gelu, _positions_without_offset, _padding_attended],
                         ids=["tanh-gelu", "positions-off-by-one", "padding-attended"])
@torch.no_grad()
def test_comparison_detects_plausible_deviations(subject, deviate, monkeypatch):
    """The comparison has teeth: mistakes a port of RoBERTa could make exceed the tolerance.

    Run on the last (short, padded) batch only: any batch shows these, and it is cheap.
    """
    reference = subject.reference()  # the deviations patch roberta_ref's functions, not weights
    deviate(monkeypatch)
    batch, expected = subject.batches[-1], subject.expected[-1]
    assert 0 in batch.attention_mask
    hidden = reference.roberta(batch.input_ids, batch.attention_mask)
    worst = hf_parity.max_diff_at_real_tokens(hidden, expected.hidden, batch.attention_mask)
    print(f"[{subject.shape}] deviation {deviate.__name__}: last_hidden_state off by {worst:.2e}")
    assert worst > 2 * hf_parity.TOLERANCE
