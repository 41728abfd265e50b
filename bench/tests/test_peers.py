"""Tests of the transformers peer's pieces that need no server: the checkpoint's tokenizer
files (bench/hf_model.py), the pooling and offsets of the servicer, the parity check's
difference. Needs the venv (transformers, grpcio-tools); no network."""

import shutil
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCH))
import hf_model  # noqa: E402  pylint: disable=wrong-import-position
import proto_stubs  # noqa: E402  pylint: disable=wrong-import-position
from harness import peer_check  # noqa: E402  pylint: disable=wrong-import-position


def test_tokenizer_files_give_mask_lstrip(tmp_path):
    hf_model.write_tokenizer_files(tmp_path)
    hf_model.check_mask_lstrip(tmp_path)  # raises if "used <mask>" keeps a lone "Ġ"


def test_lstrip_check_fails_on_vocab_and_merges_alone(tmp_path):
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(hf_model.TOKENIZER_DIR / name, tmp_path / name)
    with pytest.raises(RuntimeError, match="not lstrip"):
        hf_model.check_mask_lstrip(tmp_path)


@pytest.fixture(scope="module")
def servicer(tmp_path_factory):
    proto_stubs.generate(tmp_path_factory.mktemp("stubs"))
    import transformers_servicer  # pylint: disable=import-outside-toplevel
    return transformers_servicer


def test_mean_pooling_counts_real_tokens_only(servicer):
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]],
                           [[2.0, 0.0], [4.0, 0.0], [6.0, 0.0]]])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    mean = servicer.pooled(hidden, mask, servicer.pb.POOLING_MEAN, normalize=False)
    assert mean.tolist() == [[2.0, 3.0], [4.0, 0.0]]
    cls = servicer.pooled(hidden, mask, servicer.pb.POOLING_CLS, normalize=False)
    assert cls.tolist() == [[1.0, 2.0], [2.0, 0.0]]
    unit = servicer.pooled(hidden, mask, servicer.pb.POOLING_MEAN, normalize=True)
    assert unit.norm(dim=-1).tolist() == pytest.approx([1.0, 1.0])


def test_character_offsets_become_byte_offsets(servicer):
    offsets = servicer._byte_offsets  # pylint: disable=protected-access
    assert offsets("héllo wörld", 0, 5) == (0, 6)
    assert offsets("héllo wörld", 6, 11) == (7, 13)


def test_max_difference_and_shape_mismatch():
    assert peer_check.max_difference([[1.0, 2.0], [3.0]], [[1.0, 2.5], [2.0]]) == 1.0
    assert peer_check.max_difference([[1.0]], [[1.0, 2.0]]) == float("inf")
    assert peer_check.max_difference([], []) == 0.0
