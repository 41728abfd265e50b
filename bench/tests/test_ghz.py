"""Tests of the ghz comparison's pure logic (bench/harness/ghz.py): ghz's JSON report, the
agreement rule, combining runs, the data files and the command line."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import ghz  # noqa: E402  pylint: disable=wrong-import-position

MS = 1_000_000  # ghz's durations are nanoseconds


def _ghz_report(latencies_ms, ends, codes=None, total_ms=100.0):
    """A report shaped like ghz v0.120's -O json (runner/reporter.go)."""
    count = len(latencies_ms)
    return {
        "date": "2026-12-01T23:55:02Z", "endReason": "normal", "options": {"call": "x"},
        "count": count, "total": int(total_ms * MS),
        "average": int(sum(latencies_ms) / count * MS), "rps": count / (total_ms / 1000.0),
        "errorDistribution": {}, "statusCodeDistribution": codes or {"OK": count},
        "latencyDistribution": [{"percentage": p, "latency": int(v * MS)}
                                for p, v in ((10, 1.0), (50, 7.0), (99, 9.5))],
        "histogram": [],
        "details": [{"timestamp": end, "latency": int(lat * MS), "error": "", "status": "OK"}
                    for lat, end in zip(latencies_ms, ends)]}


def test_parse_reads_nanoseconds_percentiles_and_status_codes():
    report = _ghz_report([10.0, 20.0, 30.0],
                         ["2026-12-01T23:55:02.010000000Z", "2026-12-01T23:55:02.02000000Z",
                          "2026-12-01T23:55:02.040000001Z"],
                         codes={"OK": 2, "Unavailable": 1}, total_ms=50.0)
    figures = ghz.parse_ghz_report(report)
    assert figures["count"] == 3 and figures["ok"] == 2 and figures["errors"] == 1
    assert figures["total_ms"] == pytest.approx(50.0)
    assert figures["mean_ms"] == pytest.approx(20.0)
    assert figures["p50_ms"] == pytest.approx(7.0)
    assert figures["p99_ms"] == pytest.approx(9.5)
    assert figures["rps"] == pytest.approx(60.0)
    # Span: first start 0.010 - 0.010 = 0.000 to last end 0.040: 3 calls in 40 ms.
    assert figures["window_rps"] == pytest.approx(75.0, rel=1e-3)


def test_parse_tolerates_a_report_without_answers():
    figures = ghz.parse_ghz_report({"count": 0, "total": 0, "latencyDistribution": None,
                                    "statusCodeDistribution": None, "details": None})
    assert figures["ok"] == 0 and figures["p50_ms"] is None and figures["window_rps"] is None


def _tool(**figures):
    """A combined tool result whose two runs both have `figures`."""
    return {**figures, "each": [dict(figures), dict(figures)]}


def test_agreement_within_and_outside_each_margin():
    load = _tool(tokens_per_s=1000.0, p50_ms=100.0, p99_ms=200.0)
    close = _tool(tokens_per_s=1090.0, p50_ms=91.0, p99_ms=245.0)
    result = ghz.agreement(load, close)
    assert result["verdict"] == "agree"
    assert result["figures"]["tokens_per_s"]["relative_difference"] == pytest.approx(0.09)
    assert result["figures"]["tokens_per_s"]["own_spread"] == 0.0
    far = _tool(tokens_per_s=1090.0, p50_ms=91.0, p99_ms=251.0)
    result = ghz.agreement(load, far)
    assert result["verdict"] == "disagree"
    assert result["figures"]["p99_ms"]["within"] is False
    assert result["figures"]["p50_ms"]["within"] is True


def test_agreement_is_inconclusive_when_a_tool_does_not_repeat_itself():
    load = _tool(tokens_per_s=1000.0, p50_ms=100.0, p99_ms=200.0)
    load["each"] = [dict(load["each"][0], tokens_per_s=700.0),
                    dict(load["each"][0], tokens_per_s=1300.0)]  # spread 60 %
    other = _tool(tokens_per_s=1500.0, p50_ms=100.0, p99_ms=200.0)
    result = ghz.agreement(load, other)
    assert result["figures"]["tokens_per_s"]["own_spread"] == pytest.approx(0.6)
    assert result["verdict"] == "inconclusive"


def test_agreement_is_na_when_a_figure_is_missing():
    load = {"tokens_per_s": 1000.0, "p50_ms": 100.0, "p99_ms": None}
    result = ghz.agreement(load, {"tokens_per_s": 1000.0, "p50_ms": 100.0, "p99_ms": 5.0})
    assert result["verdict"] == "n/a"
    assert result["figures"]["p99_ms"]["within"] is None


def test_spread_of_runs():
    assert ghz.spread([{"x": 90.0}, {"x": 110.0}], "x") == pytest.approx(0.2)
    assert ghz.spread([{"x": 1.0}, {"x": None}], "x") is None
    assert ghz.spread([], "x") is None


def _run(tokens, total_ms, count, p50, cpu=0.5):
    return {"count": count, "ok": count, "errors": 0, "tokens": tokens, "total_ms": total_ms,
            "client_cpu_s": cpu, "mean_ms": p50, "p50_ms": p50, "p99_ms": 2 * p50,
            "window_rps": None}


def test_combine_runs_sums_counts_and_averages_latencies():
    combined = ghz.combine_runs([_run(1000, 1000.0, 10, 50.0), _run(3000, 3000.0, 10, 70.0)])
    assert combined["tokens_per_s"] == pytest.approx(1000.0)
    assert combined["rps"] == pytest.approx(5.0)
    assert combined["p50_ms"] == pytest.approx(60.0)
    assert combined["client_cpu_s_per_request"] == pytest.approx(0.05)
    assert combined["window_rps"] is None
    assert combined["runs"] == 2 and combined["count"] == 20


def test_combine_runs_has_no_tokens_per_s_when_a_run_had_errors():
    failed = dict(_run(1000, 1000.0, 10, 50.0), errors=1, ok=9)
    assert ghz.combine_runs([_run(1000, 1000.0, 10, 50.0), failed])["tokens_per_s"] is None


def test_expected_tokens_follow_the_round_robin_from_the_first_text():
    assert ghz.expected_tokens([10, 20, 30], 7) == 2 * 60 + 10
    assert ghz.expected_tokens([10, 20, 30], 2) == 30
    assert ghz.expected_tokens([5], 4) == 20


def test_rotate_wraps_around():
    assert ghz.rotate(["a", "b", "c"], 1) == ["b", "c", "a"]
    assert ghz.rotate(["a", "b", "c"], 4) == ["b", "c", "a"]


def test_differences_name_miscounted_tokens_errors_and_client_cpu():
    miscounted = dict(_run(1000, 1000.0, 10, 50.0), own_tokens=990)
    load = {**ghz.combine_runs([miscounted]), "each": [miscounted]}
    other = {**ghz.combine_runs([dict(_run(1000, 1000.0, 10, 50.0, cpu=1.0), errors=2, ok=8)]),
             "rps": 10.0, "window_rps": 10.5}
    notes = ghz.differences(load, other)
    assert any("in 1 securebert-load run(s) the answers' num_tokens" in n for n in notes)
    assert any("OK answers: securebert-load 10, ghz 8 (errors 0 / 2)" in n for n in notes)
    assert any("securebert-load 50.00 ms, ghz 100.00 ms" in n for n in notes)
    assert any("5.0 % apart" in n for n in notes)


def test_differences_say_nothing_of_tokens_when_they_add_up():
    counted = dict(_run(1000, 1000.0, 10, 50.0), own_tokens=1000)
    load = {**ghz.combine_runs([counted]), "each": [counted]}
    notes = ghz.differences(load, ghz.combine_runs([_run(1000, 1000.0, 10, 50.0)]))
    assert not any("num_tokens" in n or "OK answers" in n for n in notes)


def test_write_data_rotates_the_measured_files_by_the_warmup(tmp_path):
    paths = ghz.write_data(["t0", "t1", "t2"], 2, tmp_path)
    warm = json.loads(paths["ghz_warmup"].read_text())
    measured = json.loads(paths["ghz"].read_text())
    assert [m["inputs"] for m in warm] == [["t0"], ["t1"], ["t2"]]
    assert [m["inputs"] for m in measured] == [["t2"], ["t0"], ["t1"]]
    assert all(m["pooling"] == "POOLING_MEAN" for m in measured)
    lines = paths["load"].read_text().splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["t2", "t0", "t1"]


def test_ghz_argv_is_closed_loop_on_one_connection_by_reflection():
    argv = ghz.ghz_argv(Path("/x/ghz"), "127.0.0.1:5", Path("d.json"), 16, 10, 60.0)
    assert argv[0] == "/x/ghz" and argv[-1] == "127.0.0.1:5"
    assert "--proto" not in argv
    assert argv[argv.index("-c") + 1] == "10"  # never more workers than requests
    assert argv[argv.index("--connections") + 1] == "1"
    assert argv[argv.index("-O") + 1] == "json"
    assert argv[argv.index("--call") + 1] == "securebert.v1.SecureBert.Embed"


def test_ghz_version_reads_the_go_tools_stamp(tmp_path):
    (tmp_path / ".ghz.version").write_text("github.com/bojand/ghz/cmd/ghz@v0.120.0\n")
    assert ghz.ghz_version(tmp_path / "ghz") == "v0.120.0"
    assert ghz.ghz_version(tmp_path / "elsewhere" / "ghz") == "unknown"
