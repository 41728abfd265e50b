"""Loading Hugging Face checkpoints into the reference model: ties, ignored keys, errors."""

import json

import pytest
import torch

import hf_checkpoint
import roberta_ref
import safetensors_io
from conftest import make_model, random_batch, small_config, write_fake_hf_dir

TIED = ("lm_head.decoder.weight", "lm_head.decoder.bias")


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name


@torch.no_grad()
def test_missing_decoder_weight_and_bias_are_tied(tmp_path):
    source = make_model(small_config(), seed=1)
    assert torch.count_nonzero(source.lm_head.bias) > 0
    write_fake_hf_dir(tmp_path, source, omit=TIED)
    loaded = hf_checkpoint.load_reference_model(tmp_path)
    assert_same_weights(loaded, source)
    assert loaded.lm_head.decoder.weight is loaded.roberta.embeddings.word_embeddings.weight
    assert loaded.lm_head.decoder.bias is loaded.lm_head.bias
    ids, mask = random_batch(2, 8, 1000, seed=1, lengths=[8, 5])
    torch.testing.assert_close(loaded(ids, mask), source(ids, mask), rtol=0, atol=0)


def test_lm_head_bias_comes_from_decoder_bias_when_only_that_is_stored():
    source = make_model(small_config(), seed=2)
    state = {k: v for k, v in source.state_dict().items() if k != "lm_head.bias"}
    model = roberta_ref.RobertaForMaskedLM(small_config())
    hf_checkpoint.load_into(model, state, "test")
    assert torch.equal(model.lm_head.bias, source.lm_head.bias)


def test_pooler_buffers_and_legacy_layer_norm_names_are_handled():
    source = make_model(small_config(), seed=3)
    state = dict(source.state_dict())
    state["roberta.pooler.dense.weight"] = torch.zeros(32, 32)
    state["roberta.pooler.dense.bias"] = torch.zeros(32)
    state["roberta.embeddings.position_ids"] = torch.arange(514)[None]
    state["roberta.embeddings.token_type_ids"] = torch.zeros(1, 514, dtype=torch.int64)
    state["roberta.embeddings.LayerNorm.gamma"] = state.pop("roberta.embeddings.LayerNorm.weight")
    state["roberta.embeddings.LayerNorm.beta"] = state.pop("roberta.embeddings.LayerNorm.bias")
    model = roberta_ref.RobertaForMaskedLM(small_config())
    hf_checkpoint.load_into(model, state, "test")
    assert_same_weights(model, source)


def test_half_precision_checkpoint_is_loaded_as_float32(tmp_path):
    source = make_model(small_config(), seed=4)
    state = {k: v.to(torch.bfloat16) for k, v in source.state_dict().items()}
    model = roberta_ref.RobertaForMaskedLM(small_config())
    hf_checkpoint.load_into(model, state, "test")
    assert model.roberta.embeddings.word_embeddings.weight.dtype == torch.float32
    assert torch.equal(model.lm_head.bias, state["lm_head.bias"].float())


def test_pytorch_model_bin(tmp_path):
    source = make_model(small_config(), seed=5)
    write_fake_hf_dir(tmp_path, source, weights="bin", omit=TIED)
    assert_same_weights(hf_checkpoint.load_reference_model(tmp_path), source)


def test_sharded_safetensors_index(tmp_path):
    source = make_model(small_config(), seed=6)
    write_fake_hf_dir(tmp_path, source, omit=TIED)
    state = safetensors_io.read_file(tmp_path / "model.safetensors")
    (tmp_path / "model.safetensors").unlink()
    names = sorted(state)
    shards = {"model-00001-of-00002.safetensors": names[::2],
              "model-00002-of-00002.safetensors": names[1::2]}
    weight_map = {}
    for shard, keys in shards.items():
        safetensors_io.save_file({k: state[k] for k in keys}, tmp_path / shard)
        weight_map.update({k: shard for k in keys})
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert_same_weights(hf_checkpoint.load_reference_model(tmp_path), source)


def test_shape_mismatch_names_the_tensor():
    state = dict(make_model(small_config(), seed=7).state_dict())
    state["roberta.encoder.layer.1.intermediate.dense.weight"] = torch.zeros(40, 32)
    with pytest.raises(hf_checkpoint.CheckpointError,
                       match=r"roberta\.encoder\.layer\.1\.intermediate\.dense\.weight has shape "
                             r"\[40, 32\].*\[48, 32\]"):
        hf_checkpoint.load_into(roberta_ref.RobertaForMaskedLM(small_config()), state, "ckpt")


def test_missing_and_unexpected_tensors_are_listed():
    state = dict(make_model(small_config(), seed=8).state_dict())
    del state["roberta.encoder.layer.0.output.dense.bias"]
    model = roberta_ref.RobertaForMaskedLM(small_config())
    with pytest.raises(hf_checkpoint.CheckpointError,
                       match="lacks roberta.encoder.layer.0.output.dense.bias"):
        hf_checkpoint.load_into(model, state, "ckpt")
    state = dict(make_model(small_config(), seed=8).state_dict())
    state["classifier.dense.weight"] = torch.zeros(2, 2)
    with pytest.raises(hf_checkpoint.CheckpointError, match="classifier.dense.weight"):
        hf_checkpoint.load_into(model, state, "ckpt")


def test_checkpoint_without_lm_head_is_refused():
    state = {k: v for k, v in make_model(small_config(), seed=9).state_dict().items()
             if not k.startswith("lm_head.")}
    with pytest.raises(hf_checkpoint.CheckpointError, match="lacks lm_head"):
        hf_checkpoint.load_into(roberta_ref.RobertaForMaskedLM(small_config()), state, "ckpt")


def test_missing_config_json_is_reported(tmp_path):
    with pytest.raises(hf_checkpoint.CheckpointError, match="no config.json"):
        hf_checkpoint.load_reference_model(tmp_path)


def test_missing_weights_are_reported(tmp_path):
    write_fake_hf_dir(tmp_path, make_model(small_config()))
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(hf_checkpoint.CheckpointError, match="no weights file"):
        hf_checkpoint.load_reference_model(tmp_path)


def test_unreadable_pytorch_bin_is_reported(tmp_path):
    write_fake_hf_dir(tmp_path, make_model(small_config()), weights="bin")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not a zip or pickle")
    with pytest.raises(hf_checkpoint.CheckpointError, match="cannot read as a PyTorch state dict"):
        hf_checkpoint.load_reference_model(tmp_path)


def test_corrupt_config_json_is_reported(tmp_path):
    (tmp_path / "config.json").write_text("{ not json")
    with pytest.raises(hf_checkpoint.CheckpointError, match="config.json: not valid JSON"):
        hf_checkpoint.read_config(tmp_path)
