"""Ratios against the targets of issue 6, and the Markdown table of a run.

Figures, never assertions: a missed target is reported as "missed", and the
run still succeeds.
"""

from typing import List, Optional

from harness import compare_report, figures, int8, long_documents

# Issue 6's targets on the 2-core CPU.
TARGET_SERVER_OVER_RAW = 0.95
TARGET_SERVER_OVER_NAIVE = 1.3
TARGET_C1_OVERHEAD_MS = 1.0
TARGET_PADDING_EFFICIENCY = 0.9
TARGET_PEAK_RSS_BYTES = 1.3e9
TARGET_SOAK_GROWTH = 0.05


def _level(levels: List[dict], concurrency: int) -> Optional[dict]:
    return next((lv for lv in levels if lv["concurrency"] == concurrency), None)


def compute_ratios(results: dict) -> dict:
    """The headline ratios; None where a figure is missing."""
    raw, server = results["raw"], results["server"]
    naive = {n["mode"]: n for n in results["naive"]}
    compare_at = results["config"]["naive_concurrency"]
    at = _level(server["levels"], compare_at) or {}
    c1 = _level(server["levels"], 1) or {}
    tuned = naive.get("tuned", {})
    peer = _level(results.get("transformers_peer", {}).get("levels", []), compare_at) or {}
    # The raw single forward, scaled from the engine bench's mean text length to the load's.
    raw_ms = raw.get("single_forward_mean_ms")
    if raw_ms and c1.get("mean_tokens_per_request"):
        raw_ms *= c1["mean_tokens_per_request"] / raw["mean_tokens_per_text"]
    ratios = {
        "compare_concurrency": compare_at,
        "server_over_raw_best": figures.ratio(at.get("tokens_per_s"), raw["best_tokens_per_s"]),
        "server_over_transformers_peer": figures.ratio(at.get("tokens_per_s"),
                                                peer.get("tokens_per_s")),
        "server_over_naive_tuned": figures.ratio(at.get("tokens_per_s"), tuned.get("tokens_per_s")),
        "server_over_naive_default": figures.ratio(at.get("tokens_per_s"),
                                            naive.get("default", {}).get("tokens_per_s")),
        "server_over_naive_expert": figures.ratio(at.get("tokens_per_s"),
                                           naive.get("expert", {}).get("tokens_per_s")),
        "naive_tuned_over_raw_best": figures.ratio(tuned.get("tokens_per_s"), raw["best_tokens_per_s"]),
        "p50_lower_than_naive_tuned": (at["p50_ms"] < tuned["p50_ms"]) if at and tuned else None,
        "p99_lower_than_naive_tuned": (at["p99_ms"] < tuned["p99_ms"]) if at and tuned else None,
        "padding_efficiency": at.get("padding_efficiency"),
        "raw_single_forward_ms_at_load_length": raw_ms,
        "c1_overhead_p50_ms": c1["p50_ms"] - raw_ms if raw_ms and c1 else None,
        "c1_outside_model_p50_ms": c1.get("outside_model_p50_ms"),
        "peak_rss_bytes": server.get("peak_rss_bytes"),
    }
    ratios["targets"] = _targets(ratios)
    return ratios


def _verdict(value, ok) -> str:
    return "n/a" if value is None else ("met" if ok(value) else "missed")


def _targets(r: dict) -> dict:
    both_lower = (None if r["p50_lower_than_naive_tuned"] is None
                  else r["p50_lower_than_naive_tuned"] and r["p99_lower_than_naive_tuned"])
    return {
        "server_over_raw_best >= 0.95": _verdict(r["server_over_raw_best"],
                                                 lambda v: v >= TARGET_SERVER_OVER_RAW),
        "server_over_naive_tuned >= 1.3": _verdict(r["server_over_naive_tuned"],
                                                   lambda v: v >= TARGET_SERVER_OVER_NAIVE),
        "p50 and p99 below naive tuned": _verdict(both_lower, bool),
        "c1 p50 <= raw single forward + 1 ms": _verdict(r["c1_overhead_p50_ms"],
                                                        lambda v: v <= TARGET_C1_OVERHEAD_MS),
        "padding_efficiency >= 0.9": _verdict(r["padding_efficiency"],
                                              lambda v: v >= TARGET_PADDING_EFFICIENCY),
        "peak RSS <= 1.3 GB": _verdict(r["peak_rss_bytes"], lambda v: v <= TARGET_PEAK_RSS_BYTES),
    }


def _fmt(value, pattern="{:.1f}") -> str:
    return "n/a" if value is None else pattern.format(value)


def markdown(results: dict) -> str:
    """The run's Markdown: per-configuration figures, then ratios and targets."""
    raw, ratios = results["raw"], results["ratios"]
    lines = ["| configuration | c | requests/s | tokens/s | p50 ms | p99 ms | padding eff. |",
             "|---|---:|---:|---:|---:|---:|---:|",
             f"| raw model, best static batch ({raw['best_setting']}) | - | - | "
             f"{raw['best_tokens_per_s']:.1f} | - | - | - |"]
    for lv in results["server"]["levels"]:
        lines.append(f"| securebert-server | {lv['concurrency']} | {lv['rps']:.2f} | "
                     f"{lv['tokens_per_s']:.1f} | {lv['p50_ms']:.1f} | {lv['p99_ms']:.1f} | "
                     f"{_fmt(lv['padding_efficiency'], '{:.3f}')} |")
    for pv in results.get("transformers_peer", {}).get("levels", []):
        lines.append(f"| transformers peer | {pv['concurrency']} | {pv['rps']:.2f} | "
                     f"{pv['tokens_per_s']:.1f} | {pv['p50_ms']:.1f} | {pv['p99_ms']:.1f} | - |")
    for nv in results["naive"]:
        lines.append(f"| naive peer ({nv['mode']}) | {nv['concurrency']} | {nv['rps']:.2f} | "
                     f"{nv['tokens_per_s']:.1f} | {nv['p50_ms']:.1f} | {nv['p99_ms']:.1f} | - |")
    c = ratios["compare_concurrency"]
    lines += ["", "| figure | value | target |", "|---|---:|---|",
              f"| server / raw best at c={c} | {_fmt(ratios['server_over_raw_best'], '{:.3f}')} "
              f"| >= 0.95: {ratios['targets']['server_over_raw_best >= 0.95']} |",
              f"| server / transformers peer at c={c} | "
              f"{_fmt(ratios.get('server_over_transformers_peer'), '{:.2f}')} | - |",
              f"| server / naive tuned at c={c} | "
              f"{_fmt(ratios['server_over_naive_tuned'], '{:.2f}')} | >= 1.3: "
              f"{ratios['targets']['server_over_naive_tuned >= 1.3']}; lower p50 and p99: "
              f"{ratios['targets']['p50 and p99 below naive tuned']} |",
              f"| server / naive default at c={c} | "
              f"{_fmt(ratios['server_over_naive_default'], '{:.2f}')} | - |",
              f"| server / naive expert (tuned + keep-activations glibc malloc settings) at c={c} | "
              f"{_fmt(ratios.get('server_over_naive_expert'), '{:.2f}')} | - |",
              f"| padding efficiency at c={c} | {_fmt(ratios['padding_efficiency'], '{:.3f}')} "
              f"| >= 0.9: {ratios['targets']['padding_efficiency >= 0.9']} |",
              f"| raw single forward (batch 1, faster arrangement, at the load's mean length) | "
              f"{_fmt(ratios['raw_single_forward_ms_at_load_length'])} ms | - |",
              f"| c=1 p50 overhead over raw single forward | "
              f"{_fmt(ratios['c1_overhead_p50_ms'], '{:+.1f}')} ms | <= 1 ms: "
              f"{ratios['targets']['c1 p50 <= raw single forward + 1 ms']} |",
              f"| c=1 p50 of latency minus the server's own forward (same requests) | "
              f"{_fmt(ratios.get('c1_outside_model_p50_ms'), '{:.2f}')} ms | - |",
              f"| server peak RSS after c={results['server']['peak_rss_after_concurrency']} | "
              f"{_fmt(_mb(ratios['peak_rss_bytes']), '{:.0f}')} MB | <= 1300 MB: "
              f"{ratios['targets']['peak RSS <= 1.3 GB']} |",
              f"| tokenizer encode, 1 thread / all threads | {_tokenizer_cell(results)} | - |"]
    return ("\n".join(lines) + "\n" + _comparison_sections(results)
            + int8.markdown(results["server"], results["int8"])
            + long_documents.markdown(results.get("long_documents")))


def _comparison_sections(results: dict) -> str:
    """The peer comparison, ghz against securebert-load and the runtime table."""
    config, raw = results["config"], results["raw"]
    parity = results["transformers_peer"]["parity"]
    batch_sizes = [int(b) for b in config["engine_batch_sizes"].split(",")]
    return "\n".join([
        "", "Weights: " + results["models"]["source"] + "; the transformers peer's Embed "
        f"answers differ from the server's by at most {parity['max_abs_diff']:.2e}; the "
        "Python runtimes' token mix matches the engine bench's: "
        f"{'yes' if raw.get('mix_matches_engine_bench') else 'NO'}.", "",
        "### The server against the transformers peer", "",
        compare_report.peer_markdown(results["peer_comparison"]),
        "### ghz and securebert-load, same server, same texts", "",
        compare_report.ghz_markdown(results["ghz"]),
        "### Runtimes on the same weights and texts (raw static batches, tokens/s)", "",
        compare_report.runtimes_markdown(results["runtimes"], batch_sizes,
                                         results["machine"]["cores"])])


def _mb(value) -> Optional[float]:
    return None if value is None else value / 1e6


def _tokenizer_cell(results: dict) -> str:
    tok = results["tokenizer"]
    if not tok.get("available"):
        return "n/a"
    runs = sorted(tok["encode"].values(), key=lambda r: r["threads"])
    return " / ".join(f"{r['mb_per_s']:.1f}" for r in (runs[0], runs[-1])) + " MB/s"


def soak_markdown(soak: dict) -> str:
    """One-paragraph summary of a soak run."""
    verdict = "met" if soak["rss_growth"] <= TARGET_SOAK_GROWTH else "missed"
    return (f"soak: {soak['minutes']:g} min at c={soak['concurrency']}: RSS "
            f"{soak['baseline']['rss_bytes'] / 1e6:.0f} MB at {soak['baseline']['t_s']:.0f} s -> "
            f"{soak['samples'][-1]['rss_bytes'] / 1e6:.0f} MB, growth "
            f"{100 * soak['rss_growth']:+.2f} % (target <= 5 %: {verdict}); "
            f"from {soak['half']['t_s']:.0f} s: {100 * soak['second_half_growth']:+.2f} %; "
            f"peak {soak['peak_rss_bytes'] / 1e6:.0f} MB; "
            f"{soak['load']['tokens_per_s']:.1f} tokens/s, {soak['load']['errors']} errors\n")
