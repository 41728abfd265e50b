"""Thin wrappers over the measuring tools the harness drives.

securebert-load (one closed-loop run, JSON summary), securebert-engine-bench
(the raw model's static batches), securebert_tokenizer_benchmark (Google
Benchmark JSON) and the server's Prometheus /metrics. Each call is bounded
in time and returns plain dicts; none of them starts a server.
"""

import json
import re
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

from harness.processes import run_bounded

# Prometheus counters for the padding efficiency (real / padded tokens).
PADDING_COUNTERS = ("securebert_batch_real_tokens_total", "securebert_batch_padded_tokens_total")


def run_load(binary: Path, target: str, concurrency: int, duration_s: float, warmup: int,
             log_path: Path, deadline_ms: int = 60000, extra: Optional[List[str]] = None) -> dict:
    """One closed-loop securebert-load run at `concurrency` for duration_s; its JSON summary.

    Texts are the load generator's own mixed 8-256-token cybersecurity texts.
    The run drains its in-flight calls after duration_s, each bounded by
    deadline_ms, so the wall time is at most duration_s + deadline + warm-up.
    """
    argv = [str(binary), "--target", target, "--call", "embed", "-c", str(concurrency),
            "-z", f"{duration_s}s", "--warmup", str(warmup), "--min_tokens", "8",
            "--max_tokens", "256", "--deadline_ms", str(deadline_ms), "-O", "json"]
    argv += extra or []
    bound_s = duration_s + 3 * deadline_ms / 1000.0 + 60
    return json.loads(run_bounded(argv, bound_s, log_path))


def scrape_counters(metrics_port: int, names=PADDING_COUNTERS) -> Dict[str, float]:
    """The named counters from http://127.0.0.1:PORT/metrics (summed over labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as reply:
        text = reply.read().decode("utf-8", errors="replace")
    values = {name: 0.0 for name in names}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)", line)
        if match and match.group(1) in values:
            values[match.group(1)] += float(match.group(2))
    return values


def padding_efficiency(before: Dict[str, float], after: Dict[str, float]) -> Optional[float]:
    """real / padded tokens batched between two scrapes; None when nothing ran."""
    real = after[PADDING_COUNTERS[0]] - before[PADDING_COUNTERS[0]]
    padded = after[PADDING_COUNTERS[1]] - before[PADDING_COUNTERS[1]]
    return real / padded if padded > 0 else None


def run_engine_bench(binary: Path, model_dir: Path, texts: int, batch_sizes: str,
                     timeout_s: float, log_path: Path) -> dict:
    """securebert-engine-bench's JSON line (raw static batches, both core arrangements)."""
    out = run_bounded([str(binary), "--model_dir", str(model_dir), "--texts", str(texts),
                       "--batch_sizes", batch_sizes], timeout_s, log_path)
    for line in out.splitlines():
        if line.startswith("JSON "):
            return json.loads(line[len("JSON "):])
    raise RuntimeError(f"{binary.name} printed no JSON line")


def raw_single_forward_ms(engine: dict) -> Optional[float]:
    """Latency of one batch-1 forward over the mix, ms, in the faster core arrangement.

    At batch 1 each of W concurrent workers runs its texts one after another,
    so one forward takes W x (time per text of the aggregate rate); the lower
    of the two arrangements (one forward on all cores, or one per core on one
    thread) is the raw single forward the server's c=1 latency is held to.
    """
    texts, tokens = engine.get("texts"), engine.get("tokens")
    if not texts or not tokens:
        return None
    latencies = []
    for row in engine.get("raw", []):
        if row["batch"] == 1 and row["tokens_per_s"] > 0:
            workers = int(row["arrangement"].split(" ", 1)[0])
            latencies.append(1000.0 * workers * tokens / texts / row["tokens_per_s"])
    return min(latencies) if latencies else None


def run_tokenizer_bench(binary: Path, min_time_s: float, timeout_s: float,
                        log_path: Path) -> dict:
    """Single- and all-thread encode MB/s from securebert_tokenizer_benchmark, or n/a."""
    if not binary.exists():
        return {"available": False, "reason": f"{binary} not built"}
    try:
        out = run_bounded([str(binary), "--benchmark_format=json",
                           "--benchmark_filter=BM_Encode/",
                           f"--benchmark_min_time={min_time_s}"], timeout_s, log_path)
        runs = json.loads(out)["benchmarks"]
    except (RuntimeError, TimeoutError, ValueError, KeyError) as error:
        return {"available": False, "reason": str(error)[:500]}
    results = {}
    for run in runs:
        threads = run.get("threads", 1)
        results[str(threads)] = {"threads": threads,
                                 "mb_per_s": run.get("bytes_per_second", 0.0) / 1e6,
                                 "tokens_per_s": run.get("tokens/s")}
    return {"available": bool(results), "encode": results}
