"""Tests of the harness's plots (bench/harness/plots.py) on hand-made results."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import plots  # noqa: E402  pylint: disable=wrong-import-position


def _results(modes):
    levels = [{"concurrency": c, "tokens_per_s": 100.0 * c, "p50_ms": 10.0 * c, "p99_ms": 20.0 * c}
              for c in (1, 4, 16)]
    naive = [{"mode": m, "concurrency": 16, "tokens_per_s": 50.0 + i, "p50_ms": 30.0 + i}
             for i, m in enumerate(modes)]
    return {"model_id": "random-init/tiny", "machine": {"cores": 2},
            "raw": {"best_tokens_per_s": 900.0},
            "server": {"levels": levels}, "naive": naive}


def test_every_naive_mode_gets_a_labelled_marker():
    fig, ax = plt.subplots()
    plots._naive_markers(ax, _results(["default", "tuned", "expert"]), "tokens_per_s")  # pylint: disable=protected-access
    _, labels = ax.get_legend_handles_labels()
    plt.close(fig)
    assert labels == ["naive peer (default)", "naive peer (tuned)", "naive peer (expert)"]


def test_both_plots_write_png_files(tmp_path):
    results = _results(["tuned"])
    plots.throughput(results, tmp_path / "t.png")
    plots.latency(results, tmp_path / "l.png")
    for name in ("t.png", "l.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
