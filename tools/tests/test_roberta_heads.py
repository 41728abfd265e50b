"""The reference task heads: names, math, scripting, random init, head configs."""

import pytest
import torch

import model_dir
import roberta_heads
import roberta_ref
from conftest import make_head_model, random_batch, small_config
from test_roberta_ref import encoder_names

VOCAB = 1000
HIDDEN = 32


@pytest.fixture(scope="module", params=[roberta_heads.SEQUENCE, roberta_heads.TOKEN])
def model(request):
    labels = [f"L{i}" for i in range(5 if request.param == roberta_heads.SEQUENCE else 9)]
    return make_head_model(small_config(vocab_size=VOCAB), request.param, labels, seed=3)


def test_state_dict_names_equal_hugging_face(model):
    head = ["classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
            "classifier.out_proj.bias"] if model.head.kind == roberta_heads.SEQUENCE else \
        ["classifier.weight", "classifier.bias"]
    assert sorted(model.state_dict()) == sorted(encoder_names(2) + head)
    assert model.lm_head is None
    assert model.architecture == model.head.architecture == {
        roberta_heads.SEQUENCE: "RobertaForSequenceClassification",
        roberta_heads.TOKEN: "RobertaForTokenClassification"}[model.head.kind]


@torch.no_grad()
def test_forward_is_the_hugging_face_computation(model):
    ids, mask = random_batch(3, 12, VOCAB, seed=4, lengths=[12, 7, 2])
    hidden = model.roberta(ids, mask)
    c = model.classifier
    if model.head.kind == roberta_heads.SEQUENCE:
        x = torch.tanh(hidden[:, 0] @ c.dense.weight.T + c.dense.bias)
        expected = x @ c.out_proj.weight.T + c.out_proj.bias
        assert expected.shape == (3, 5)
    else:
        expected = hidden @ c.weight.T + c.bias
        assert expected.shape == (3, 12, 9)
    torch.testing.assert_close(model(ids, mask), expected, rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def head_file(model, tmp_path_factory):
    """The model's task_head.pt, saved."""
    modules = model_dir.script_modules(model)
    assert set(modules) == {model_dir.ENCODER_FILE, model_dir.TASK_HEAD_FILE}
    path = tmp_path_factory.mktemp("head") / model_dir.TASK_HEAD_FILE
    modules[model_dir.TASK_HEAD_FILE].save(str(path))
    return path


@pytest.fixture
def scripted(head_file):
    """task_head.pt reloaded (afresh for each test: some cast it)."""
    return torch.jit.load(str(head_file))


@pytest.mark.parametrize("rows, length", [(1, 1), (4, 17), (16, 3)])
@torch.no_grad()
def test_scripted_head_equals_eager(model, scripted, rows, length):
    generator = torch.Generator().manual_seed(rows * 100 + length)
    if model.head.kind == roberta_heads.SEQUENCE:
        hidden = torch.randn(rows, HIDDEN, generator=generator)  # the <s> vectors
        shape = (rows, model.head.num_labels)
    else:
        hidden = torch.randn(rows, length, HIDDEN, generator=generator)
        shape = (rows, length, model.head.num_labels)
    logits = scripted(hidden)
    assert logits.shape == shape and logits.dtype == torch.float32
    torch.testing.assert_close(logits, model.classifier(hidden), rtol=0, atol=1e-6)


def test_scripted_head_signature_and_attributes(model, scripted):
    argument = "cls" if model.head.kind == roberta_heads.SEQUENCE else "hidden"
    assert [a.name for a in scripted.forward.schema.arguments] == ["self", argument]
    assert (scripted.hidden_size, scripted.num_labels) == (HIDDEN, model.head.num_labels)


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-5), (torch.bfloat16, 0.2)])
@torch.no_grad()
def test_scripted_head_follows_the_module_dtype(model, scripted, dtype, atol):
    head = scripted.to(dtype)
    hidden = torch.randn(2, 6, HIDDEN, generator=torch.Generator().manual_seed(5))
    if model.head.kind == roberta_heads.SEQUENCE:
        hidden = hidden[:, 0]
    logits = head(hidden.to(dtype))
    assert logits.dtype == dtype
    torch.testing.assert_close(logits.float(), model.classifier(hidden), rtol=0, atol=atol)


@pytest.mark.parametrize("kind, count", [(roberta_heads.SEQUENCE, 4), (roberta_heads.TOKEN, 40)])
@torch.no_grad()
def test_random_heads_are_peaked_and_share_the_masked_lms_encoder(kind, count):
    """Random init: the encoder equals RobertaForMaskedLM's of the same seed; logits spread."""
    config = small_config(vocab_size=VOCAB, hidden_size=64)
    head = roberta_heads.TaskHeadConfig(kind, tuple(f"L{i}" for i in range(count)))
    model = roberta_heads.build_model(config, head)
    model.init_random_weights(7)
    mlm = roberta_ref.RobertaForMaskedLM(config)
    mlm.init_random_weights(7)
    for key, value in mlm.roberta.state_dict().items():
        assert torch.equal(model.roberta.state_dict()[key], value), key
    ids, mask = random_batch(8, 24, VOCAB, seed=6)
    logits = model(ids, mask)
    assert 2.0 < float(logits.std()) < 8.0
    top2 = logits.topk(2, dim=-1).values
    assert float((top2[..., 0] - top2[..., 1]).median()) > 0.3  # no systematic near-ties


def test_head_config_refuses_what_the_server_cannot_serve():
    with pytest.raises(ValueError, match="at least one label"):
        roberta_heads.TaskHeadConfig(roberta_heads.TOKEN, ())
    with pytest.raises(ValueError, match="problem_type 'regression' is not supported"):
        roberta_heads.TaskHeadConfig(roberta_heads.SEQUENCE, ("score",), "regression")
    with pytest.raises(ValueError, match="sequence classification only"):
        roberta_heads.TaskHeadConfig(roberta_heads.TOKEN, ("O",), roberta_heads.MULTI_LABEL)
    with pytest.raises(ValueError, match="is not sequence_classification"):
        roberta_heads.TaskHeadConfig("question_answering", ("a",))
    with pytest.raises(ValueError, match="labels must be strings"):
        roberta_heads.TaskHeadConfig(roberta_heads.SEQUENCE, ("a", 1))
    with pytest.raises(ValueError, match="needs a sequence_classification head"):
        roberta_heads.RobertaForSequenceClassification(
            small_config(), roberta_heads.TaskHeadConfig(roberta_heads.TOKEN, ("O",)))
