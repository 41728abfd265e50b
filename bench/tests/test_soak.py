"""Tests of the soak's growth figures and summary (bench/harness) on hand-made samples."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import report, steps  # noqa: E402  pylint: disable=wrong-import-position


def _samples(rss_mib):
    """One sample every 10 s with the given RSS values (MiB)."""
    return [{"t_s": 10.0 * i, "rss_bytes": v * 2**20} for i, v in enumerate(rss_mib)]


def test_settling_working_set_grows_early_and_not_late():
    # 100 s soak: baseline at 10 s (1000), half at 50 s (1100), last 1100.
    growth = steps.soak_growth(_samples([900, 1000, 1050, 1080, 1100, 1100, 1100, 1100,
                                         1100, 1100, 1100]), 100.0)
    assert growth["baseline"]["t_s"] == 10.0
    assert growth["rss_growth"] == pytest.approx(0.10)
    assert growth["half"]["t_s"] == 50.0
    assert growth["second_half_growth"] == pytest.approx(0.0)


def test_leak_grows_in_both_windows():
    growth = steps.soak_growth(_samples([1000 + 10 * i for i in range(11)]), 100.0)
    assert growth["rss_growth"] == pytest.approx((1100 - 1010) / 1010)
    assert growth["second_half_growth"] == pytest.approx((1100 - 1050) / 1050)


def test_summary_states_the_verdict_and_both_windows():
    samples = _samples([1000] * 6 + [1020] * 5)
    soak = {"minutes": 100 / 60, "concurrency": 16, "samples": samples,
            **steps.soak_growth(samples, 100.0), "peak_rss_bytes": 1100 * 10**6,
            "load": {"tokens_per_s": 900.0, "errors": 0}}
    line = report.soak_markdown(soak)
    assert "+2.00 % (target <= 5 %: met)" in line
    assert "from 50 s: +2.00 %" in line
    assert "peak 1100 MB" in line
