"""Tests of the weights' bookkeeping (bench/harness/models.py): reading the build's
CMakeCache.txt and the checkpoint cache's stamp."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import models  # noqa: E402  pylint: disable=wrong-import-position


def test_cmake_cache_reads_typed_and_untyped_entries(tmp_path):
    (tmp_path / "CMakeCache.txt").write_text(
        "# comment\n"
        "SECUREBERT_PYTHON:UNINITIALIZED=/work/main/.venv/bin/python\n"
        "SECUREBERT_TORCH:STRING=system\n"
        "SECUREBERT_TORCH_EXTRA:STRING=x=y\n")
    assert models.cmake_cache(tmp_path, "SECUREBERT_PYTHON") == "/work/main/.venv/bin/python"
    assert models.cmake_cache(tmp_path, "SECUREBERT_TORCH") == "system"
    assert models.cmake_cache(tmp_path, "SECUREBERT_TORCH_EXTRA") == "x=y"
    assert models.cmake_cache(tmp_path, "MISSING") is None
    assert models.cmake_cache(tmp_path / "no-build", "SECUREBERT_TORCH") is None


def test_cached_checkpoint_is_reused_only_for_the_same_shape_seed_and_transformers(tmp_path):
    (tmp_path / models.STAMP).write_text(json.dumps(
        {"shape": "base", "seed": 0, "transformers": "5.24.0"}))
    matches = models._stamp_matches  # pylint: disable=protected-access
    assert matches(tmp_path, "base", 0, "5.24.0")
    assert not matches(tmp_path, "base", 1, "5.24.0")
    assert not matches(tmp_path, "tiny", 0, "5.24.0")
    assert not matches(tmp_path, "base", 0, "5.25.0")
    assert not matches(tmp_path / "none", "base", 0, "5.24.0")


def test_cache_root_names_shape_and_seed():
    assert models.cache_root("base", 3).parts[-3:] == ("models", "bench", "base-seed3")
