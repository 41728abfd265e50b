"""Loading fine-tuned classifier checkpoints: architectures, labels, problem type, errors."""

import json

import pytest
import torch

import hf_checkpoint
import roberta_heads
import roberta_ref
from conftest import hf_config_dict, make_head_model, make_model, random_batch, small_config

NER = ["O", "B-MALWARE", "I-MALWARE", "B-TOOL", "I-TOOL", "B-ACTOR", "I-ACTOR", "B-CVE",
       "I-CVE", "B-IP", "I-IP", "B-HASH"]


def token_model(seed=1):
    return make_head_model(small_config(), roberta_heads.TOKEN, NER, seed=seed)


def sequence_model(seed=2, problem_type=roberta_heads.SINGLE_LABEL):
    return make_head_model(small_config(), roberta_heads.SEQUENCE,
                           ["benign", "phishing", "malware"], seed=seed, problem_type=problem_type)


def write_dir(directory, model, **config_changes):
    """A Hugging Face directory of `model` whose config.json has `config_changes` applied."""
    raw = hf_config_dict(model)
    for key, value in config_changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(raw))
    torch.save(dict(model.state_dict()), directory / "pytorch_model.bin")
    return directory


@torch.no_grad()
def test_token_labels_follow_integer_ids_not_label2id(tmp_path):
    """id2label keys written in string order ("10" before "2"), label2id disagreeing."""
    source = token_model()
    id2label = {str(i): NER[i] for i in sorted(range(len(NER)), key=str)}
    label2id = {name: (i + 5) % len(NER) for i, name in enumerate(NER)}
    assert list(id2label)[:4] == ["0", "1", "10", "11"]
    write_dir(tmp_path, source, id2label=id2label, label2id=label2id)
    loaded = hf_checkpoint.load_reference_model(tmp_path)
    assert isinstance(loaded, roberta_heads.RobertaForTokenClassification)
    assert loaded.head == roberta_heads.TaskHeadConfig(roberta_heads.TOKEN, tuple(NER))
    assert loaded.lm_head is None
    ids, mask = random_batch(2, 9, 1000, seed=3, lengths=[9, 4])
    torch.testing.assert_close(loaded(ids, mask), source(ids, mask), rtol=0, atol=0)


@torch.no_grad()
def test_sequence_classifier_loads_with_pooler_and_buffers_ignored():
    source = sequence_model()
    state = dict(source.state_dict())
    state["roberta.pooler.dense.weight"] = torch.zeros(32, 32)
    state["roberta.embeddings.position_ids"] = torch.arange(514)[None]
    model = roberta_heads.build_model(small_config(), source.head)
    hf_checkpoint.load_into(model, state, "ckpt")
    ids, mask = random_batch(3, 8, 1000, seed=4, lengths=[8, 3, 1])
    torch.testing.assert_close(model(ids, mask), source(ids, mask), rtol=0, atol=0)


@pytest.mark.parametrize("problem_type, expected", [
    (None, roberta_heads.SINGLE_LABEL),
    ("single_label_classification", roberta_heads.SINGLE_LABEL),
    ("multi_label_classification", roberta_heads.MULTI_LABEL),
])
def test_problem_type_defaults_to_single_label(tmp_path, problem_type, expected):
    write_dir(tmp_path, sequence_model(), problem_type=problem_type)
    assert hf_checkpoint.read_head(tmp_path).problem_type == expected


def test_regression_and_multi_label_tokens_are_refused(tmp_path):
    write_dir(tmp_path / "r", sequence_model(), problem_type="regression")
    with pytest.raises(hf_checkpoint.CheckpointError, match="problem_type 'regression'"):
        hf_checkpoint.load_reference_model(tmp_path / "r")
    write_dir(tmp_path / "t", token_model(), problem_type="multi_label_classification")
    with pytest.raises(hf_checkpoint.CheckpointError, match="sequence classification only"):
        hf_checkpoint.load_reference_model(tmp_path / "t")


def test_without_id2label_the_labels_are_hugging_faces_defaults():
    raw = {"architectures": ["RobertaForSequenceClassification"], "num_labels": 3}
    assert hf_checkpoint.head_from_config(raw, "c").labels == ("LABEL_0", "LABEL_1", "LABEL_2")
    del raw["num_labels"]
    assert hf_checkpoint.head_from_config(raw, "c").labels == ("LABEL_0", "LABEL_1")


@pytest.mark.parametrize("id2label, message", [
    ({"0": "O", "2": "B-X"}, r"ids \[0, 2\] are not 0..1"),
    ({"0": "O", "one": "B-X"}, "a key that is not an integer id"),
    ({}, "not a non-empty object"),
    ({"0": "O", "1": 7}, "labels must be strings"),
])
def test_bad_id2label_is_reported(id2label, message):
    raw = {"architectures": ["RobertaForTokenClassification"], "id2label": id2label}
    with pytest.raises(hf_checkpoint.CheckpointError, match=message):
        hf_checkpoint.head_from_config(raw, "config.json")


@pytest.mark.parametrize("architectures, message", [
    (["RobertaForQuestionAnswering"], "names none of the supported RobertaForMaskedLM, "
                                      "RobertaForSequenceClassification, "
                                      "RobertaForTokenClassification"),
    (["RobertaForMaskedLM", "RobertaForTokenClassification"], "names more than one of"),
    ("RobertaForMaskedLM", "not a list of names"),
])
def test_unsupported_architectures_are_named(tmp_path, architectures, message):
    write_dir(tmp_path, token_model(), architectures=architectures)
    with pytest.raises(hf_checkpoint.CheckpointError, match=message) as error:
        hf_checkpoint.load_reference_model(tmp_path)
    assert "config.json" in str(error.value)


def test_a_config_without_architectures_is_a_masked_lm(tmp_path):
    write_dir(tmp_path, make_model(small_config()), architectures=None)
    assert isinstance(hf_checkpoint.load_reference_model(tmp_path), roberta_ref.RobertaForMaskedLM)


def test_label_count_must_match_the_classifier_weights(tmp_path):
    write_dir(tmp_path, token_model(), id2label={"0": "O", "1": "B-X", "2": "I-X"})
    with pytest.raises(hf_checkpoint.CheckpointError,
                       match=r"classifier\.weight has shape \[12, 32\], but config.json implies "
                             r"\[3, 32\]"):
        hf_checkpoint.load_reference_model(tmp_path)


def test_missing_and_unexpected_head_tensors_are_listed():
    head = sequence_model().head
    state = dict(sequence_model().state_dict())
    del state["classifier.out_proj.bias"]
    with pytest.raises(hf_checkpoint.CheckpointError, match="lacks classifier.out_proj.bias"):
        hf_checkpoint.load_into(roberta_heads.build_model(small_config(), head), state, "ckpt")
    state = dict(sequence_model().state_dict())
    state["lm_head.bias"] = torch.zeros(1000)
    with pytest.raises(hf_checkpoint.CheckpointError,
                       match="tensors the model does not: lm_head.bias"):
        hf_checkpoint.load_into(roberta_heads.build_model(small_config(), head), state, "ckpt")


def test_a_masked_lm_checkpoint_labelled_as_a_classifier_is_refused(tmp_path):
    mlm = make_model(small_config())
    raw = hf_config_dict(mlm)
    raw.update(architectures=["RobertaForTokenClassification"], id2label={"0": "O"})
    (tmp_path / "config.json").write_text(json.dumps(raw))
    torch.save(dict(mlm.state_dict()), tmp_path / "pytorch_model.bin")
    with pytest.raises(hf_checkpoint.CheckpointError, match="lacks classifier.bias"):
        hf_checkpoint.load_reference_model(tmp_path)
