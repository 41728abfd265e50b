"""export_model.py --random-init: directory layout, manifest, goldens, determinism, overwriting."""

import hashlib
import json

import pytest
import torch

import export_model
import goldens
import model_dir
from conftest import TOKENIZER_DIR

EXPECTED_FILES = {"encoder.pt", "lm_head.pt", "vocab.json", "merges.txt", "tokenizer_config.json",
                  "special_tokens_map.json", "goldens.json", "manifest.json"}


def export_tiny(out, *extra):
    return export_model.main(["--random-init", "tiny", "--out", str(out), *extra])


def read_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "tiny"
    assert export_tiny(out, "--seed", "0") == 0
    return out


def test_directory_holds_exactly_the_contract_files(tiny_dir, capsys):
    assert {p.name for p in tiny_dir.iterdir()} == EXPECTED_FILES
    for name in ("vocab.json", "merges.txt"):
        assert (tiny_dir / name).read_bytes() == (TOKENIZER_DIR / name).read_bytes()
    config = read_json(tiny_dir / "tokenizer_config.json")
    assert config["add_prefix_space"] is False and config["model_max_length"] == 512
    assert read_json(tiny_dir / "special_tokens_map.json")["mask_token"]["lstrip"] is True
    assert not [p for p in tiny_dir.parent.iterdir() if p.name.startswith(".")]


def test_manifest_describes_the_model(tiny_dir):
    manifest = read_json(tiny_dir / "manifest.json")
    assert manifest["format"] == "securebert-model" and manifest["format_version"] == 1
    assert manifest["model_id"] == "random-init/tiny"
    assert manifest["source"] == "random-init:tiny:seed=0" and manifest["random_weights"] is True
    assert manifest["architecture"] == {
        "model_type": "roberta", "num_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
        "intermediate_size": 128, "vocab_size": 50265, "max_position_embeddings": 514,
        "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1}
    assert manifest["special_tokens"] == {
        "bos": {"token": "<s>", "id": 0}, "pad": {"token": "<pad>", "id": 1},
        "eos": {"token": "</s>", "id": 2}, "unk": {"token": "<unk>", "id": 3},
        "mask": {"token": "<mask>", "id": 50264}}
    assert manifest["max_input_tokens"] == 512 and manifest["dtype"] == "float32"
    assert (manifest["encoder"], manifest["lm_head"]) == ("encoder.pt", "lm_head.pt")
    assert "task_head" not in manifest
    assert manifest["torch_version"] == torch.__version__
    assert manifest["exporter"] == "tools/export_model.py"


def test_manifest_sha256_and_sizes_match_the_files(tiny_dir):
    files = read_json(tiny_dir / "manifest.json")["files"]
    assert set(files) == EXPECTED_FILES - {"manifest.json"}
    for name, entry in files.items():
        data = (tiny_dir / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name


def test_golden_cases_have_the_promised_shape(tiny_dir):
    doc = read_json(tiny_dir / "goldens.json")
    assert doc["top_k"] == 10
    cases = doc["cases"]
    assert [len(c["input_ids"]) for c in cases] == [3, 7, 16, 41, 130]
    assert [sum(i == 50264 for i in c["input_ids"]) for c in cases] == [1, 1, 3, 2, 0]
    for case in cases:
        ids = case["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2 and 1 not in ids
        assert len(case["last_hidden_state"]) == len(ids) * 64 and "head_logits" not in case
        assert [e["position"] for e in case["lm"]] == [i for i, t in enumerate(ids) if t == 50264]
        for entry in case["lm"]:
            assert len(entry["topk_ids"]) == 10 and len(set(entry["topk_ids"])) == 10
            assert entry["topk_scores"] == sorted(entry["topk_scores"], reverse=True)
    assert (tiny_dir / "goldens.json").stat().st_size < 400_000


@torch.no_grad()
def test_goldens_reproduce_through_the_exported_torchscript(tiny_dir):
    encoder = torch.jit.load(str(tiny_dir / "encoder.pt"))
    lm_head = torch.jit.load(str(tiny_dir / "lm_head.pt"))
    for case in read_json(tiny_dir / "goldens.json")["cases"]:
        ids = torch.tensor([case["input_ids"]])
        hidden = encoder(ids, torch.ones_like(ids))[0]
        expected = torch.tensor(case["last_hidden_state"]).view_as(hidden)
        torch.testing.assert_close(hidden, expected, rtol=0, atol=1e-5)
        for entry in case["lm"]:
            probs = torch.softmax(lm_head(hidden[entry["position"]][None]), dim=-1)[0]
            scores, top = torch.topk(probs, 10)
            assert top.tolist() == entry["topk_ids"], case["name"]
            torch.testing.assert_close(scores, torch.tensor(entry["topk_scores"]),
                                       rtol=1e-4, atol=1e-9)


def test_same_seed_same_model_other_seed_other_model(tiny_dir, tmp_path):
    assert export_tiny(tmp_path / "again", "--seed", "0") == 0
    assert export_tiny(tmp_path / "other", "--seed", "1") == 0
    original = torch.jit.load(str(tiny_dir / "encoder.pt")).state_dict()
    again = torch.jit.load(str(tmp_path / "again" / "encoder.pt")).state_dict()
    other = torch.jit.load(str(tmp_path / "other" / "encoder.pt")).state_dict()
    assert all(torch.equal(original[k], again[k]) for k in original)
    assert not torch.equal(original["embeddings.word_embeddings.weight"],
                           other["embeddings.word_embeddings.weight"])
    assert (tmp_path / "again" / "goldens.json").read_bytes() == \
        (tiny_dir / "goldens.json").read_bytes()


def test_wide_models_get_only_the_three_shortest_goldens():
    assert [c.length for c in goldens.cases_for(768)] == [3, 7, 16]
    assert all(c.mask_positions for c in goldens.cases_for(768))
    base = export_model.RANDOM_INIT_CONFIGS["base"]
    assert (base.num_hidden_layers, base.hidden_size, base.num_attention_heads,
            base.intermediate_size, base.vocab_size, base.max_position_embeddings) == \
        (12, 768, 12, 3072, 50265, 514)


def test_refuses_to_overwrite_without_force(tiny_dir, capsys):
    before = (tiny_dir / "manifest.json").read_bytes()
    assert export_tiny(tiny_dir) == 1
    assert "already exists; pass --force" in capsys.readouterr().err
    assert (tiny_dir / "manifest.json").read_bytes() == before


def test_force_replaces_a_model_directory(tmp_path, capsys):
    out = tmp_path / "m"
    assert export_tiny(out, "--seed", "3") == 0
    assert export_tiny(out, "--seed", "4", "--force") == 0
    assert read_json(out / "manifest.json")["source"] == "random-init:tiny:seed=4"
    assert {p.name for p in tmp_path.iterdir()} == {"m"}
    assert capsys.readouterr().out.startswith("exported random-init/tiny (2 layers, hidden 64")


def test_force_never_replaces_a_directory_that_is_not_a_model(tmp_path, capsys):
    (tmp_path / "precious.txt").write_text("keep me")
    assert export_tiny(tmp_path, "--force") == 1
    assert "not a securebert-model directory" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_failed_export_leaves_no_partial_directory(tmp_path, monkeypatch, capsys):
    out = tmp_path / "m"
    assert export_tiny(out, "--seed", "5") == 0
    before = (out / "manifest.json").read_bytes()

    def fail(*_args):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(model_dir, "build_manifest", fail)
    assert export_tiny(out, "--seed", "6", "--force") == 1
    assert export_tiny(tmp_path / "new") == 1
    assert "disk full (simulated)" in capsys.readouterr().err
    assert {p.name for p in tmp_path.iterdir()} == {"m"}
    assert (out / "manifest.json").read_bytes() == before
