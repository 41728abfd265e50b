"""Tests of bench/server_ab.py's bookkeeping: arms, medians over rounds, ratios, the table."""

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import server_ab  # noqa: E402  pylint: disable=wrong-import-position


def level(tokens_per_s, p50, p99, errors=0):
    return {"tokens_per_s": tokens_per_s, "p50_ms": p50, "p99_ms": p99, "errors": errors}


def test_arms_are_flags_or_the_peer():
    assert server_ab.parse_arm("default=") == ("default", [])
    assert server_ab.parse_arm("b256=--max_batch_tokens 256 --max_batch_size=4") == (
        "b256", ["--max_batch_tokens", "256", "--max_batch_size=4"])
    assert server_ab.parse_arm("hf=peer") == ("hf", None)
    for bad in ("noequals", "=--flag"):
        with pytest.raises(argparse.ArgumentTypeError):
            server_ab.parse_arm(bad)


def test_summary_takes_medians_and_counts_errors():
    summary = server_ab.summarize({
        "a": [level(100, 10, 30), level(300, 30, 10, errors=2), level(200, 20, 20)],
        "empty": []})
    assert summary == {"a": {"tokens_per_s": 200, "p50_ms": 20, "p99_ms": 20, "rounds": 3,
                             "errors": 2}}


def test_ratios_are_against_the_peer_and_the_first_arm():
    summary = server_ab.summarize({"default": [level(1500, 1300, 2500)],
                                   "small": [level(1200, 1500, 1800)],
                                   "peer": [level(1000, 1600, 2000)]})
    table = server_ab.ratios(summary, "default")
    assert table["small"]["tokens_per_s_vs_peer"] == pytest.approx(1.2)
    assert table["small"]["p99_vs_peer"] == pytest.approx(0.9)
    assert table["small"]["tokens_per_s_vs_first"] == pytest.approx(0.8)
    assert table["small"]["p99_vs_first"] == pytest.approx(0.72)
    assert table["default"]["p99_vs_first"] == pytest.approx(1.0)
    # Without a peer arm there is no peer column.
    no_peer = server_ab.ratios({k: v for k, v in summary.items() if k != "peer"}, "default")
    assert "p99_vs_peer" not in no_peer["small"]
    rows = server_ab.report(summary, table).splitlines()
    assert len(rows) == 2 + 3
    assert rows[3].startswith("| small | 1200.0 | 1500 | 1800 | 1.200 | 0.900 | 0.800 | 0.720 |")
