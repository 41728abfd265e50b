#!/usr/bin/env python3
"""Interleaved A/B of securebert-server flag sets, beside the transformers peer, in one run.

Each round starts every arm in turn (a server with its flags, or the transformers peer),
measures one closed-loop securebert-load level on the benchmark's text mix, and stops it;
rounds interleave the arms so that a host whose speed drifts during the run moves every
arm alike. Prints each measurement, then per arm the median over rounds, and each arm's
tokens/s and p99 as ratios to the peer's and to the first arm's. This is how a batching
default is chosen (docs/performance.md, "The CPU batch budget against the peer's p99").

  B=models/bench/base-seed0        # scripts/bench.sh builds it
  .venv/bin/python bench/server_ab.py --model-dir $B/model --hf-dir $B/hf \\
      --concurrency 16 --duration 40 --rounds 2 \\
      --arm default= --arm budget1024=--max_batch_tokens=1024 --arm peer=peer

An arm is NAME=FLAGS (FLAGS: server flags separated by spaces, may be empty) or
NAME=peer. --json writes every measurement.
"""

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import figures, steps  # noqa: E402  pylint: disable=wrong-import-position
from harness.config import REPO_ROOT, BenchConfig, Context  # noqa: E402
from harness.processes import SecureBertServer, TransformersPeer  # noqa: E402

PEER = "peer"


def parse_arm(text: str) -> tuple:
    """NAME=FLAGS -> (name, [flags]) or (name, None) for the peer."""
    name, sep, flags = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"an arm is NAME=FLAGS or NAME=peer, not {text!r}")
    return name, None if flags.strip() == PEER else shlex.split(flags)


def summarize(levels: Dict[str, List[dict]]) -> Dict[str, dict]:
    """Per arm: medians over rounds of tokens/s, p50 and p99, plus the rounds measured."""
    summary = {}
    for name, runs in levels.items():
        if not runs:
            continue
        summary[name] = {key: statistics.median(run[key] for run in runs)
                         for key in ("tokens_per_s", "p50_ms", "p99_ms")}
        summary[name]["rounds"] = len(runs)
        summary[name]["errors"] = sum(run["errors"] for run in runs)
    return summary


def ratios(summary: Dict[str, dict], first: str) -> Dict[str, dict]:
    """Each arm's tokens/s and p99 over the peer's (when there is a peer) and the first arm's."""
    out = {}
    peer = summary.get(PEER)
    for name, arm in summary.items():
        row = {"tokens_per_s_vs_first": figures.ratio(arm["tokens_per_s"], summary[first]["tokens_per_s"]),
               "p99_vs_first": figures.ratio(arm["p99_ms"], summary[first]["p99_ms"])}
        if peer is not None:
            row["tokens_per_s_vs_peer"] = figures.ratio(arm["tokens_per_s"], peer["tokens_per_s"])
            row["p99_vs_peer"] = figures.ratio(arm["p99_ms"], peer["p99_ms"])
        out[name] = row
    return out


def report(summary: Dict[str, dict], table: Dict[str, dict]) -> str:
    def fmt(value):
        return "n/a" if value is None else f"{value:.3f}"
    lines = ["| arm | tokens/s | p50 ms | p99 ms | tokens/s vs peer | p99 vs peer | "
             "tokens/s vs first | p99 vs first |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, arm in summary.items():
        row = table[name]
        lines.append(f"| {name} | {arm['tokens_per_s']:.1f} | {arm['p50_ms']:.0f} | "
                     f"{arm['p99_ms']:.0f} | {fmt(row.get('tokens_per_s_vs_peer'))} | "
                     f"{fmt(row.get('p99_vs_peer'))} | {fmt(row['tokens_per_s_vs_first'])} | "
                     f"{fmt(row['p99_vs_first'])} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="the server's model")
    parser.add_argument("--hf-dir", type=Path, help="the peer's checkpoint (for a peer arm)")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=40.0, help="measured s per level")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--arm", type=parse_arm, action="append", required=True)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/securebert-server-ab"))
    parser.add_argument("--json", type=Path, help="write every measurement here")
    args = parser.parse_args(argv)
    arms = dict(args.arm)
    if any(flags is None for flags in arms.values()) and args.hf_dir is None:
        parser.error("a peer arm needs --hf-dir")
    args.work_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(config=BenchConfig.full(), build_dir=args.build_dir, model_dir=args.model_dir,
                  work_dir=args.work_dir, hf_dir=args.hf_dir)
    levels: Dict[str, List[dict]] = {name: [] for name in arms}
    for r in range(args.rounds):
        for name, flags in arms.items():
            log = args.work_dir / f"{name}_r{r}.log"
            if flags is None:
                arm = TransformersPeer(ctx.python, REPO_ROOT / "bench" / "transformers_peer.py",
                                       args.hf_dir, log)
            else:
                arm = SecureBertServer(ctx.binary("securebert-server"), args.model_dir, log, flags)
            with arm:
                level = steps.measure_level(ctx, arm.target, args.concurrency, args.duration,
                                            f"load_{name}_r{r}.log")
            levels[name].append(level)
            print(f"[{time.strftime('%H:%M:%S')}] round {r} {name}: c={args.concurrency} "
                  f"{level['tokens_per_s']:.1f} tokens/s, p50 {level['p50_ms']:.0f} ms, "
                  f"p99 {level['p99_ms']:.0f} ms, {level['ok']} ok, {level['errors']} errors",
                  flush=True)
    summary = summarize(levels)
    table = ratios(summary, next(iter(arms)))
    print(f"\nc={args.concurrency}, {args.rounds} rounds of {args.duration:.0f} s, medians:")
    print(report(summary, table))
    if args.json:
        args.json.write_text(json.dumps({"arms": arms,
                                         "levels": levels, "summary": summary,
                                         "ratios": table}, indent=1) + "\n")
    return 0 if all(arm["errors"] == 0 for arm in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
