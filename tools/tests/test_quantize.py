"""export_model.py --quantize int8: the quantized encoder, its manifest entry and accuracy report."""

import json

import pytest
import torch

import export_model
import quantize


def read_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The tiny model of seed 0 exported in float32 and in int8."""
    root = tmp_path_factory.mktemp("quantize")
    for name, extra in (("fp32", []), ("int8", ["--quantize", "int8"])):
        assert export_model.main(["--random-init", "tiny", "--seed", "0",
                                  "--out", str(root / name), *extra]) == 0
    return root / "fp32", root / "int8"


def test_manifest_names_the_dtype_the_engine_and_the_report(exports):
    _, int8 = exports
    manifest = read_json(int8 / "manifest.json")
    assert manifest["dtype"] == "int8-dynamic"
    q = manifest["quantization"]
    assert q["engine"] == quantize.resolve_engine("auto")
    assert q["engine"] in torch.backends.quantized.supported_engines
    assert q["quantized"] == "12 encoder Linear layers"  # 6 per layer, 2 layers
    assert q["accuracy_file"] == "accuracy.json" and "accuracy.json" in manifest["files"]
    report = read_json(int8 / "accuracy.json")
    assert report["texts"] == quantize.NUM_SHORT + quantize.NUM_LONG >= 200
    assert report["masked_texts"] == quantize.NUM_MASKED >= 100
    assert report["text_tokens"]["min"] >= 8 and report["text_tokens"]["max"] > 256
    assert q["accuracy"]["mask_top1_agreement"] == report["mask_top1_agreement"]


def test_int8_model_is_close_to_float32_and_not_equal(exports):
    fp32_dir, int8_dir = exports
    report = read_json(int8_dir / "accuracy.json")
    assert report["last_hidden_state_cosine"]["min"] >= 0.99
    assert report["cls_cosine"]["min"] >= 0.99 and report["mean_pooled_cosine"]["min"] >= 0.99
    assert report["mask_top1_agreement"] >= 0.9 and report["mask_top5_overlap"] >= 0.9
    # Where float32's top-1 leads by more than int8 moved it, int8 keeps it.
    assert report["masks_with_clear_top1"] > 0
    assert report["mask_top1_agreement_where_clear"] >= 0.99
    torch.backends.quantized.engine = read_json(int8_dir / "manifest.json")["quantization"]["engine"]
    fp32 = torch.jit.load(str(fp32_dir / "encoder.pt"))
    int8 = torch.jit.load(str(int8_dir / "encoder.pt"))
    assert "quantized" in int8.code_with_constants[0] or "quantized" in str(int8.inlined_graph)
    ids = torch.tensor([[0, 4, 200, 3000, 40000, 2]])
    a, b = fp32(ids, torch.ones_like(ids)), int8(ids, torch.ones_like(ids))
    # Quantization changed the arithmetic, within tolerance.
    assert (a - b).abs().max().item() > 0
    assert torch.nn.functional.cosine_similarity(a[0], b[0], dim=-1).min().item() >= 0.99


def test_lm_head_and_embeddings_stay_float32(exports):
    fp32_dir, int8_dir = exports
    for name in ("lm_head.pt",):
        assert (fp32_dir / name).stat().st_size == pytest.approx((int8_dir / name).stat().st_size,
                                                                 rel=0.01)
    encoder = torch.jit.load(str(int8_dir / "encoder.pt"))
    embeddings = dict(encoder.named_parameters())
    word = [v for k, v in embeddings.items() if k.endswith("word_embeddings.weight")]
    assert word and word[0].dtype == torch.float32


def test_goldens_are_the_int8_models_own_outputs(exports):
    fp32_dir, int8_dir = exports
    a = read_json(fp32_dir / "goldens.json")["cases"][0]["last_hidden_state"]
    b = read_json(int8_dir / "goldens.json")["cases"][0]["last_hidden_state"]
    assert a != b and len(a) == len(b)


def test_an_engine_the_torch_lacks_is_refused(monkeypatch):
    monkeypatch.setattr(quantize, "supported_engines", lambda: ["qnnpack"])
    assert quantize.resolve_engine("auto") == "qnnpack"
    with pytest.raises(quantize.QuantizeError, match="'x86' is not in torch"):
        quantize.resolve_engine("x86")
    monkeypatch.setattr(quantize, "supported_engines", lambda: [])
    with pytest.raises(quantize.QuantizeError, match="no quantized engine"):
        quantize.resolve_engine("auto")


def test_qengine_without_quantize_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as e:
        export_model.main(["--random-init", "tiny", "--qengine", "onednn", "--out",
                           str(tmp_path / "m")])
    assert e.value.code == 2
