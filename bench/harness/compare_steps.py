"""The steps that compare securebert-server with other tools and runtimes.

  transformers_peer   the model card's code as a server (bench/transformers_peer.py) at the
                      peer concurrencies (c=16 and 64), after a check that it serves the
                      server's weights;
  ghz_vs_load         ghz and securebert-load side by side on one server (harness/ghz.py);
  debian_server       the debian-torch build's server at c=16, when built;
  runtimes            raw static-batch tokens/s of every runtime on the same weights and
                      texts (harness/runtimes.py assembles the table).

Each step takes the run's Context (and what earlier steps measured) and returns a
JSON-ready dict; a step whose tool is missing returns {"available": False, "reason"}.
Servers and peers are context managers: a failing step leaves no process behind.
"""

import json
from pathlib import Path
from typing import Dict, Optional

import text_mix
from harness import ghz as ghz_compare
from harness import peer_check, runtimes, steps
from harness.config import REPO_ROOT, Context
from harness.processes import SecureBertServer, TransformersPeer, run_bounded

# Texts of the peer check: the load's first generated texts (8-256 tokens).
PARITY_TEXTS = 4
# Bounds on ghz_vs_load's measured request count.
MIN_COMPARE_REQUESTS_PER_SLOT = 4
MAX_COMPARE_REQUESTS = 20000


def _levels_by_concurrency(server: dict) -> Dict[int, dict]:
    return {level["concurrency"]: level for level in server["levels"]}


def service_s(server: dict) -> float:
    c1 = _levels_by_concurrency(server).get(1)
    return c1["p50_ms"] / 1000.0 if c1 else 0.0


def transformers_peer(ctx: Context, server: dict) -> dict:
    """The transformers peer at each peer concurrency, as long as the server's level there."""
    script = REPO_ROOT / "bench" / "transformers_peer.py"
    ctx.progress("transformers peer: start, check its weights against the server's", "[peer]")
    with TransformersPeer(ctx.python, script, ctx.hf_dir,
                          ctx.work_dir / "transformers_peer.log") as peer:
        with SecureBertServer(ctx.binary("securebert-server"), ctx.model_dir,
                              ctx.work_dir / "parity_server.log", ctx.server_args) as reference:
            parity = peer_check.compare_embeddings(ctx.work_dir / "stubs", reference.target,
                                                   peer.target,
                                                   text_mix.generated_texts(PARITY_TEXTS))
        if not parity["ok"]:
            raise RuntimeError(f"the transformers peer and securebert-server disagree on the "
                               f"same texts: {parity}")
        levels = []
        server_levels = _levels_by_concurrency(server)
        for concurrency in ctx.config.peer_concurrencies:
            at = server_levels.get(concurrency)
            duration_s = (at["duration_s"] if at else
                          steps.level_duration_s(ctx, concurrency, service_s(server)))
            ctx.progress(f"transformers peer at c={concurrency} for {duration_s:.0f} s", "[peer]")
            level = steps.measure_level(ctx, peer.target, concurrency, duration_s,
                                        f"load_transformers_c{concurrency}.log")
            ctx.progress(f"  {level['tokens_per_s']:.1f} tokens/s, p50 {level['p50_ms']:.1f} ms, "
                         f"p99 {level['p99_ms']:.1f} ms", "[peer]")
            levels.append(level)
        peak_rss = peer.peak_rss_bytes()
    return {"peer": peer.info, "parity": parity, "levels": levels, "peak_rss_bytes": peak_rss}


def ghz_vs_load(ctx: Context, server: dict) -> dict:
    """ghz and securebert-load on one server, the same texts, at ctx.config.ghz_concurrency."""
    if ctx.ghz is None or not ctx.ghz.exists():
        return {"available": False, "reason": f"ghz not found at {ctx.ghz} "
                                              "(scripts/go-tools.sh installs it)"}
    concurrency = ctx.config.ghz_concurrency
    at = _levels_by_concurrency(server).get(concurrency)
    duration_s = (at["duration_s"] if at else
                  steps.level_duration_s(ctx, concurrency, service_s(server)))
    # As many requests as the server answered in a level of that length, so each tool runs
    # about as long as a level of the sweep.
    expected = round(at["rps"] * duration_s) if at else 0
    total = min(MAX_COMPARE_REQUESTS, max(MIN_COMPARE_REQUESTS_PER_SLOT * concurrency, expected))
    warmup = concurrency * ctx.config.warmup_per_slot
    texts = text_mix.generated_texts()  # what securebert-load sends by default
    paths = ghz_compare.write_data(texts, warmup, ctx.work_dir)
    ctx.progress(f"ghz and securebert-load at c={concurrency}, {total} requests a run, order "
                 f"{' '.join(ghz_compare.RUN_ORDER)}", "[ghz]")
    with SecureBertServer(ctx.binary("securebert-server"), ctx.model_dir,
                          ctx.work_dir / "ghz_server.log", ctx.server_args) as srv:
        counts = peer_check.token_counts(ctx.work_dir / "stubs", srv.target,
                                         ghz_compare.rotate(texts, warmup))
        result = ghz_compare.compare(srv, ctx.binary("securebert-load"), ctx.ghz, paths,
                                     counts, concurrency, total, warmup, timeout_s=60.0,
                                     work_dir=ctx.work_dir)
    for name in ("securebert_load", "ghz"):
        run = result[name]
        ctx.progress(f"  {name}: {run['tokens_per_s'] or 0:.1f} tokens/s, p50 "
                     f"{run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms", "[ghz]")
    result.update({"available": True, "ghz_version": ghz_compare.ghz_version(ctx.ghz),
                   "texts": len(texts)})
    return result


def debian_server(ctx: Context, server: dict, concurrency: int) -> dict:
    """The debian-torch build's server at `concurrency`, as long as the default one's level."""
    if ctx.debian_model_dir is None:
        return {"available": False, "reason": "no debian-torch build or export (see models)"}
    at = _levels_by_concurrency(server).get(concurrency)
    duration_s = (at["duration_s"] if at else
                  steps.level_duration_s(ctx, concurrency, service_s(server)))
    ctx.progress(f"debian-torch server at c={concurrency} for {duration_s:.0f} s", "[runtimes]")
    with SecureBertServer(ctx.debian_build_dir / "bin" / "securebert-server",
                          ctx.debian_model_dir, ctx.work_dir / "debian_server.log",
                          ctx.server_args) as srv:
        level = steps.measure_level(ctx, srv.target, concurrency, duration_s,
                                    f"load_debian_server_c{concurrency}.log", srv.metrics_port)
    level["available"] = True
    return level


def python_runtime(ctx: Context, runtime: str) -> dict:
    """bench/raw_runtimes.py for one runtime; its JSON, or n/a with the reason."""
    argv = [ctx.python, str(REPO_ROOT / "bench" / "raw_runtimes.py"), "--runtime", runtime,
            "--hf-dir", str(ctx.hf_dir), "--texts", str(ctx.config.engine_texts),
            "--batch-sizes", ctx.config.engine_batch_sizes,
            "--onnx-path", str(ctx.work_dir / "encoder.onnx")]
    ctx.progress(f"raw {runtime}: static batches, both core arrangements", "[runtimes]")
    try:
        out = run_bounded(argv, ctx.config.step_timeout_s, ctx.work_dir / f"raw_{runtime}.log")
    except (RuntimeError, TimeoutError) as error:
        return {"available": False, "reason": str(error)[-500:]}
    line = next((ln for ln in out.splitlines() if ln.startswith("JSON ")), None)
    if line is None:
        return {"available": False, "reason": "raw_runtimes.py printed no JSON line"}
    return {"available": True, **json.loads(line[len("JSON "):])}


def _debian_engine(ctx: Context) -> dict:
    binary = (ctx.debian_build_dir / "bin" / "securebert-engine-bench"
              if ctx.debian_build_dir else None)
    if binary is None or not binary.exists() or ctx.debian_model_dir is None:
        return {"available": False, "reason": f"{binary} or its Debian-torch export missing"}
    try:
        raw = steps.raw_model(ctx, binary, ctx.debian_model_dir, "engine_bench_debian.log")
    except (RuntimeError, TimeoutError) as error:
        return {"available": False, "reason": str(error)[-500:]}
    return {"available": True, **raw["engine_bench"]}


def runtime_table(ctx: Context, raw: dict, server: dict, peer: dict,
                  concurrency: int) -> dict:
    """Item D: every runtime's static batches, the servers and the peer at `concurrency`."""
    # The default build is the PyPI row unless it links Debian's LibTorch itself.
    own, other = (("pypi_libtorch", "debian_libtorch") if ctx.build_torch == "wheel"
                  else ("debian_libtorch", "pypi_libtorch"))
    not_there = {"available": False, "reason": "--build-dir links Debian's LibTorch; pass a "
                                               "wheel build for this row"}
    measured = {own: {"available": True, **raw["engine_bench"]},
                other: _debian_engine(ctx) if own == "pypi_libtorch" else not_there,
                "onnxruntime": python_runtime(ctx, "onnxruntime"),
                "transformers": python_runtime(ctx, "transformers")}
    servers = {own: _levels_by_concurrency(server).get(concurrency),
               other: (debian_server(ctx, server, concurrency) if own == "pypi_libtorch"
                       else not_there),
               "transformers_peer": next((lv for lv in peer["levels"]
                                          if lv["concurrency"] == concurrency), None)}
    return runtimes.assemble(measured, servers, concurrency)


def versions(python: str, log_path: Path) -> Dict[str, Optional[str]]:
    """Versions of the PyPI packages the figures depend on (the venv's metadata)."""
    script = ("import importlib.metadata as m, json\n"
              "names = ['torch', 'transformers', 'tokenizers', 'onnxruntime', 'onnx', 'grpcio']\n"
              "def v(n):\n"
              "    try: return m.version(n)\n"
              "    except m.PackageNotFoundError: return None\n"
              "print(json.dumps({n: v(n) for n in names}))\n")
    out = run_bounded([python, "-c", script], 60, log_path)
    return json.loads(out)
