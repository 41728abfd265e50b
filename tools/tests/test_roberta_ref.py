"""The reference RoBERTa: names, position ids, math checked against independent implementations."""

import math

import pytest
import torch
from torch.nn import functional as F

import hf_checkpoint
import roberta_ref
from conftest import make_model, random_batch, small_config


def encoder_names(num_layers: int):
    """Hugging Face RobertaModel names under `roberta.` (no pooler), written out independently."""
    names = ["roberta.embeddings.word_embeddings.weight",
             "roberta.embeddings.position_embeddings.weight",
             "roberta.embeddings.token_type_embeddings.weight",
             "roberta.embeddings.LayerNorm.weight", "roberta.embeddings.LayerNorm.bias"]
    for i in range(num_layers):
        p = f"roberta.encoder.layer.{i}."
        for sub in ("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense", "attention.output.LayerNorm",
                    "intermediate.dense", "output.dense", "output.LayerNorm"):
            names += [p + sub + ".weight", p + sub + ".bias"]
    return names


def hf_names(num_layers: int):
    """Hugging Face RobertaForMaskedLM state-dict names, written out independently."""
    names = encoder_names(num_layers)
    names += ["lm_head.dense.weight", "lm_head.dense.bias", "lm_head.layer_norm.weight",
              "lm_head.layer_norm.bias", "lm_head.decoder.weight", "lm_head.decoder.bias",
              "lm_head.bias"]
    return names


def test_state_dict_names_equal_hugging_face():
    model = roberta_ref.RobertaForMaskedLM(small_config())
    assert sorted(model.state_dict()) == sorted(hf_names(2))


def test_decoder_is_tied_to_word_embeddings_and_bias():
    model = roberta_ref.RobertaForMaskedLM(small_config())
    assert model.lm_head.decoder.weight is model.roberta.embeddings.word_embeddings.weight
    assert model.lm_head.decoder.bias is model.lm_head.bias


def test_position_ids_count_real_tokens_from_padding_idx_plus_one():
    ids = torch.tensor([[0, 9, 8, 2, 1, 1], [1, 1, 0, 7, 2, 5]])
    expected = torch.tensor([[2, 3, 4, 5, 1, 1], [1, 1, 2, 3, 4, 5]])
    assert torch.equal(roberta_ref.position_ids_from_input_ids(ids, 1), expected)


def test_embeddings_match_a_direct_computation():
    model = make_model(small_config())
    emb = model.roberta.embeddings
    ids = torch.tensor([[0, 17, 23, 2, 1]])
    positions = torch.tensor([[2, 3, 4, 5, 1]])
    raw = emb.word_embeddings.weight[ids] + emb.token_type_embeddings.weight[0]
    raw = raw + emb.position_embeddings.weight[positions]
    expected = F.layer_norm(raw, (32,), emb.LayerNorm.weight, emb.LayerNorm.bias, 1e-5)
    torch.testing.assert_close(emb(ids), expected, rtol=0, atol=1e-6)


@torch.no_grad()
def test_layer_matches_torch_transformer_encoder_layer():
    """A RoBERTa layer is a post-norm encoder layer with exact GELU; torch has one."""
    config = small_config()
    layer = make_model(config).roberta.encoder.layer[0]
    torch_layer = torch.nn.TransformerEncoderLayer(
        32, 4, dim_feedforward=48, dropout=0.0, activation="gelu", layer_norm_eps=1e-5,
        batch_first=True).eval()
    attn = layer.attention
    torch_layer.self_attn.in_proj_weight.copy_(torch.cat(
        [attn.self.query.weight, attn.self.key.weight, attn.self.value.weight]))
    torch_layer.self_attn.in_proj_bias.copy_(torch.cat(
        [attn.self.query.bias, attn.self.key.bias, attn.self.value.bias]))
    for ours, theirs in ((attn.output.dense, torch_layer.self_attn.out_proj),
                         (attn.output.LayerNorm, torch_layer.norm1),
                         (layer.intermediate.dense, torch_layer.linear1),
                         (layer.output.dense, torch_layer.linear2),
                         (layer.output.LayerNorm, torch_layer.norm2)):
        theirs.weight.copy_(ours.weight)
        theirs.bias.copy_(ours.bias)
    x = torch.randn(2, 6, 32, generator=torch.Generator().manual_seed(3))
    mask = torch.tensor([[1] * 6, [1, 1, 1, 1, 0, 0]])
    additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    ours_out = layer(x, additive)
    theirs_out = torch_layer(x, src_key_padding_mask=mask.eq(0))
    keep = mask.bool()
    torch.testing.assert_close(ours_out[keep], theirs_out[keep], rtol=0, atol=1e-5)


@torch.no_grad()
def test_lm_head_is_dense_gelu_layer_norm_decoder():
    model = make_model(small_config())
    head = model.lm_head
    x = torch.randn(3, 32, generator=torch.Generator().manual_seed(4))
    h = F.layer_norm(F.gelu(x @ head.dense.weight.T + head.dense.bias), (32,),
                     head.layer_norm.weight, head.layer_norm.bias, 1e-5)
    expected = h @ model.roberta.embeddings.word_embeddings.weight.T + head.bias
    torch.testing.assert_close(head(x), expected, rtol=0, atol=1e-5)


@torch.no_grad()
def test_padding_does_not_change_a_row():
    model = make_model(small_config())
    ids, mask = random_batch(3, 12, 1000, seed=5, lengths=[12, 5, 9])
    batched = model(ids, mask)
    for row, n in enumerate([12, 5, 9]):
        alone = model(ids[row:row + 1, :n], mask[row:row + 1, :n])[0]
        torch.testing.assert_close(batched[row, :n], alone, rtol=0, atol=1e-5)


def test_lowest_value_equals_finfo_min():
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        assert roberta_ref.lowest_value(dtype) == torch.finfo(dtype).min


def test_config_reads_hugging_face_dict_and_ignores_unknown_keys():
    raw = {"_name_or_path": "x", "architectures": ["RobertaForMaskedLM"], "model_type": "roberta",
           "vocab_size": 50265, "hidden_size": 768, "num_hidden_layers": 12,
           "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
           "max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-05,
           "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "classifier_dropout": None,
           "torch_dtype": "float32", "transformers_version": "4.30.0"}
    config = roberta_ref.RobertaConfig.from_dict(raw)
    assert config == roberta_ref.RobertaConfig()
    assert config.max_input_tokens == 512
    assert roberta_ref.RobertaConfig.from_dict(config.to_hf_dict()) == config


@pytest.mark.parametrize("change, message", [
    ({"hidden_act": "relu"}, "hidden_act"),
    ({"model_type": "bert"}, "model_type"),
    ({"num_attention_heads": 5}, "not a multiple"),
    ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
    ({"max_position_embeddings": 2}, "no usable position"),
])
def test_config_refuses_what_it_cannot_run(change, message):
    raw = dict(small_config().to_hf_dict(), **change)
    with pytest.raises(ValueError, match=message):
        roberta_ref.RobertaConfig.from_dict(raw)


def test_random_init_follows_hugging_face_and_is_deterministic():
    a = roberta_ref.RobertaForMaskedLM(small_config())
    a.init_random_weights(7)
    b = roberta_ref.RobertaForMaskedLM(small_config())
    b.init_random_weights(7)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name
    word = a.roberta.embeddings.word_embeddings.weight
    assert torch.count_nonzero(word[1]) == 0  # the <pad> row
    assert math.isclose(float(word[4:].std()), 0.02, rel_tol=0.05)
    assert torch.all(a.lm_head.bias == 0)
    assert torch.all(a.roberta.embeddings.LayerNorm.weight == 1)


@torch.no_grad()
def test_matches_transformers_roberta_for_masked_lm():
    transformers = pytest.importorskip(
        "transformers", reason="transformers is not installed; reference-vs-HF check skipped")
    config = small_config()
    hf_config = transformers.RobertaConfig(**config.to_hf_dict())
    hf_model = transformers.RobertaForMaskedLM(hf_config).eval()
    reference = make_model(config, seed=21)
    hf_model.load_state_dict(reference.state_dict(), strict=False)
    buffers = {name for name, _ in hf_model.named_buffers()}
    assert set(reference.state_dict()) == set(hf_model.state_dict()) - buffers
    fresh = roberta_ref.RobertaForMaskedLM(config).eval()
    hf_checkpoint.load_into(fresh, hf_model.state_dict(), "transformers")
    ids, mask = random_batch(3, 20, 1000, seed=6, lengths=[20, 7, 13])
    out = hf_model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    keep = mask.bool()
    torch.testing.assert_close(fresh.roberta(ids, mask)[keep], out.hidden_states[-1][keep],
                               rtol=0, atol=1e-5)
    torch.testing.assert_close(fresh(ids, mask)[keep], out.logits[keep], rtol=0, atol=1e-4)
