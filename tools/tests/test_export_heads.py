"""export_model.py with a task head: random-init and --hf-dir classifiers, manifest, goldens."""

import contextlib
import hashlib
import io
import json
import subprocess
import sys

import pytest
import torch

import export_model
import roberta_heads
from conftest import FULL_VOCAB, TOOLS_DIR, make_head_model, random_batch, small_config, \
    write_fake_hf_dir

HEAD_FILES = {"encoder.pt", "task_head.pt", "vocab.json", "merges.txt", "tokenizer_config.json",
              "special_tokens_map.json", "goldens.json", "manifest.json"}
# --head -> (--labels, the labels the exporter must name them).
RANDOM_HEADS = {
    "sequence": (4, ["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3"]),
    "token": (40, ["O"] + [f"{p}-ENT{i}" for i in range(1, 20) for p in "BI"] + ["B-ENT20"]),
}


def read_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def export_tiny(out, head, labels, *extra):
    return export_model.main(["--random-init", "tiny", "--head", head, "--labels", str(labels),
                              "--out", str(out), *extra])


def reference(head: str, seed: int = 0, multi_label: bool = False):
    """The eager model export_model builds for `--random-init tiny --head HEAD --seed SEED`."""
    count, labels = RANDOM_HEADS[head]
    kind = export_model.HEAD_KINDS[head]
    problem = roberta_heads.MULTI_LABEL if multi_label else roberta_heads.SINGLE_LABEL
    model = roberta_heads.build_model(export_model.RANDOM_INIT_CONFIGS["tiny"],
                                      roberta_heads.TaskHeadConfig(kind, tuple(labels), problem))
    model.init_random_weights(seed)
    assert model.head.num_labels == count
    return model


@pytest.fixture(scope="module", params=sorted(RANDOM_HEADS))
def exported(request, tmp_path_factory):
    """(--head, the model directory, its summary line)."""
    head = request.param
    out = tmp_path_factory.mktemp("export") / head
    stdout = io.StringIO()  # capsys is per test; this fixture is per module
    with contextlib.redirect_stdout(stdout):
        assert export_tiny(out, head, RANDOM_HEADS[head][0], "--seed", "0") == 0
    return head, out, stdout.getvalue()


def test_directory_has_a_task_head_and_no_lm_head(exported):
    head, out, summary = exported
    assert {p.name for p in out.iterdir()} == HEAD_FILES
    kind = export_model.HEAD_KINDS[head]
    count = RANDOM_HEADS[head][0]
    assert summary.startswith(f"exported random-init/tiny (2 layers, hidden 64, vocab 50265, "
                              f"{kind} head, {count} labels, random weights, float32) to ")


def test_manifest_records_the_task_head(exported):
    head, out, _ = exported
    count, labels = RANDOM_HEADS[head]
    manifest = read_json(out / "manifest.json")
    assert "lm_head" not in manifest and manifest["encoder"] == "encoder.pt"
    kind = export_model.HEAD_KINDS[head]
    assert manifest["task_head"] == {
        "kind": kind, "file": "task_head.pt", "num_labels": count, "labels": labels,
        "problem_type": "single_label_classification",
        "architecture": roberta_heads.ARCHITECTURES[kind]}
    assert manifest["source"] == f"random-init:tiny:seed=0:{kind}:labels={count}"
    assert manifest["dtype"] == "float32" and manifest["random_weights"] is True
    assert set(manifest["files"]) == HEAD_FILES - {"manifest.json"}
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name


@torch.no_grad()
def test_exported_modules_equal_the_eager_reference(exported):
    head, out, _ = exported
    model = reference(head)
    encoder = torch.jit.load(str(out / "encoder.pt"))
    task_head = torch.jit.load(str(out / "task_head.pt"))
    assert (task_head.hidden_size, task_head.num_labels) == (64, RANDOM_HEADS[head][0])
    ids, mask = random_batch(4, 33, FULL_VOCAB, seed=21, lengths=[33, 12, 2, 1])
    hidden = encoder(ids, mask)
    torch.testing.assert_close(hidden, model.roberta(ids, mask), rtol=0, atol=1e-5)
    logits = task_head(hidden[:, 0] if head == "sequence" else hidden)
    expected = model(ids, mask)
    if head == "token":
        keep = mask.bool()
        logits, expected = logits[keep], expected[keep]
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-5)


@torch.no_grad()
def test_goldens_hold_head_logits_and_no_lm_entries(exported):
    head, out, _ = exported
    encoder = torch.jit.load(str(out / "encoder.pt"))
    task_head = torch.jit.load(str(out / "task_head.pt"))
    count = RANDOM_HEADS[head][0]
    cases = read_json(out / "goldens.json")["cases"]
    assert len(cases) == 5 and any(50264 in c["input_ids"] for c in cases)
    for case in cases:
        assert case["lm"] == []
        ids = torch.tensor([case["input_ids"]])
        hidden = encoder(ids, torch.ones_like(ids))[0]
        logits = task_head(hidden[:1] if head == "sequence" else hidden)
        assert len(case["head_logits"]) == (count if head == "sequence" else len(ids[0]) * count)
        torch.testing.assert_close(logits.reshape(-1), torch.tensor(case["head_logits"]),
                                   rtol=0, atol=1e-5)


def test_multi_label_sequence_head_records_its_problem_type(tmp_path):
    assert export_tiny(tmp_path / "m", "sequence", 3, "--multi-label", "--seed", "2") == 0
    task_head = read_json(tmp_path / "m" / "manifest.json")["task_head"]
    assert task_head["problem_type"] == "multi_label_classification"
    assert task_head["labels"] == ["LABEL_0", "LABEL_1", "LABEL_2"]


@pytest.mark.parametrize("count, labels", [(1, ["O"]), (2, ["O", "B-ENT1"]),
                                           (5, ["O", "B-ENT1", "I-ENT1", "B-ENT2", "I-ENT2"])])
def test_random_token_labels(count, labels):
    assert export_model.random_labels(roberta_heads.TOKEN, count) == labels


@pytest.mark.parametrize("kind, labels", [
    (roberta_heads.TOKEN, ["O", "B-MALWARE", "I-MALWARE", "B-TOOL", "I-TOOL", "B-CVE"]),
    (roberta_heads.SEQUENCE, ["benign", "suspicious"]),
])
@torch.no_grad()
def test_hf_dir_classifier_end_to_end(tmp_path, kind, labels):
    source = make_head_model(small_config(vocab_size=FULL_VOCAB), kind, labels, seed=13)
    src = write_fake_hf_dir(tmp_path / "SecureBERT-classifier", source)
    out = tmp_path / "model"
    assert export_model.main(["--hf-dir", str(src), "--out", str(out)]) == 0
    manifest = read_json(out / "manifest.json")
    assert "lm_head" not in manifest and not (out / "lm_head.pt").exists()
    assert manifest["task_head"]["labels"] == labels
    assert manifest["task_head"]["architecture"] == source.architecture
    encoder = torch.jit.load(str(out / "encoder.pt"))
    task_head = torch.jit.load(str(out / "task_head.pt"))
    ids, mask = random_batch(3, 15, FULL_VOCAB, seed=14, lengths=[15, 6, 2])
    hidden = encoder(ids, mask)
    logits = task_head(hidden[:, 0] if kind == roberta_heads.SEQUENCE else hidden)
    expected = source(ids, mask)
    if kind == roberta_heads.TOKEN:
        logits, expected = logits[mask.bool()], expected[mask.bool()]
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-5)


def test_unsupported_architecture_is_refused(tmp_path, capsys):
    source = make_head_model(small_config(vocab_size=FULL_VOCAB), roberta_heads.SEQUENCE,
                             ["a", "b"])
    raw = dict(source.config.to_hf_dict(), architectures=["RobertaForMultipleChoice"])
    src = write_fake_hf_dir(tmp_path / "src", source, config=raw)
    assert export_model.main(["--hf-dir", str(src), "--out", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert "\"architectures\" ['RobertaForMultipleChoice'] names none of the supported" in err
    assert "RobertaForTokenClassification" in err and not (tmp_path / "m").exists()


def test_int8_with_a_task_head_is_refused(tmp_path, capsys):
    assert export_tiny(tmp_path / "m", "token", 3, "--quantize", "int8") == 1
    assert "--quantize int8 supports masked LMs only; this model has a token_classification " \
           "head" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def run_cli(*args):
    return subprocess.run([sys.executable, str(TOOLS_DIR / "export_model.py"), *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("args, message", [
    (["--hf-dir", "x", "--head", "token", "--labels", "3"], "--head applies to --random-init only"),
    (["--random-init", "tiny", "--head", "token"], "--head needs --labels N"),
    (["--random-init", "tiny", "--head", "token", "--labels", "0"], "--labels must be at least 1"),
    (["--random-init", "tiny", "--labels", "3"], "--labels and --multi-label apply to --head"),
    (["--random-init", "tiny", "--head", "token", "--labels", "3", "--multi-label"],
     "--multi-label applies to --head sequence only"),
])
def test_head_usage_errors(tmp_path, args, message):
    result = run_cli(*args, "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "m").exists()
