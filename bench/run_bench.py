#!/usr/bin/env python3
"""The benchmark harness of issue 6: where securebert-serve stands, in one run on one machine.

  1. raw model       securebert-engine-bench: tokens/s at the best static batch
                     and core arrangement, batch-1 single-forward latency;
  2. server          securebert-server under securebert-load, closed loop at
                     c = 1, 4, 16, 64, mixed 8-256-token texts: RPS, tokens/s,
                     p50/p99, padding efficiency (/metrics), peak RSS;
  3. naive peer      bench/naive_peer.py, default and tuned, under the same
                     load at c = 16;
  4. tokenizer       securebert_tokenizer_benchmark encode MB/s.

Prints progress lines on stderr, then a Markdown table with the ratios
against the targets; writes JSON (--out) and PNG plots beside it. Figures,
never assertions: the exit status is 0 whenever every step ran.

  scripts/bench.sh                       the full run on the base model (~8 min)
  scripts/bench.sh --quick               tiny model, seconds per step (CI)
  scripts/bench.sh --soak 10             RSS growth over 10 minutes at c=16
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import plots, report, steps  # noqa: E402  pylint: disable=wrong-import-position
from harness.config import REPO_ROOT, BenchConfig, Context  # noqa: E402  pylint: disable=wrong-import-position

# Every section a complete results file has (the quick ctest checks them).
SECTIONS = ("config", "machine", "raw", "server", "naive", "tokenizer", "ratios")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny model, seconds per step")
    parser.add_argument("--soak", type=float, metavar="MINUTES",
                        help="only the soak: RSS growth under c=16 for MINUTES")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build")
    parser.add_argument("--model-dir", type=Path,
                        help="model to load (default: the preset's; base is exported if missing)")
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


def ensure_model(ctx: Context, preset: str) -> None:
    """Exports the base random-weight model when it is missing (the tiny one is the tests')."""
    if (ctx.model_dir / "manifest.json").exists():
        return
    if preset != "base":
        raise SystemExit(f"model {ctx.model_dir} missing (run the export_tiny_model ctest)")
    ctx.progress(f"exporting the base random-weight model to {ctx.model_dir}", "[model]")
    subprocess.run([ctx.python, str(REPO_ROOT / "tools" / "export_model.py"), "--random-init",
                    "base", "--seed", "0", "--out", str(ctx.model_dir)], check=True)


def run_all(ctx: Context) -> dict:
    """Items 1-4 in order, then the ratios."""
    config = ctx.config
    manifest = json.loads((ctx.model_dir / "manifest.json").read_text())
    results = {"config": {"mode": config.mode, "concurrencies": config.concurrencies,
                          "duration_s": config.duration_s,
                          "naive_concurrency": config.naive_concurrency,
                          "model_dir": str(ctx.model_dir), "server_args": ctx.server_args},
               "model_id": manifest["model_id"], "machine": machine()}
    results["raw"] = steps.raw_model(ctx)
    results["server"] = steps.server_sweep(ctx)
    results["naive"] = [steps.naive_peer(ctx, mode) for mode in config.naive_modes]
    results["tokenizer"] = steps.tokenizer(ctx)
    results["machine"]["load_average_end"] = list(os.getloadavg())
    results["ratios"] = report.compute_ratios(results)
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
    build_dir = args.build_dir.resolve()
    model_dir = (args.model_dir or steps.model_dir_for(config.model, build_dir)).resolve()
    with tempfile.TemporaryDirectory(prefix="securebert-bench-") as work:
        ctx = Context(config=config, build_dir=build_dir, model_dir=model_dir,
                      work_dir=Path(work), server_args=args.server_arg)
        ensure_model(ctx, config.model)
        try:
            if args.soak:
                soak = steps.soak(ctx, args.soak)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                soak_out = args.out.with_name(args.out.stem + "_soak.json")
                soak_out.write_text(json.dumps(soak, indent=2) + "\n")
                print(report.soak_markdown(soak), end="")
                return 0
            results = run_all(ctx)
        except (RuntimeError, TimeoutError) as error:
            logs = sorted(p.name for p in Path(work).iterdir())
            print(f"bench failed: {error}\n(logs in the run's work dir: {logs})", file=sys.stderr)
            return 1
    print(write_outputs(results, args.out), end="")
    ctx.progress(f"wrote {args.out} and its .md / .png files")
    return check(args.out) if args.check else 0


def check(out: Path) -> int:
    """1 unless out parses and holds every section with figures in it (no timing checks)."""
    written = json.loads(out.read_text())
    missing = [s for s in SECTIONS if not written.get(s)]
    levels = written.get("server", {}).get("levels", [])
    if any(level["ok"] < 1 for level in levels + written.get("naive", [])):
        missing.append("a load level with no OK answer")
    for name in ("_throughput.png", "_latency.png"):
        if not out.with_name(out.stem + name).exists():
            missing.append(out.stem + name)
    if missing:
        print(f"check failed: missing {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
