"""Tests of the comparisons' assembly (harness/compare_report.py, harness/runtimes.py) and of
run_bench.py's results check, on hand-made results."""

import copy
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import run_bench  # noqa: E402  pylint: disable=wrong-import-position
from harness import compare_report, int8, runtimes  # noqa: E402  pylint: disable=wrong-import-position


def _level(c, tps, p50, p99, ok=10):
    return {"concurrency": c, "tokens_per_s": tps, "p50_ms": p50, "p99_ms": p99, "ok": ok,
            "errors": 0, "rps": tps / 100.0}


def _results(server_p99_at_64=9000.0):
    return {"config": {"mode": "full"}, "model_id": "bench/random-base-seed0",
            "server": {"levels": [_level(1, 700.0, 200.0, 300.0),
                                  _level(16, 900.0, 2400.0, 4400.0),
                                  _level(64, 900.0, 7700.0, server_p99_at_64)]},
            "transformers_peer": {"levels": [_level(16, 600.0, 3000.0, 5000.0),
                                             _level(64, 600.0, 9000.0, 12000.0)]}}


def test_peer_comparison_ratios_and_p99_target():
    comparison = compare_report.peer_comparison(_results())
    rows = {row["concurrency"]: row for row in comparison["rows"]}
    assert rows[16]["tokens_per_s_ratio"] == pytest.approx(1.5)
    assert rows[16]["p99_ratio"] == pytest.approx(0.88)
    assert rows[64]["p99_at_most_peer"] is True
    targets = comparison["targets"]
    assert targets["server p99 <= transformers peer p99 at every peer level"] == "met"
    assert targets["server tokens/s >= 0.95 x the baseline's"] == "n/a"
    assert "no baseline given" in comparison["baseline"]

    missed = compare_report.peer_comparison(_results(server_p99_at_64=12500.0))
    assert missed["targets"]["server p99 <= transformers peer p99 at every peer level"] == "missed"


def test_baseline_compared_only_when_mode_and_model_match():
    results = _results()
    baseline = copy.deepcopy(results)
    baseline["server"]["levels"][1]["tokens_per_s"] = 1000.0  # c=16: now 0.90 x the baseline
    comparison = compare_report.peer_comparison(results, baseline)
    rows = {row["concurrency"]: row for row in comparison["rows"]}
    assert rows[16]["over_baseline"] == pytest.approx(0.9)
    assert rows[64]["over_baseline"] == pytest.approx(1.0)
    assert comparison["targets"]["server tokens/s >= 0.95 x the baseline's"] == "missed"

    baseline["server"]["levels"][1]["tokens_per_s"] = 930.0  # 0.968: within the noise
    ok = compare_report.peer_comparison(results, baseline)
    assert ok["targets"]["server tokens/s >= 0.95 x the baseline's"] == "met"

    baseline["config"]["mode"] = "quick"
    other = compare_report.peer_comparison(results, baseline)
    assert other["targets"]["server tokens/s >= 0.95 x the baseline's"] == "n/a"
    assert "mode/model" in other["baseline"]


def _engine(rows):
    return {"available": True, "cores": 2, "texts": 48, "tokens": 6610,
            "raw": [{"arrangement": a, "batch": b, "tokens_per_s": t} for a, b, t in rows]}


ONE, TWO = "1 forward(s) x 2 thread(s)", "2 forward(s) x 1 thread(s)"


def _table(peer_tps=600.0):
    measured = {"debian_libtorch": {"available": False, "reason": "not built"},
                "pypi_libtorch": _engine([(ONE, 1, 700.0), (TWO, 1, 910.0), (ONE, 8, 800.0)]),
                "onnxruntime": _engine([(ONE, 1, 650.0), (TWO, 1, 950.0)]),
                "transformers": _engine([(ONE, 1, 500.0), (TWO, 4, 690.0)])}
    servers = {"pypi_libtorch": _level(16, 912.0, 2400.0, 4400.0),
               "debian_libtorch": {"available": False, "reason": "not built"},
               "transformers_peer": _level(16, peer_tps, 3000.0, 5000.0)}
    return runtimes.assemble(measured, servers, 16)


def test_runtime_table_fastest_and_ratios():
    table = _table()
    assert table["fastest"]["key"] == "onnxruntime"
    assert table["fastest"]["tokens_per_s"] == 950.0
    pypi = table["ratios"]["pypi_libtorch"]
    assert pypi["server_over_fastest_raw"] == pytest.approx(0.96)
    assert pypi["server_over_transformers_peer"] == pytest.approx(1.52)
    assert pypi["targets"] == {"server_over_fastest_raw >= 0.95": "met",
                               "server_over_transformers_peer >= 1.3": "met"}
    debian = table["ratios"]["debian_libtorch"]
    assert debian["server_over_fastest_raw"] is None
    assert set(debian["targets"].values()) == {"n/a"}
    missed = _table(peer_tps=800.0)["ratios"]["pypi_libtorch"]["targets"]
    assert missed["server_over_transformers_peer >= 1.3"] == "missed"


def test_runtime_rows_keep_arrangements_and_batches_apart():
    rows = {row["key"]: row for row in _table()["rows"]}
    assert rows["pypi_libtorch"]["tokens_per_s"] == {ONE: {1: 700.0, 8: 800.0}, TWO: {1: 910.0}}
    assert rows["pypi_libtorch"]["best"] == {"tokens_per_s": 910.0, "arrangement": TWO,
                                             "batch": 1}
    assert rows["debian_libtorch"] == {"key": "debian_libtorch", "available": False,
                                       "name": runtimes.RUNTIMES[0][1], "reason": "not built"}


def test_runtime_markdown_marks_the_best_cell_and_says_na():
    text = compare_report.runtimes_markdown(_table(), [1, 4, 8, 16], 2)
    assert "| PyPI LibTorch (securebert-engine-bench, build) | 2 forward(s) x 1 thread(s) | " \
           "**910.0** | n/a | n/a | n/a |" in text
    assert "n/a: not built" in text
    assert "fastest raw: ONNX Runtime, CPU provider (Python), 2 forward(s) x 1 thread(s), " \
           "batch 1: **950.0 tokens/s**" in text
    assert "server (PyPI LibTorch) / fastest raw: 0.960 (>= 0.95: met)" in text


def test_ghz_markdown_states_the_verdict_or_why_not():
    assert "n/a (ghz not found" in compare_report.ghz_markdown(
        {"available": False, "reason": "ghz not found at x"})
    figures = {"securebert_load": 100.0, "ghz": 120.0, "relative_difference": 0.2,
               "margin": 0.1, "within": False, "own_spread": 0.03}
    text = compare_report.ghz_markdown(
        {"available": True, "ghz_version": "v0.120.0", "concurrency": 16, "texts": 1024,
         "warmup_requests": 16, "requests": 126, "order": ["securebert_load", "ghz"],
         "agreement": {"figures": {"tokens_per_s": figures}, "verdict": "disagree"},
         "differences": ["client CPU per request: ..."]})
    assert "| tokens_per_s | 100.0 | 120.0 | 20.0% | 10% | False | 3.0% |" in text
    assert "verdict: **disagree**" in text and "- client CPU per request: ..." in text


def _complete():
    ok_level = _level(16, 900.0, 1.0, 2.0)
    results = {name: {"x": 1} for name in run_bench.SECTIONS}
    results.update({"server": {"levels": [ok_level]}, "naive": [ok_level],
                    "transformers_peer": {"levels": [ok_level]},
                    "ghz": {"available": False, "reason": "ghz not found"},
                    "runtimes": _table(),
                    "int8": {"available": True, "server": {"levels": [ok_level]},
                             "onnxruntime_int8": {"available": True}}})
    return results


def _int8_result(tokens_per_s: float, rss: int, pooled: float, top1: float) -> dict:
    accuracy = {"texts": 240, "tokens": 30000, "masked_texts": 128,
                "last_hidden_state_cosine": {"min": 0.998, "mean": 0.9995},
                "cls_cosine": {"min": pooled, "mean": 0.9999},
                "mean_pooled_cosine": {"min": 0.9999, "mean": 0.99995},
                "mask_top1_agreement": top1, "mask_top5_overlap": 0.95}
    result = {"available": True, "engine": "x86", "accuracy": accuracy,
              "server": {"levels": [_level(16, tokens_per_s, 100.0, 200.0)],
                         "peak_rss_bytes": rss},
              "debian_server": {"available": False, "reason": "not built"},
              "onnxruntime_int8": {"available": True, "raw_best": {"tokens_per_s": 1234.5}}}
    return result


def test_int8_ratios_and_verdicts_against_float32_at_c16():
    server = {"levels": [_level(16, 600.0, 120.0, 260.0)], "peak_rss_bytes": 1_000_000_000}
    good = _int8_result(960.0, 550_000_000, 0.9995, 0.98)
    good["ratios"] = int8.ratios(server, good)
    assert good["ratios"]["per_concurrency"]["16"]["speedup"] == pytest.approx(1.6)
    assert good["ratios"]["rss_ratio"] == pytest.approx(0.55)
    assert set(good["ratios"]["targets"].values()) == {"met"}
    bad = _int8_result(840.0, 700_000_000, 0.998, 0.95)
    bad["ratios"] = int8.ratios(server, bad)
    assert set(bad["ratios"]["targets"].values()) == {"missed"}
    text = int8.markdown(server, good)
    assert "| int8 | 16 | 960.0 | 100.0 | 200.0 | 1.60 |" in text
    assert "| float32 | 16 | 600.0 | 120.0 | 260.0 | - |" in text
    assert "1234.5 tokens/s raw best" in text and "(ratio 0.55)" in text
    assert "n/a: no int8 export" in int8.markdown(server, {"available": False,
                                                           "reason": "no int8 export"})


def test_missing_parts_accepts_a_complete_run_with_na_tools():
    assert run_bench.missing_parts(_complete()) == []


def test_missing_parts_names_what_is_absent():
    results = _complete()
    del results["ghz"]
    results["transformers_peer"]["levels"][0] = dict(results["transformers_peer"]["levels"][0],
                                                     ok=0)
    results["runtimes"]["rows"][2] = {"key": "onnxruntime", "available": False}
    missing = run_bench.missing_parts(results)
    assert "ghz" in missing
    assert "a load level with no OK answer" in missing
    assert "runtime onnxruntime" in missing
