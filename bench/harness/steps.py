"""The four measurements of a benchmark run, and the soak.

Each step takes the run's Context and returns a JSON-ready dict. Servers are
started and stopped inside the step (context managers), so a failing step
leaves no process behind.
"""

import threading
import time
from pathlib import Path
from typing import Optional

import token_mix
from harness import tools
from harness.config import Context, REPO_ROOT
from harness.processes import NaivePeer, SecureBertServer

# Rounds of c requests a load level lasts at least, and the cap on one level.
MIN_ROUNDS = 3
MAX_LEVEL_S = 180.0


def raw_model(ctx: Context, engine_bench: Optional[Path] = None,
              model_dir: Optional[Path] = None, log_name: str = "engine_bench.log") -> dict:
    """Item 1: the raw model's best static batch and its batch-1 single-forward latency.

    By default the default build's engine bench on the server's model; the runtime table
    runs it again for the debian-torch build (engine_bench, model_dir).
    """
    ctx.progress("raw model: static batches, both core arrangements", "[raw]")
    engine = tools.run_engine_bench(engine_bench or ctx.binary("securebert-engine-bench"),
                                    model_dir or ctx.model_dir, ctx.config.engine_texts,
                                    ctx.config.engine_batch_sizes, ctx.config.step_timeout_s,
                                    ctx.work_dir / log_name)
    # The Python runtimes replay the engine bench's mix (token_mix.py): same count, or not.
    replayed = token_mix.count_tokens(token_mix.make_token_mix(ctx.config.engine_texts))
    return {"engine_bench": engine,
            "best_tokens_per_s": engine["raw_best"]["tokens_per_s"],
            "best_setting": engine["raw_best"]["setting"],
            "single_forward_mean_ms": tools.raw_single_forward_ms(engine),
            "mean_tokens_per_text": engine["tokens"] / max(1, engine["texts"]),
            "mix_matches_engine_bench": replayed == engine["tokens"]}


def level_duration_s(ctx: Context, concurrency: int, service_s: float) -> float:
    """How long a closed-loop level lasts: at least MIN_ROUNDS x c x the lone service time."""
    return min(MAX_LEVEL_S, max(ctx.config.duration_s, MIN_ROUNDS * concurrency * service_s))


def measure_level(ctx: Context, target: str, concurrency: int, duration_s: float,
                  log_name: str, metrics_port: Optional[int] = None,
                  deadline_ms: int = 60000) -> dict:
    """One securebert-load level against target: its summary (padding from /metrics if given)."""
    before = tools.scrape_counters(metrics_port) if metrics_port else None
    load = tools.run_load(ctx.binary("securebert-load"), target, concurrency, duration_s,
                          concurrency * ctx.config.warmup_per_slot, ctx.work_dir / log_name,
                          deadline_ms=deadline_ms)
    efficiency = None
    if metrics_port:
        efficiency = tools.padding_efficiency(before, tools.scrape_counters(metrics_port))
    level = _level_summary(load, efficiency)
    level["duration_s"] = duration_s
    return level


def _level_summary(load: dict, efficiency) -> dict:
    """The figures of one load level that the report uses, plus the raw summary."""
    return {"concurrency": load["concurrency"], "count": load["count"], "ok": load["ok"],
            "errors": load["errors"], "rps": load["rps"], "tokens_per_s": load["tokens_per_s"],
            "mean_tokens_per_request": load["tokens"] / max(1, load["ok"]),
            "p50_ms": load["latency_ms"]["p50"], "p99_ms": load["latency_ms"]["p99"],
            "mean_ms": load["latency_ms"]["mean"], "padding_efficiency": efficiency,
            "status_codes": load["status_codes"],
            # Latency minus the server's own forward for the same requests
            # (None where the answers do not carry Timing, as the naive peer's).
            "outside_model_p50_ms": (load.get("outside_model_ms") or {}).get("p50")}


def server_sweep(ctx: Context) -> dict:
    """Item 2: securebert-server under securebert-load at each concurrency."""
    levels = []
    with SecureBertServer(ctx.binary("securebert-server"), ctx.model_dir,
                          ctx.work_dir / "server.log", ctx.server_args) as server:
        service_s = 0.0  # one request's latency alone (c=1 p50), once measured
        for concurrency in ctx.config.concurrencies:
            duration_s = level_duration_s(ctx, concurrency, service_s)
            ctx.progress(f"server at c={concurrency} for {duration_s:.0f} s", "[server]")
            level = measure_level(ctx, server.target, concurrency, duration_s,
                                  f"load_server_c{concurrency}.log", server.metrics_port)
            ctx.progress(f"  {level['tokens_per_s']:.1f} tokens/s, p50 {level['p50_ms']:.1f} ms, "
                         f"p99 {level['p99_ms']:.1f} ms", "[server]")
            levels.append(level)
            if concurrency == 1:
                service_s = level["p50_ms"] / 1000.0
        peak_rss = server.peak_rss_bytes()  # after the highest level (c=64 in a full run)
        exit_status = server.stop()
    return {"args": ctx.server_args, "levels": levels, "peak_rss_bytes": peak_rss,
            "peak_rss_after_concurrency": ctx.config.concurrencies[-1],
            "exit_status": exit_status}


def naive_peer(ctx: Context, mode: str) -> dict:
    """Item 3: the naive Python peer in one mode at the comparison concurrency."""
    concurrency = ctx.config.naive_concurrency
    slow = mode == "default"
    deadline_ms = ctx.config.naive_default_deadline_ms if slow else 60000
    ctx.progress(f"naive peer ({mode}) at c={concurrency} for {ctx.config.duration_s:g} s"
                 + (f" (calls bounded at {deadline_ms / 1000:g} s)" if slow else ""), "[naive]")
    with NaivePeer(ctx.python, REPO_ROOT / "bench" / "naive_peer.py", ctx.model_dir, mode,
                   ctx.stubs, ctx.work_dir / f"naive_{mode}.log") as peer:
        # The default peer is so slow that a full warm-up round would take minutes.
        warmup = 2 if slow else concurrency * ctx.config.warmup_per_slot
        load = tools.run_load(ctx.binary("securebert-load"), peer.target, concurrency,
                              ctx.config.duration_s, warmup,
                              ctx.work_dir / f"load_naive_{mode}.log", deadline_ms=deadline_ms)
        level = _level_summary(load, None)
        level.update({"mode": mode, "peer": peer.info, "peak_rss_bytes": peer.peak_rss_bytes()})
    ctx.progress(f"  {level['tokens_per_s']:.1f} tokens/s, p50 {level['p50_ms']:.1f} ms, "
                 f"{level['errors']} errors", "[naive]")
    return level


def tokenizer(ctx: Context) -> dict:
    """Item 4: the C++ tokenizer's encode MB/s (n/a when its benchmark is not built)."""
    ctx.progress("tokenizer benchmark", "[tokenizer]")
    return tools.run_tokenizer_bench(ctx.binary("securebert_tokenizer_benchmark"),
                                     ctx.config.tokenizer_min_time_s, ctx.config.step_timeout_s,
                                     ctx.work_dir / "tokenizer_bench.log")


def soak(ctx: Context, minutes: float, concurrency: int = 16, sample_every_s: float = 10.0) -> dict:
    """RSS of the server over `minutes` of closed-loop load at `concurrency`.

    Growth is measured from the first sample after one tenth of the soak (the
    allocator's working set settles during warm-up) to the last sample.
    """
    duration_s = minutes * 60.0
    samples = []
    result: dict = {}
    with SecureBertServer(ctx.binary("securebert-server"), ctx.model_dir,
                          ctx.work_dir / "soak_server.log", ctx.server_args) as server:
        def load():
            result["load"] = tools.run_load(ctx.binary("securebert-load"), server.target,
                                            concurrency, duration_s, concurrency,
                                            ctx.work_dir / "soak_load.log")
        worker = threading.Thread(target=load, daemon=True)
        start = time.monotonic()
        worker.start()
        while worker.is_alive():
            elapsed = time.monotonic() - start
            samples.append({"t_s": round(elapsed, 1), "rss_bytes": server.rss_bytes()})
            ctx.progress(f"soak {elapsed / 60:.1f}/{minutes:g} min, "
                         f"RSS {samples[-1]['rss_bytes'] / 2**20:.0f} MiB", "[soak]")
            worker.join(timeout=sample_every_s)
        peak = server.peak_rss_bytes()
    if "load" not in result:
        raise RuntimeError(f"soak load failed; see {ctx.work_dir / 'soak_load.log'}")
    return {"minutes": minutes, "concurrency": concurrency, "samples": samples,
            **soak_growth(samples, duration_s), "peak_rss_bytes": peak,
            "load": _level_summary(result["load"], None)}


def soak_growth(samples: list, duration_s: float) -> dict:
    """RSS growth of a soak's samples ({"t_s", "rss_bytes"}, in time order).

    rss_growth (the target's figure): from the first sample at or after one
    tenth of the soak to the last. second_half_growth: from the first sample
    at or after half the soak to the last, which tells a working set still
    settling (growth early, none late) from a leak (growth throughout).
    """
    def growth_from(fraction: float):
        base = next((s for s in samples if s["t_s"] >= duration_s * fraction), samples[0])
        return base, (samples[-1]["rss_bytes"] - base["rss_bytes"]) / base["rss_bytes"]

    settled, growth = growth_from(0.1)
    half, half_growth = growth_from(0.5)
    return {"baseline": settled, "rss_growth": growth,
            "half": half, "second_half_growth": half_growth}
