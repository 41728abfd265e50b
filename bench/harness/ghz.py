"""ghz against securebert-load: the same server, the same texts, side by side (issue "ghz").

Both tools load one securebert-server with Embed (mean pooling) at the same concurrency on
one connection, with the texts securebert-load generates by default (text_mix.py writes
them to a JSONL file for `securebert-load --data` and a JSON array of EmbedRequests for
`ghz -D`). Both follow the same protocol, so that what differs is the tool:

  settle     one unmeasured securebert-load run of N requests (a fresh server speeds up
             over its first requests);
  warm-up    a separate run of W = c requests over texts 0..W-1, drained (each tool);
  measured   runs of exactly N requests from text W on, each on a new connection (the
             measured data starts at text W: ghz numbers requests from 0 in each run, so
             its file is rotated by W; securebert-load is given the rotated file too), in
             the order securebert-load, ghz, ghz, securebert-load, so that a server still
             warming up or a drifting machine load weighs on both alike; each tool's two
             runs are combined (combine_runs).

Each tool's tokens are the sum of the server's token counts (its Tokenize answer) of the
texts it sent, round-robin from the first: both tools send the same N texts, so they carry
the same tokens; securebert-load's own count (the answers' num_tokens) checks the sum.
Time: securebert-load counts from the measured start to the last answer; ghz from its
start (after connecting) to the end of its last call; both drain. Latency: securebert-load
from a call's start to its completion; ghz from gRPC's stats Begin to End.

The agreement rule (agreement()): relative differences |ghz - load| / load within
AGREEMENT_MARGINS; a difference over its margin counts as a disagreement only when each
tool repeats itself (its two runs) within that margin, else the verdict is inconclusive.
Why those margins: a closed loop of one ~20 s run moves by a few per cent between runs on
this VM (the server's c=16 tokens/s spanned 835-902 over four runs),
and on 2 cores the load generator's own CPU is taken from the server's, so tools that
differ in CPU cost differ in throughput: 10 % for tokens/s and p50. p99 rests on the
slowest ~1 % of a few hundred requests (two or three of them in a full run): 25 %.
"""

import functools
import json
import resource
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional

from harness.processes import run_bounded

AGREEMENT_MARGINS = {"tokens_per_s": 0.10, "p50_ms": 0.10, "p99_ms": 0.25}
EMBED_CALL = "securebert.v1.SecureBert.Embed"


def rotate(texts: List[str], by: int) -> List[str]:
    """texts starting at text `by` (mod len), wrapping around."""
    by %= len(texts)
    return texts[by:] + texts[:by]


def write_data(texts: List[str], by: int, directory: Path) -> Dict[str, Path]:
    """texts.jsonl and ghz's EmbedRequest arrays: as is (warm-up) and rotated by `by`."""
    rotated = rotate(texts, by)
    paths = {"load": directory / "texts_rotated.jsonl", "load_warmup": directory / "texts.jsonl",
             "ghz": directory / "ghz_rotated.json", "ghz_warmup": directory / "ghz.json"}
    paths["load_warmup"].write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    paths["load"].write_text("".join(json.dumps({"text": t}) + "\n" for t in rotated))
    for key, ordered in (("ghz_warmup", texts), ("ghz", rotated)):
        paths[key].write_text(json.dumps([{"inputs": [t], "pooling": "POOLING_MEAN"}
                                          for t in ordered]))
    return paths


def ghz_argv(ghz: Path, target: str, data: Path, concurrency: int, total: int,
             timeout_s: float) -> List[str]:
    """ghz by reflection, closed loop, one connection, JSON report on stdout."""
    return [str(ghz), "--insecure", "--call", EMBED_CALL, "-D", str(data),
            "-c", str(min(concurrency, total)), "-n", str(total), "--connections", "1",
            "--timeout", f"{timeout_s:g}s", "--connect-timeout", "10s", "-O", "json", target]


def _ns_to_ms(value) -> Optional[float]:
    return None if value is None else value / 1e6


def parse_ghz_report(report: dict) -> dict:
    """The figures of ghz's -O json report (durations there are nanoseconds).

    window_rps: the count over the span from the earliest call's start (end timestamp minus
    latency) to the last call's end, from `details`, which does not depend on when ghz
    started its clock.
    """
    percentiles = {row["percentage"]: row["latency"]
                   for row in report.get("latencyDistribution") or [] if row}
    codes = report.get("statusCodeDistribution") or {}
    count = int(report.get("count", 0))
    figures = {"count": count, "ok": int(codes.get("OK", 0)),
               "errors": count - int(codes.get("OK", 0)), "status_codes": codes,
               "error_samples": report.get("errorDistribution") or {},
               "total_ms": _ns_to_ms(report.get("total")), "rps": report.get("rps"),
               "mean_ms": _ns_to_ms(report.get("average")),
               "p50_ms": _ns_to_ms(percentiles.get(50)), "p99_ms": _ns_to_ms(percentiles.get(99)),
               "window_rps": None}
    details = report.get("details") or []
    if details:
        ends = [datetime.fromisoformat(d["timestamp"]).timestamp() for d in details]
        starts = [end - d["latency"] / 1e9 for end, d in zip(ends, details)]
        span = max(ends) - min(starts)
        figures["window_rps"] = len(details) / span if span > 0 else None
    return figures


def spread(runs: List[dict], key: str) -> Optional[float]:
    """(max - min) / mean of one figure over one tool's runs: its own run-to-run noise."""
    values = [run.get(key) for run in runs]
    if not values or None in values or sum(values) <= 0:
        return None
    return (max(values) - min(values)) / (sum(values) / len(values))


def agreement(load: dict, ghz: dict, margins: Optional[Dict[str, float]] = None) -> dict:
    """Per figure: both values, |ghz - load| / load, the margin, whether it is within, and
    the larger of the two tools' own run-to-run spreads (from their runs in `each`).

    verdict: "agree" when every figure is within its margin; "disagree" when one is not
    and both tools repeat themselves within that margin; "inconclusive" when a figure is
    outside but a tool's own runs differ by more than the margin (the machine's noise
    hides what the tools do); "n/a" when a figure is missing.
    """
    margins = margins or AGREEMENT_MARGINS
    rows = {}
    for key, margin in margins.items():
        a, b = load.get(key), ghz.get(key)
        diff = abs(b - a) / a if a and b is not None else None
        noise = [spread(tool.get("each", []), key) for tool in (load, ghz)]
        noise = max((n for n in noise if n is not None), default=None)
        rows[key] = {"securebert_load": a, "ghz": b, "relative_difference": diff,
                     "margin": margin, "within": None if diff is None else diff <= margin,
                     "own_spread": noise}
    within = [row["within"] for row in rows.values()]
    if None in within:
        verdict = "n/a"
    elif all(within):
        verdict = "agree"
    elif any(row["within"] is False and (row["own_spread"] or 0) > row["margin"]
             for row in rows.values()):
        verdict = "inconclusive"
    else:
        verdict = "disagree"
    return {"figures": rows, "verdict": verdict}


def differences(load: dict, ghz: dict) -> List[str]:
    """What else differed between the two runs, for a reader asking why they disagree."""
    notes = []
    if load["ok"] != ghz["ok"] or load["errors"] or ghz["errors"]:
        notes.append(f"OK answers: securebert-load {load['ok']}, ghz {ghz['ok']} (errors "
                     f"{load['errors']} / {ghz['errors']}); tokens/s counts error-free runs "
                     "only")
    own = [run for run in load.get("each", []) if run.get("own_tokens") != run["tokens"]]
    if own:
        notes.append(f"in {len(own)} securebert-load run(s) the answers' num_tokens did not "
                     "add up to the texts' token counts: the texts sent were not the ones "
                     "counted")
    cpu_load, cpu_ghz = load.get("client_cpu_s_per_request"), ghz.get("client_cpu_s_per_request")
    if cpu_load and cpu_ghz:
        notes.append(f"client CPU per request: securebert-load {1000 * cpu_load:.2f} ms, ghz "
                     f"{1000 * cpu_ghz:.2f} ms (on a 2-core box the client's CPU is the "
                     "server's loss)")
    if ghz.get("rps") and ghz.get("window_rps"):
        drift = abs(ghz["window_rps"] - ghz["rps"]) / ghz["rps"]
        notes.append(f"ghz's own requests/s {ghz['rps']:.2f} vs over its calls' span "
                     f"{ghz['window_rps']:.2f} ({100 * drift:.1f} % apart: how ghz counts time)")
    return notes


class _ChildCpu:
    """CPU seconds (user + system) used by child processes waited for inside the block."""

    def __enter__(self):
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._start = usage.ru_utime + usage.ru_stime
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.seconds = usage.ru_utime + usage.ru_stime - self._start


def expected_tokens(counts: List[int], requests: int) -> int:
    """Tokens of `requests` one-text requests sent round-robin from text 0: what ghz sends
    (request number i gets data[i % len], ghz's runner/data.go) and securebert-load too."""
    whole, rest = divmod(requests, len(counts))
    return whole * sum(counts) + sum(counts[:rest])


def _measure(run, tokens: int) -> dict:
    """run() under the child-CPU clock, with the tokens its requests carried."""
    with _ChildCpu() as cpu:
        figures = run()
    figures["tokens"] = tokens
    seconds = (figures["total_ms"] or 0) / 1000.0
    clean = seconds > 0 and figures["errors"] == 0
    figures["tokens_per_s"] = tokens / seconds if clean else None
    figures["client_cpu_s"] = cpu.seconds
    count = figures["count"]
    figures["client_cpu_s_per_request"] = cpu.seconds / count if count else None
    return figures


def run_load_tool(load_bin: Path, target: str, data: Path, concurrency: int, total: int,
                  timeout_s: float, log_path: Path) -> dict:
    """securebert-load over `data`, exactly `total` requests, no warm-up; its figures."""
    argv = [str(load_bin), "--target", target, "--call", "embed", "--pooling", "mean",
            "--data", str(data), "-c", str(min(concurrency, total)), "-n", str(total),
            "--connections", "1", "--deadline_ms", str(int(timeout_s * 1000)), "-O", "json"]
    load = json.loads(run_bounded(argv, timeout_s * 3 + 60, log_path))
    return {"count": load["count"], "ok": load["ok"], "errors": load["errors"],
            "status_codes": load["status_codes"], "total_ms": load["total_ms"],
            "rps": load["rps"], "mean_ms": load["latency_ms"]["mean"],
            "p50_ms": load["latency_ms"]["p50"], "p99_ms": load["latency_ms"]["p99"],
            "own_tokens": load["tokens"]}


def run_ghz(ghz: Path, target: str, data: Path, concurrency: int, total: int, timeout_s: float,
            log_path: Path) -> dict:
    """ghz over `data`, exactly `total` requests; its parsed figures."""
    out = run_bounded(ghz_argv(ghz, target, data, concurrency, total, timeout_s),
                      timeout_s * 3 + 60, log_path)
    return parse_ghz_report(json.loads(out))


def ghz_version(ghz: Path) -> str:
    """The pinned version from scripts/go-tools.sh's stamp beside the binary (a `go install`
    build reports "dev" to --version), or "unknown"."""
    stamp = ghz.parent / ".ghz.version"
    try:
        return stamp.read_text().strip().rsplit("@", 1)[-1]
    except OSError:
        return "unknown"


def combine_runs(runs: List[dict]) -> dict:
    """One tool's measured runs as one: counts and tokens summed, rates over the summed time,
    latency figures the mean of the runs' (the runs have the same length)."""
    seconds = sum((run["total_ms"] or 0) / 1000.0 for run in runs)
    count = sum(run["count"] for run in runs)
    combined = {"runs": len(runs), "count": count, "ok": sum(run["ok"] for run in runs),
                "errors": sum(run["errors"] for run in runs),
                "tokens": sum(run["tokens"] for run in runs), "total_ms": 1000.0 * seconds,
                "rps": count / seconds if seconds > 0 else None,
                "client_cpu_s": sum(run["client_cpu_s"] for run in runs)}
    clean = seconds > 0 and combined["errors"] == 0
    combined["tokens_per_s"] = combined["tokens"] / seconds if clean else None
    combined["client_cpu_s_per_request"] = combined["client_cpu_s"] / count if count else None
    for key in ("mean_ms", "p50_ms", "p99_ms", "window_rps"):
        values = [run.get(key) for run in runs]
        combined[key] = None if None in values else sum(values) / len(values)
    return combined


# The measured runs, in order: ABBA, so that a server still warming up or a machine whose
# load drifts during the step weighs on both tools alike.
RUN_ORDER = ("securebert_load", "ghz", "ghz", "securebert_load")


def compare(server, load_bin: Path, ghz: Path, paths: Dict[str, Path], counts: List[int],
            concurrency: int, total: int, warmup: int, timeout_s: float,
            work_dir: Path) -> dict:
    """Both tools on one started server: a settling run, both warm-ups, then RUN_ORDER's
    measured runs. counts: the server's token count of each text of the measured data."""
    def load_run(data: Path, n: int, log: str) -> dict:
        return run_load_tool(load_bin, server.target, data, concurrency, n, timeout_s,
                             work_dir / log)

    def ghz_run(data: Path, n: int, log: str) -> dict:
        return run_ghz(ghz, server.target, data, concurrency, n, timeout_s, work_dir / log)

    tools_ = {"securebert_load": (load_run, paths["load_warmup"], paths["load"]),
              "ghz": (ghz_run, paths["ghz_warmup"], paths["ghz"])}
    # A fresh server gets faster over its first thousand requests or so (allocator and
    # batch shapes settling: a first measured run came out at half the speed of a fourth):
    # one unmeasured run of `total` requests first, then each tool's own short warm-up.
    load_run(paths["load"], total, "settle.log")
    for name, (runner, warm_data, _) in tools_.items():
        runner(warm_data, warmup, f"{name}_warmup.log")
    runs: Dict[str, List[dict]] = {name: [] for name in tools_}
    for index, name in enumerate(RUN_ORDER):
        runner, _, data = tools_[name]
        runs[name].append(_measure(functools.partial(runner, data, total, f"{name}_{index}.log"),
                                   expected_tokens(counts, total)))
    combined = {name: {**combine_runs(each), "each": each} for name, each in runs.items()}
    return {"concurrency": concurrency, "requests": total, "warmup_requests": warmup,
            "connections": 1, "order": list(RUN_ORDER), **combined,
            "agreement": agreement(combined["securebert_load"], combined["ghz"]),
            "differences": differences(combined["securebert_load"], combined["ghz"])}
