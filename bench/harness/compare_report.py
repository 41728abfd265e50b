"""The comparisons of a run as figures and Markdown: the server against the transformers peer
(issue "real tools"), ghz against securebert-load (issue "ghz"), and the runtime table
(issue "CPU speed"). Pure functions of the results dict; figures, never assertions.
"""

from typing import List, Optional

from harness import figures, runtimes

# "Throughput no worse than today's": the server's tokens/s against a baseline run's at the
# same level, allowing the run-to-run spread of this VM (four full runs put the server's
# c=16 tokens/s at 835-902: +-4 % around the middle).
BASELINE_NOISE = 0.05


def _fmt(value, pattern="{:.1f}") -> str:
    return "n/a" if value is None else pattern.format(value)


def _level(levels: List[dict], concurrency: int) -> Optional[dict]:
    return next((lv for lv in levels if lv["concurrency"] == concurrency), None)


def baseline_usable(results: dict, baseline: Optional[dict]) -> Optional[str]:
    """None when `baseline` (an earlier results JSON) compares with `results`; else why not."""
    if baseline is None:
        return "no baseline given (--baseline PATH: an earlier results JSON)"
    mine = (results["config"]["mode"], results.get("model_id"))
    theirs = (baseline.get("config", {}).get("mode"), baseline.get("model_id"))
    if mine != theirs:
        return f"baseline is mode/model {theirs}, this run {mine}"
    return None


def peer_comparison(results: dict, baseline: Optional[dict] = None) -> dict:
    """Server against the transformers peer at each peer level, p50/p99 side by side."""
    server_levels = results["server"]["levels"]
    peer_levels = results["transformers_peer"]["levels"]
    unusable = baseline_usable(results, baseline)
    rows = []
    for peer in peer_levels:
        c = peer["concurrency"]
        srv = _level(server_levels, c) or {}
        base = None if unusable else _level(baseline["server"]["levels"], c)
        rows.append({
            "concurrency": c,
            "server": {k: srv.get(k) for k in ("tokens_per_s", "p50_ms", "p99_ms")},
            "peer": {k: peer.get(k) for k in ("tokens_per_s", "p50_ms", "p99_ms")},
            "tokens_per_s_ratio": figures.ratio(srv.get("tokens_per_s"), peer["tokens_per_s"]),
            "p50_ratio": figures.ratio(srv.get("p50_ms"), peer["p50_ms"]),
            "p99_ratio": figures.ratio(srv.get("p99_ms"), peer["p99_ms"]),
            "p99_at_most_peer": (srv["p99_ms"] <= peer["p99_ms"]) if srv else None,
            "baseline_tokens_per_s": base["tokens_per_s"] if base else None,
            "over_baseline": figures.ratio(srv.get("tokens_per_s"),
                                    base["tokens_per_s"] if base else None)})
    p99 = [row["p99_at_most_peer"] for row in rows]
    over = [row["over_baseline"] for row in rows]
    return {"rows": rows, "baseline": unusable or "usable",
            "targets": {
                "server p99 <= transformers peer p99 at every peer level":
                    "n/a" if None in p99 or not p99 else ("met" if all(p99) else "missed"),
                f"server tokens/s >= {1 - BASELINE_NOISE:.2f} x the baseline's":
                    "n/a" if None in over or not over else
                    ("met" if all(v >= 1 - BASELINE_NOISE for v in over) else "missed")}}


def peer_markdown(comparison: dict) -> str:
    lines = ["| c | server tokens/s | peer tokens/s | server / peer | server p50 ms | "
             "peer p50 ms | server p99 ms | peer p99 ms | p99 server / peer | "
             "server / baseline tokens/s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in comparison["rows"]:
        s, p = row["server"], row["peer"]
        lines.append(f"| {row['concurrency']} | {_fmt(s['tokens_per_s'])} | "
                     f"{_fmt(p['tokens_per_s'])} | {_fmt(row['tokens_per_s_ratio'], '{:.2f}')} | "
                     f"{_fmt(s['p50_ms'])} | {_fmt(p['p50_ms'])} | {_fmt(s['p99_ms'])} | "
                     f"{_fmt(p['p99_ms'])} | {_fmt(row['p99_ratio'], '{:.2f}')} | "
                     f"{_fmt(row['over_baseline'], '{:.3f}')} |")
    lines.append("")
    lines += [f"- {name}: **{verdict}**" for name, verdict in comparison["targets"].items()]
    if comparison["baseline"] != "usable":
        lines.append(f"- baseline: {comparison['baseline']}")
    return "\n".join(lines) + "\n"


def ghz_markdown(ghz: dict) -> str:
    if not ghz.get("available"):
        return f"ghz vs securebert-load: n/a ({ghz.get('reason')})\n"
    agreement = ghz["agreement"]
    lines = [f"ghz {ghz['ghz_version']} (by reflection) and securebert-load on one server, "
             f"Embed mean pooling, c={ghz['concurrency']}, 1 connection, the same "
             f"{ghz['texts']} texts; after a settling run of {ghz['requests']} requests and a "
             f"warm-up run of {ghz['warmup_requests']} requests each, measured runs of "
             f"{ghz['requests']} requests in the order {', '.join(ghz['order'])} (each "
             "tool's runs combined):", "",
             "| figure | securebert-load | ghz | difference | margin | within | "
             "own run-to-run spread |",
             "|---|---:|---:|---:|---:|---|---:|"]
    for key, row in agreement["figures"].items():
        lines.append(f"| {key} | {_fmt(row['securebert_load'])} | {_fmt(row['ghz'])} | "
                     f"{_fmt(row['relative_difference'], '{:.1%}')} | {row['margin']:.0%} | "
                     f"{_fmt(row['within'], '{}')} | {_fmt(row['own_spread'], '{:.1%}')} |")
    lines += ["", f"- verdict: **{agreement['verdict']}** (agree: every figure within its "
                  "margin; inconclusive: a tool's own runs differ by more than the margin)"]
    lines += [f"- {note}" for note in ghz["differences"]]
    return "\n".join(lines) + "\n"


def _cell(row: dict, arrangement: str, batch: int) -> str:
    value = row["tokens_per_s"].get(arrangement, {}).get(batch)
    text = _fmt(value)
    best = row["best"]
    return f"**{text}**" if (arrangement, batch) == (best["arrangement"], best["batch"]) else text


def runtimes_markdown(table: dict, batch_sizes: List[int], cores: int) -> str:
    """Raw tokens/s per runtime, arrangement and batch; the servers; fastest and ratios."""
    header = "| runtime | arrangement | " + " | ".join(f"batch {b}" for b in batch_sizes) + " |"
    lines = [header, "|---|---|" + "---:|" * len(batch_sizes)]
    for row in table["rows"]:
        if not row["available"]:
            lines.append(f"| {row['name']} | n/a: {row['reason'][:160]} |"
                         + " |" * len(batch_sizes))
            continue
        for arrangement in runtimes.arrangements(row.get("cores") or cores):
            if arrangement not in row["tokens_per_s"]:
                continue
            cells = " | ".join(_cell(row, arrangement, b) for b in batch_sizes)
            lines.append(f"| {row['name']} | {arrangement} | {cells} |")
    c = table["concurrency"]
    lines += ["", f"| server at c={c} | tokens/s | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    for row in table["servers"]:
        if row["available"]:
            lines.append(f"| {row['name']} | {row['tokens_per_s']:.1f} | {row['p50_ms']:.1f} | "
                         f"{row['p99_ms']:.1f} |")
        else:
            lines.append(f"| {row['name']} | n/a: {row['reason'][:160]} | | |")
    fastest = table["fastest"]
    lines.append("")
    if fastest:
        lines.append(f"- fastest raw: {fastest['name']}, {fastest['arrangement']}, batch "
                     f"{fastest['batch']}: **{fastest['tokens_per_s']:.1f} tokens/s**")
    for key, name in (("pypi_libtorch", "server (PyPI LibTorch)"),
                      ("debian_libtorch", "server (Debian LibTorch)")):
        r = table["ratios"][key]
        t = r["targets"]
        lines.append(f"- {name} / fastest raw: "
                     f"{_fmt(r['server_over_fastest_raw'], '{:.3f}')} (>= 0.95: "
                     f"{t['server_over_fastest_raw >= 0.95']}); / transformers peer: "
                     f"{_fmt(r['server_over_transformers_peer'], '{:.2f}')} (>= 1.3: "
                     f"{t['server_over_transformers_peer >= 1.3']})")
    verify = next((row.get("verify") for row in table["rows"]
                   if row["key"] == "onnxruntime" and row["available"]), None)
    if verify:
        lines.append(f"- ONNX Runtime against transformers before timing: max |diff| "
                     f"{verify['max_abs_diff']:.2e} (tolerance {verify['tolerance']:g})")
    return "\n".join(lines) + "\n"
