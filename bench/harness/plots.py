"""PNG plots of a run: throughput and latency against concurrency (matplotlib, Agg)."""

import itertools
from pathlib import Path
from typing import List

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position


def _naive_markers(ax, results: dict, key: str) -> None:
    # One marker per peer mode, however many modes ran (default, tuned, expert).
    for naive, marker in zip(results["naive"], itertools.cycle(("v", "^", "D", "P"))):
        ax.scatter([naive["concurrency"]], [naive[key]], marker=marker, s=60,
                   label=f"naive peer ({naive['mode']})")


def _peer_line(ax, results: dict, key: str, label_suffix: str = "") -> None:
    # The headline peer, at each level it ran (c=16 and 64); nothing before the step ran.
    levels = results.get("transformers_peer", {}).get("levels", [])
    if levels:
        ax.plot([lv["concurrency"] for lv in levels], [lv[key] for lv in levels], "x:",
                markersize=8, label="transformers peer" + label_suffix)


def throughput(results: dict, path: Path) -> None:
    """tokens/s of the server per concurrency, the raw best as a line, the peers as points."""
    levels = results["server"]["levels"]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot([lv["concurrency"] for lv in levels], [lv["tokens_per_s"] for lv in levels], "o-",
            label="securebert-server")
    ax.axhline(results["raw"]["best_tokens_per_s"], color="grey", linestyle="--",
               label="raw model, best static batch")
    _peer_line(ax, results, "tokens_per_s")
    _naive_markers(ax, results, "tokens_per_s")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("concurrency (closed loop)")
    ax.set_ylabel("tokens/s")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Throughput, {results['model_id']}, {results['machine']['cores']} cores")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency(results: dict, path: Path) -> None:
    """p50 and p99 of the server and the transformers peer per concurrency, naive peers' p50."""
    levels = results["server"]["levels"]
    xs: List[int] = [lv["concurrency"] for lv in levels]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(xs, [lv["p50_ms"] for lv in levels], "o-", label="securebert-server p50")
    ax.plot(xs, [lv["p99_ms"] for lv in levels], "s--", label="securebert-server p99")
    _peer_line(ax, results, "p50_ms", " p50")
    _peer_line(ax, results, "p99_ms", " p99")
    _naive_markers(ax, results, "p50_ms")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("concurrency (closed loop)")
    ax.set_ylabel("latency, ms")
    ax.set_title("Latency (naive peers: p50)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
