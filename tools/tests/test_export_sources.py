"""export_model.py from a Hugging Face directory, via (fake or absent) transformers, as a CLI."""

import hashlib
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

import export_model
from conftest import FULL_VOCAB, TOKENIZER_DIR, TOOLS_DIR, random_batch, write_fake_hf_dir

TIED = ("lm_head.decoder.weight", "lm_head.decoder.bias")


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


@torch.no_grad()
def assert_exported_equals(out: Path, model) -> None:
    """The exported TorchScript reproduces the eager model on a padded batch."""
    encoder = torch.jit.load(str(out / "encoder.pt"))
    lm_head = torch.jit.load(str(out / "lm_head.pt"))
    ids, mask = random_batch(3, 21, FULL_VOCAB, seed=8, lengths=[21, 9, 2])
    hidden = encoder(ids, mask)
    torch.testing.assert_close(hidden, model.roberta(ids, mask), rtol=0, atol=1e-5)
    torch.testing.assert_close(lm_head(hidden[0]), model(ids, mask)[0], rtol=0, atol=1e-5)
    files = read_json(out / "manifest.json")["files"]
    for name, entry in files.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"], name


@pytest.mark.parametrize("weights", ["safetensors", "bin"])
def test_hf_dir_end_to_end(tmp_path, full_vocab_model, weights, capsys):
    src = write_fake_hf_dir(tmp_path / "SecureBERT-fake", full_vocab_model, weights=weights,
                            omit=TIED, extra={"roberta.pooler.dense.bias": torch.zeros(32)})
    out = tmp_path / "model"
    assert export_model.main(["--hf-dir", str(src), "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("\n") == 1
    assert_exported_equals(out, full_vocab_model)
    manifest = read_json(out / "manifest.json")
    assert manifest["model_id"] == "SecureBERT-fake"
    assert manifest["source"] == f"hf-dir:{src.resolve()}" and manifest["random_weights"] is False
    assert manifest["architecture"]["hidden_size"] == 32
    tokenizer_config = read_json(out / "tokenizer_config.json")
    assert tokenizer_config["errors"] == "replace"  # the source's keys are kept
    assert tokenizer_config["add_prefix_space"] is False
    assert len(read_json(out / "goldens.json")["cases"]) == 5
    assert not (out / "tokenizer.json").exists()


def test_hf_dir_with_only_tokenizer_json(tmp_path, full_vocab_model):
    src = write_fake_hf_dir(tmp_path / "src", full_vocab_model)
    vocab = read_json(src / "vocab.json")
    merges = (src / "merges.txt").read_text(encoding="utf-8").splitlines()[1:]
    tokenizer = {"version": "1.0", "model": {
        "type": "BPE", "vocab": {k: v for k, v in vocab.items() if k != "<mask>"},
        "merges": [m.split(" ") for m in merges]},
        "added_tokens": [{"id": 50264, "content": "<mask>", "special": True}]}
    (src / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    (src / "vocab.json").unlink()
    (src / "merges.txt").unlink()
    out = tmp_path / "model"
    assert export_model.main(["--hf-dir", str(src), "--out", str(out), "--model-id", "x/y"]) == 0
    assert read_json(out / "vocab.json") == vocab
    assert (out / "merges.txt").read_bytes() == (TOKENIZER_DIR / "merges.txt").read_bytes()
    assert (out / "tokenizer.json").read_bytes() == (src / "tokenizer.json").read_bytes()
    assert read_json(out / "manifest.json")["model_id"] == "x/y"


def test_hf_dir_pad_id_mismatch_is_refused(tmp_path, full_vocab_model, capsys):
    src = write_fake_hf_dir(tmp_path / "src", full_vocab_model)
    (src / "special_tokens_map.json").write_text(json.dumps({"pad_token": "</s>"}))
    assert export_model.main(["--hf-dir", str(src), "--out", str(tmp_path / "m")]) == 1
    assert "config.json says pad_token_id 1" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_model_id_from_hugging_face_cache_path(tmp_path):
    snapshot = tmp_path / "hub" / "models--ehsanaghaei--SecureBERT" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    assert export_model.model_id_for_path(snapshot) == "ehsanaghaei/SecureBERT"
    assert export_model.model_id_for_path(tmp_path / "hub") == "hub"


def test_hf_without_transformers_fails_clearly(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "transformers", None)  # makes `import transformers` fail
    out = tmp_path / "m"
    assert export_model.main(["--hf", "ehsanaghaei/SecureBERT", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--hf needs the `transformers` package" in err and "--hf-dir DIR" in err
    assert not out.exists()


def fake_transformers(model, logit_offset: float = 0.0) -> types.ModuleType:
    """A stand-in `transformers` whose RobertaForMaskedLM wraps a reference model."""

    class FakeModel:
        config = types.SimpleNamespace(to_dict=model.config.to_hf_dict)

        def eval(self):
            return self

        def float(self):
            return self

        def state_dict(self):
            return model.state_dict()

        def __call__(self, input_ids, attention_mask):
            return types.SimpleNamespace(logits=model(input_ids, attention_mask) + logit_offset)

    class FakeTokenizer:
        def save_pretrained(self, directory):
            for name in ("vocab.json", "merges.txt"):
                shutil.copy(TOKENIZER_DIR / name, Path(directory) / name)
            (Path(directory) / "tokenizer.json").write_text("{}")

    module = types.ModuleType("transformers")
    config = types.SimpleNamespace(to_dict=model.config.to_hf_dict)
    module.AutoConfig = types.SimpleNamespace(from_pretrained=lambda name: config)
    module.RobertaForMaskedLM = types.SimpleNamespace(from_pretrained=lambda name: FakeModel())
    module.AutoTokenizer = types.SimpleNamespace(from_pretrained=lambda name: FakeTokenizer())
    return module


def test_hf_through_transformers(tmp_path, monkeypatch, full_vocab_model):
    monkeypatch.setitem(sys.modules, "transformers", fake_transformers(full_vocab_model))
    out = tmp_path / "m"
    assert export_model.main(["--hf", "ehsanaghaei/SecureBERT", "--out", str(out)]) == 0
    assert_exported_equals(out, full_vocab_model)
    manifest = read_json(out / "manifest.json")
    assert manifest["model_id"] == "ehsanaghaei/SecureBERT"
    assert manifest["source"] == "transformers:ehsanaghaei/SecureBERT"
    assert "tokenizer.json" in manifest["files"]


def test_hf_refuses_when_reference_and_transformers_disagree(tmp_path, monkeypatch,
                                                             full_vocab_model, capsys):
    monkeypatch.setitem(sys.modules, "transformers", fake_transformers(full_vocab_model, 0.5))
    assert export_model.main(["--hf", "some/model", "--out", str(tmp_path / "m")]) == 1
    assert "differs from transformers by 0.5" in capsys.readouterr().err


def run_cli(*args):
    return subprocess.run([sys.executable, str(TOOLS_DIR / "export_model.py"), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_reports_errors_without_a_traceback(tmp_path):
    result = run_cli("--hf-dir", str(tmp_path), "--out", str(tmp_path / "m"))
    assert result.returncode == 1
    assert "export_model.py: error:" in result.stderr and "no config.json" in result.stderr
    assert "Traceback" not in result.stderr
    usage = run_cli("--hf-dir", str(tmp_path), "--seed", "3", "--out", str(tmp_path / "m"))
    assert usage.returncode == 2 and "--seed applies to --random-init only" in usage.stderr
