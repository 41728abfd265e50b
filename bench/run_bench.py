#!/usr/bin/env python3
"""The benchmark harness: where securebert-serve stands, in one run on one machine.

  0. weights         a seeded random-init transformers checkpoint of SecureBERT's shape
                     (harness/models.py), exported for the server by tools/export_model.py;
                     every runtime below loads these weights;
  1. raw model       securebert-engine-bench: tokens/s at the best static batch
                     and core arrangement, batch-1 single-forward latency;
  2. server          securebert-server under securebert-load, closed loop at
                     c = 1, 4, 16, 64, mixed 8-256-token texts: RPS, tokens/s,
                     p50/p99, padding efficiency (/metrics), peak RSS;
  3. transformers    bench/transformers_peer.py (the model card's code as a gRPC server,
                     tuned) at c = 16 and 64: p50/p99 and tokens/s against the server's;
  4. ghz             ghz and securebert-load side by side on one server, same texts;
  5. naive peers     bench/naive_peer.py, default, tuned and expert, at c = 16;
  6. runtimes        raw static batches of Debian LibTorch, PyPI LibTorch, ONNX Runtime
                     and transformers eager, the servers and the peer at c = 16;
  7. int8            the same weights exported with --quantize int8, served at c = 16 and
                     64 (and by the Debian-LibTorch build at 16) against float32: tokens/s,
                     p50/p99, peak RSS, the exporter's accuracy report, and ONNX Runtime's
                     own dynamic int8 raw (harness/int8.py);
  8. long documents  a token-classification checkpoint of the same shape, 1,000-8,000-token
                     documents, ExtractEntities and Embed with TRUNCATION_WINDOW at c = 1
                     and 8 against HF's token-classification pipeline with stride and a
                     windowed mean-pooling peer: documents/s, tokens/s, padding of the
                     windowed batches (harness/long_documents.py);
  9. tokenizer       securebert_tokenizer_benchmark encode MB/s.

Prints progress lines on stderr, then a Markdown report with the ratios
against the targets; writes JSON (--out) and PNG plots beside it. Figures,
never assertions: the exit status is 0 whenever every step ran.

  scripts/bench.sh                       the full run on the base model
  scripts/bench.sh --quick               tiny model, seconds per step (CI)
  scripts/bench.sh --soak 10             RSS growth over 10 minutes at c=16
"""

import argparse
import importlib.metadata
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import compare_report, compare_steps, int8, long_documents, models, plots, report, steps  # noqa: E402  pylint: disable=wrong-import-position
from harness.config import REPO_ROOT, BenchConfig, Context  # noqa: E402  pylint: disable=wrong-import-position

# Every section a complete results file has (the quick ctest checks them).
SECTIONS = ("config", "machine", "versions", "models", "raw", "server", "transformers_peer",
            "peer_comparison", "ghz", "naive", "runtimes", "int8", "long_documents", "tokenizer",
            "ratios")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny model, seconds per step")
    parser.add_argument("--soak", type=float, metavar="MINUTES",
                        help="only the soak: RSS growth under c=16 for MINUTES")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build")
    parser.add_argument("--debian-build-dir", type=Path,
                        default=REPO_ROOT / "build-debian-torch",
                        help="the debian-torch preset's build (its columns are n/a without it)")
    parser.add_argument("--ghz", type=Path, default=REPO_ROOT / ".tools" / "bin" / "ghz",
                        help="the ghz binary (scripts/go-tools.sh; its section is n/a without it)")
    parser.add_argument("--hf-dir", type=Path,
                        help="a Hugging Face RoBERTa directory to benchmark instead of the "
                             "seeded random one (e.g. a download of ehsanaghaei/SecureBERT)")
    parser.add_argument("--baseline", type=Path,
                        help="an earlier results JSON: the server's tokens/s is compared with it")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "latest.json",
                        help="results JSON; plots and the table are written beside it")
    parser.add_argument("--duration", type=float, help="measured seconds per load level")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra securebert-server flag, e.g. --server-arg=--instances=1")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless the written JSON parses with every section (CI)")
    return parser.parse_args(argv)


def machine() -> dict:
    """Where the figures come from: cores, CPU model, load average at the start."""
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                      if ln.startswith("Model name")), model)
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "load_average_start": list(os.getloadavg())}


class StepTimer:
    """Wall seconds of each step of a run, by name, for the results' `timings_s`."""

    def __init__(self):
        self.seconds = {}

    def __call__(self, name: str, step, *args):
        started = time.monotonic()
        try:
            return step(*args)
        finally:
            self.seconds[name] = round(time.monotonic() - started, 1)


def run_all(ctx: Context, prepared: dict, timer: StepTimer, baseline=None) -> dict:
    """The steps in order, then the ratios and the comparisons."""
    config = ctx.config
    manifest = json.loads((ctx.model_dir / "manifest.json").read_text())
    results = {"config": {"mode": config.mode, "concurrencies": config.concurrencies,
                          "duration_s": config.duration_s,
                          "naive_concurrency": config.naive_concurrency,
                          "peer_concurrencies": config.peer_concurrencies,
                          "ghz_concurrency": config.ghz_concurrency,
                          "engine_batch_sizes": config.engine_batch_sizes,
                          "long_document_concurrencies": config.long_document_concurrencies,
                          "long_documents": config.long_documents,
                          "model_dir": str(ctx.model_dir), "server_args": ctx.server_args},
               "model_id": manifest["model_id"], "machine": machine(), "models": prepared,
               "versions": compare_steps.versions(ctx.python, ctx.work_dir / "versions.log")}
    results["raw"] = timer("raw", steps.raw_model, ctx)
    results["server"] = timer("server", steps.server_sweep, ctx)
    results["transformers_peer"] = timer("transformers_peer", compare_steps.transformers_peer,
                                         ctx, results["server"])
    results["ghz"] = timer("ghz", compare_steps.ghz_vs_load, ctx, results["server"])
    results["naive"] = timer("naive", lambda: [steps.naive_peer(ctx, mode)
                                               for mode in config.naive_modes])
    results["runtimes"] = timer("runtimes", compare_steps.runtime_table, ctx, results["raw"],
                                results["server"], results["transformers_peer"],
                                config.naive_concurrency)
    results["int8"] = timer("int8", int8.comparison, ctx, results["server"])
    results["long_documents"] = timer("long_documents", long_documents.step, ctx)
    results["tokenizer"] = timer("tokenizer", steps.tokenizer, ctx)
    results["machine"]["load_average_end"] = list(os.getloadavg())
    results["ratios"] = report.compute_ratios(results)
    results["peer_comparison"] = compare_report.peer_comparison(results, baseline)
    results["timings_s"] = timer.seconds
    return results


def write_outputs(results: dict, out: Path) -> str:
    """JSON, Markdown and the two PNGs beside out; returns the Markdown."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    out.with_suffix(".md").write_text(table)
    plots.throughput(results, out.with_name(out.stem + "_throughput.png"))
    plots.latency(results, out.with_name(out.stem + "_latency.png"))
    return table


def _exit_on_sigterm(signum, _frame):
    """SIGTERM unwinds like Ctrl-C, so every context manager stops its child process."""
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    config = BenchConfig.quick() if args.quick else BenchConfig.full()
    if args.duration:
        config = BenchConfig(**{**config.__dict__, "duration_s": args.duration})
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    with tempfile.TemporaryDirectory(prefix="securebert-bench-") as work:
        build_dir = args.build_dir.resolve()
        ctx = Context(config=config, build_dir=build_dir, model_dir=Path(),
                      work_dir=Path(work), server_args=args.server_arg,
                      debian_build_dir=args.debian_build_dir.resolve(), ghz=args.ghz,
                      export_python=models.cmake_cache(build_dir, "SECUREBERT_PYTHON"),
                      build_torch=models.cmake_cache(build_dir, "SECUREBERT_TORCH") or "wheel")
        timer = StepTimer()
        try:
            prepared = timer("models", models.prepare, ctx,
                             importlib.metadata.version("transformers"),
                             args.hf_dir.resolve() if args.hf_dir else None)
            if args.soak:
                soak = steps.soak(ctx, args.soak)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                soak_out = args.out.with_name(args.out.stem + "_soak.json")
                soak_out.write_text(json.dumps(soak, indent=2) + "\n")
                print(report.soak_markdown(soak), end="")
                return 0
            results = run_all(ctx, prepared, timer, baseline)
        except (RuntimeError, TimeoutError) as error:
            logs = sorted(p.name for p in Path(work).iterdir())
            print(f"bench failed: {error}\n(logs in the run's work dir: {logs})", file=sys.stderr)
            return 1
    print(write_outputs(results, args.out), end="")
    ctx.progress(f"wrote {args.out} and its .md / .png files")
    return check(args.out) if args.check else 0


# Runtime rows that need only the venv and the default build: n/a there is a failure.
REQUIRED_RUNTIMES = ("pypi_libtorch", "onnxruntime", "transformers")


def missing_parts(written: dict) -> list:
    """What a results dict lacks: empty sections, load levels without an OK answer, runtime
    rows that must be there. ghz and the debian-torch columns may be n/a (tools not built)."""
    missing = [s for s in SECTIONS if not written.get(s)]
    levels = (written.get("server", {}).get("levels", []) + written.get("naive", [])
              + written.get("transformers_peer", {}).get("levels", []))
    if any(level["ok"] < 1 for level in levels):
        missing.append("a load level with no OK answer")
    ghz = written.get("ghz") or {}
    if ghz.get("available") and min(ghz["securebert_load"]["ok"], ghz["ghz"]["ok"]) < 1:
        missing.append("a ghz / securebert-load run with no OK answer")
    int8_result = written.get("int8") or {}
    if any(level["ok"] < 1 for level in int8_result.get("server", {}).get("levels", [])):
        missing.append("an int8 load level with no OK answer")
    if not (int8_result.get("onnxruntime_int8") or {}).get("available"):
        missing.append("ONNX Runtime int8")
    if any(level["documents"] < 1 or level["errors"]
           for level in long_documents.all_levels(written.get("long_documents"))):
        missing.append("a long-document level with an error or no document done")
    rows = {row["key"]: row for row in (written.get("runtimes") or {}).get("rows", [])}
    missing += [f"runtime {key}" for key in REQUIRED_RUNTIMES
                if not rows.get(key, {}).get("available")]
    return missing


def check(out: Path) -> int:
    """1 unless out parses and holds every section with figures in it (no timing checks)."""
    missing = missing_parts(json.loads(out.read_text()))
    for name in ("_throughput.png", "_latency.png"):
        if not out.with_name(out.stem + name).exists():
            missing.append(out.stem + name)
    if missing:
        print(f"check failed: missing {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
