"""The scripted encoder and LM head, saved and reloaded, equal the eager reference on any shape."""

import pytest
import torch

import model_dir
from conftest import make_model, random_batch, small_config

VOCAB = 1000


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(eager model, reloaded encoder.pt, reloaded lm_head.pt, their directory)."""
    model = make_model(small_config(vocab_size=VOCAB), seed=2)
    modules = model_dir.script_modules(model)
    assert set(modules) == {model_dir.ENCODER_FILE, model_dir.LM_HEAD_FILE}
    directory = tmp_path_factory.mktemp("scripted")
    for name, module in modules.items():
        module.save(str(directory / name))
    return (model, torch.jit.load(str(directory / model_dir.ENCODER_FILE)),
            torch.jit.load(str(directory / model_dir.LM_HEAD_FILE)), directory)


@pytest.mark.parametrize("batch, length, lengths", [
    (1, 1, None),
    (1, 3, None),
    (2, 17, [17, 4]),
    (5, 64, [64, 1, 33, 2, 63]),
    (3, 130, [7, 130, 90]),
    (64, 6, None),
    (1, 512, None),
    (2, 512, [512, 300]),
])
@torch.no_grad()
def test_encoder_matches_eager_on_any_shape(exported, batch, length, lengths):
    model, encoder, _, _ = exported
    ids, mask = random_batch(batch, length, VOCAB, seed=batch * 1000 + length, lengths=lengths)
    out = encoder(ids, mask)
    assert out.shape == (batch, length, 32) and out.dtype == torch.float32
    torch.testing.assert_close(out, model.roberta(ids, mask), rtol=0, atol=1e-5)


@torch.no_grad()
def test_padding_does_not_change_a_rows_hidden_states(exported):
    _, encoder, _, _ = exported
    lengths = [40, 3, 1, 25]
    ids, mask = random_batch(4, 40, VOCAB, seed=9, lengths=lengths)
    batched = encoder(ids, mask)
    for row, n in enumerate(lengths):
        alone = encoder(ids[row:row + 1, :n], mask[row:row + 1, :n])[0]
        torch.testing.assert_close(batched[row, :n], alone, rtol=0, atol=1e-5)


@pytest.mark.parametrize("rows", [1, 7])
@torch.no_grad()
def test_lm_head_matches_eager(exported, rows):
    model, _, lm_head, _ = exported
    hidden = torch.randn(rows, 32, generator=torch.Generator().manual_seed(rows))
    logits = lm_head(hidden)
    assert logits.shape == (rows, VOCAB)
    torch.testing.assert_close(logits, model.lm_head(hidden), rtol=0, atol=1e-5)


@torch.no_grad()
def test_split_modules_equal_the_full_masked_lm(exported):
    model, encoder, lm_head, _ = exported
    ids, mask = random_batch(2, 10, VOCAB, seed=12, lengths=[10, 6])
    hidden = encoder(ids, mask)
    logits = lm_head(hidden[1, 2:4])
    torch.testing.assert_close(logits, model(ids, mask)[1, 2:4], rtol=0, atol=1e-5)


def test_modules_carry_architecture_attributes(exported):
    _, encoder, lm_head, _ = exported
    assert (encoder.hidden_size, encoder.num_layers, encoder.vocab_size) == (32, 2, VOCAB)
    assert (encoder.max_position_embeddings, encoder.pad_token_id) == (514, 1)
    assert (lm_head.hidden_size, lm_head.vocab_size) == (32, VOCAB)


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-5), (torch.bfloat16, 0.1)])
@torch.no_grad()
def test_encoder_follows_the_module_dtype(exported, dtype, atol):
    """Cast (as the server casts to half on CUDA), the additive mask follows the dtype."""
    model, _, _, directory = exported
    encoder = torch.jit.load(str(directory / model_dir.ENCODER_FILE)).to(dtype)
    ids, mask = random_batch(2, 9, VOCAB, seed=13, lengths=[9, 4])
    out = encoder(ids, mask)
    assert out.dtype == dtype and torch.isfinite(out).all()
    torch.testing.assert_close(out.float(), model.roberta(ids, mask), rtol=0, atol=atol)


@torch.no_grad()
def test_encoder_refuses_more_tokens_than_positions(exported):
    _, encoder, _, _ = exported
    ids, mask = random_batch(1, 513, VOCAB, seed=14)
    with pytest.raises(RuntimeError):
        encoder(ids, mask)
