"""The long-document step (issue 18): threat-report-length documents through TRUNCATION_WINDOW,
against Hugging Face's token-classification pipeline with stride, on the same weights.

  weights    bench/long_documents_peer.py checkpoint: a seeded random-init transformers
             RobertaForTokenClassification of the run's shape (tiny in quick mode, base =
             SecureBERT's in the full run) with LABELS labels, exported by
             `export_model.py --hf-dir` (the full run caches both in
             models/bench/<shape>-seed<N>/token40/, as models.py caches the MLM);
  documents  long_documents_peer.py documents: config.long_documents of them, MIN_TOKENS to
             MAX_TOKENS tokens, counted again by the server's Tokenize (TRUNCATION_WINDOW);
  server     securebert-server on that model (the run's --server-arg flags), one document per
             request, closed loops at each config.long_document_concurrencies (1 and 8):
             ExtractEntities (AGGREGATION_SIMPLE) and Embed (POOLING_MEAN), both
             TRUNCATION_WINDOW: documents/s and tokens/s (the documents' own tokens, <s> and
             </s> included, whatever the windows), and the batch counters of /metrics;
  peers      long_documents_peer.py peers, after the server has stopped: the pipeline
             (stride = the server's overlap, aggregation simple) and a mean-pooling
             RobertaModel on the server's windows, same documents, same order, same
             concurrencies;
  check      the first document's answers: the mean-pooled vectors of both sides must agree
             within peer_check.PARITY_TOLERANCE, else the step raises (the ratios would
             compare different models); of the entities, how many agree exactly (the
             pipeline aggregates each window alone, so some near cuts legitimately differ).

Verdicts: ExtractEntities' tokens/s >= TARGET_SPEEDUP x the pipeline's at c=8; padded batch
tokens / the documents' own tokens within TARGET_PADDING x of W / (W - O), the cost of the
overlaps alone (W = max_input_tokens - 2 content tokens per window, O the overlap).

A level lasts at least duration_s, and until every document and steps.MIN_ROUNDS x c documents
in all have been sent; no document starts after steps.MAX_LEVEL_S; the ones in flight finish
and count. One warm-up round of the shortest document precedes each level.

Alone, from bench/:  ../.venv/bin/python -m harness.long_documents --quick
"""

import argparse
import importlib.metadata
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, List, Optional

from harness import figures, models, peer_check, steps, tools
from harness.config import REPO_ROOT, BenchConfig, Context
from harness.processes import SecureBertServer, run_bounded

HELPER = REPO_ROOT / "bench" / "long_documents_peer.py"
LABELS = 40
MIN_TOKENS, MAX_TOKENS = 1000, 8000
RPC_TIMEOUT_S = 600.0
# Issue 18's targets.
TARGET_SPEEDUP = 2.0
TARGET_PADDING = 1.05
TARGET_SPEEDUP_NAME = f">= {TARGET_SPEEDUP:g}x the pipeline's throughput at c=8"
TARGET_PADDING_NAME = f"padded / documents' tokens within {TARGET_PADDING}x of W/(W-O)"


def window_spans(n: int, width: int, overlap: int) -> List[tuple]:
    """WINDOWS.md: [start, end) content tokens of each window of an n-token document."""
    overlap = min(overlap, width // 2)
    step = width - overlap
    count = 1 if n <= width else 1 + -(-(n - width) // step)
    return [(k * step, min(k * step + width, n)) for k in range(count)]


def window_cuts(spans: List[tuple], n: int) -> List[int]:
    """Window k answers content tokens [cuts[k], cuts[k + 1]): WINDOWS.md's merge rule.

    A token shared by windows k and k + 1 (never by three: O <= W / 2) goes to the one where
    it stands further from a cut, window k on a tie.
    """
    return ([0] + [(spans[k][1] - 1 + spans[k + 1][0]) // 2 + 1 for k in range(len(spans) - 1)]
            + [n])


def closed_loop(call: Callable[[dict], object], documents: List[dict], concurrency: int,
                min_s: float, min_documents: int, max_s: float,
                thread_init: Optional[Callable[[], None]] = None) -> dict:
    """call(document) on `concurrency` threads, each taking the next document of the cycle.

    No document starts once min_s has passed with min_documents sent, or after max_s; the
    ones in flight finish and count. A call that raises is an error of the level (counted,
    the first message kept), and its slot goes on.
    """
    lock = threading.Lock()
    sent, completed, latencies, errors = [0], [], [], []
    start = time.monotonic()

    def take() -> Optional[int]:
        with lock:
            elapsed = time.monotonic() - start
            if elapsed >= max_s or (sent[0] >= min_documents and elapsed >= min_s):
                return None
            sent[0] += 1
            return (sent[0] - 1) % len(documents)

    def slot():
        if thread_init:
            thread_init()
        while (index := take()) is not None:
            began = time.monotonic()
            try:
                call(documents[index])
            except Exception as error:  # pylint: disable=broad-except  # reported below
                with lock:
                    errors.append(f"{type(error).__name__}: {error}"[:300])
                continue
            with lock:
                completed.append(index)
                latencies.append(time.monotonic() - began)

    threads = [threading.Thread(target=slot, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - start
    tokens = sum(documents[i]["tokens"] for i in completed)
    return {"concurrency": concurrency, "documents": len(completed), "tokens": tokens,
            "seconds": seconds, "documents_per_s": len(completed) / seconds,
            "tokens_per_s": tokens / seconds, "errors": len(errors),
            "first_error": errors[0] if errors else None,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
            "completed": completed}


def _bounds(ctx: Context, docs: List[dict]) -> List[dict]:
    """Each level's closed-loop bounds (the peers get them as JSON)."""
    return [{"concurrency": c, "min_s": ctx.config.duration_s,
             "min_documents": max(len(docs), steps.MIN_ROUNDS * c), "max_s": steps.MAX_LEVEL_S,
             "warmup_documents": c * ctx.config.warmup_per_slot}
            for c in ctx.config.long_document_concurrencies]


def warm_up(call: Callable[[dict], object], docs: List[dict], bound: dict,
            thread_init: Optional[Callable[[], None]] = None) -> None:
    """The level's warm-up: its slots on the shortest document, not measured."""
    shortest = [min(docs, key=lambda d: d["tokens"])]
    closed_loop(call, shortest, bound["concurrency"], 0.0, bound["warmup_documents"],
                bound["max_s"], thread_init)


def _helper(ctx: Context, timeout_s: float, log_name: str, *args) -> dict:
    out = run_bounded([ctx.python, str(HELPER), *map(str, args)], timeout_s,
                      ctx.work_dir / log_name)
    return json.loads(out.strip().splitlines()[-1])


def prepare(ctx: Context) -> dict:
    """The checkpoint and its export (cached in a full run), and the documents."""
    config = ctx.config
    full = config.mode == "full"
    root = ((models.cache_root(config.model, config.seed) if full else ctx.work_dir / "models")
            / f"token{LABELS}")
    hf_dir, model_dir = root / "hf", root / "model"
    summary = {"hf_dir": str(hf_dir), "model_dir": str(model_dir), "checkpoint_built": None}
    if not (full and (model_dir / "manifest.json").exists() and models._stamp_matches(  # pylint: disable=protected-access
            hf_dir, config.model, config.seed, importlib.metadata.version("transformers"))):
        ctx.progress(f"building and exporting the {config.model} token-classification "
                     f"checkpoint in {root}", "[long]")
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        built = _helper(ctx, config.step_timeout_s, "long_checkpoint.log", "checkpoint",
                        "--shape", config.model, "--seed", config.seed, "--labels", LABELS,
                        "--out", hf_dir)
        (hf_dir / models.STAMP).write_text(json.dumps(built) + "\n")
        run_bounded([ctx.export_python or ctx.python, str(models.EXPORTER), "--hf-dir",
                     str(hf_dir), "--out", str(model_dir), "--force", "--model-id",
                     f"bench/random-{config.model}-seed{config.seed}-token{LABELS}"],
                    config.step_timeout_s, ctx.work_dir / "long_export.log")
        summary["checkpoint_built"] = built
    summary["documents"] = _helper(
        ctx, config.step_timeout_s, "long_documents.log", "documents", "--hf-dir", hf_dir,
        "--count", config.long_documents, "--min-tokens", MIN_TOKENS, "--max-tokens",
        MAX_TOKENS, "--seed", config.seed, "--out", ctx.work_dir / "long_documents.json")
    return summary


def _server_counts(pb, stub, docs: List[dict], info) -> dict:
    """The server's Tokenize of each document; docs' tokens become its counts."""
    same_tokens = same_windows = True
    for doc in docs:
        result = stub.Tokenize(pb.TokenizeRequest(inputs=[doc["text"]],
                                                  truncation=pb.TRUNCATION_WINDOW),
                               timeout=RPC_TIMEOUT_S).results[0]
        same_tokens &= len(result.tokens) == doc["tokens"]
        doc["tokens"] = len(result.tokens)
        spans = window_spans(doc["tokens"] - 2, info.max_input_tokens - 2,
                             info.window_overlap_tokens)
        doc["window_tokens"] = sum(e - s + 2 for s, e in spans)  # what the model runs
        same_windows &= result.windows == len(spans)
    return {"same_token_counts": same_tokens, "same_window_counts": same_windows}


def _server_level(server, call, docs: List[dict], bound: dict) -> dict:
    """One closed loop after a warm-up, with the batch counters' deltas over it."""
    warm_up(call, docs, bound)
    before = tools.scrape_counters(server.metrics_port)
    level = closed_loop(call, docs, bound["concurrency"], bound["min_s"],
                        bound["min_documents"], bound["max_s"])
    after = tools.scrape_counters(server.metrics_port)
    real, padded = (after[n] - before[n] for n in tools.PADDING_COUNTERS)
    level.update(real_tokens=real, padded_tokens=padded,
                 window_tokens=sum(docs[i]["window_tokens"] for i in level.pop("completed")))
    level["padded_over_document_tokens"] = padded / level["tokens"] if level["tokens"] else None
    return level


def serve(ctx: Context, model_dir: Path, docs: List[dict]) -> dict:
    """The server's levels, its model info and the first document's answers."""
    import grpc  # pylint: disable=import-outside-toplevel
    import proto_stubs  # pylint: disable=import-outside-toplevel
    pb, pb_grpc = proto_stubs.generate(ctx.work_dir / "stubs")
    result = {"extract_entities": [], "embed": []}
    with SecureBertServer(ctx.binary("securebert-server"), model_dir,
                          ctx.work_dir / "long_server.log", ctx.server_args) as server:
        with grpc.insecure_channel(server.target) as channel:
            stub = pb_grpc.SecureBertStub(channel)
            info = stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=RPC_TIMEOUT_S)
            result["counts"] = _server_counts(pb, stub, docs, info)
            result["info"] = {"max_input_tokens": info.max_input_tokens, "model_id": info.model_id,
                              "window_overlap_tokens": info.window_overlap_tokens,
                              "max_windows_per_input": info.max_windows_per_input}
            calls = {
                "extract_entities": lambda d: stub.ExtractEntities(pb.ExtractEntitiesRequest(
                    inputs=[d["text"]], aggregation=pb.AGGREGATION_SIMPLE,
                    truncation=pb.TRUNCATION_WINDOW), timeout=RPC_TIMEOUT_S),
                "embed": lambda d: stub.Embed(pb.EmbedRequest(
                    inputs=[d["text"]], pooling=pb.POOLING_MEAN,
                    truncation=pb.TRUNCATION_WINDOW), timeout=RPC_TIMEOUT_S)}
            first = {name: call(docs[0]) for name, call in calls.items()}
            result["first"] = {
                "entities": [{"label": e.label, "score": e.score, "start": e.start,
                              "end": e.end} for e in first["extract_entities"].results[0].entities],
                "mean_embedding": list(first["embed"].embeddings[0].values),
                "windows": first["embed"].embeddings[0].windows}
            for name, call in calls.items():
                for bound in _bounds(ctx, docs):
                    level = _server_level(server, call, docs, bound)
                    ctx.progress(f"server {name} c={bound['concurrency']}: "
                                 f"{level['documents_per_s']:.2f} documents/s, "
                                 f"{level['tokens_per_s']:.0f} tokens/s", "[long]")
                    result[name].append(level)
        result["peak_rss_bytes"] = server.peak_rss_bytes()
    return result


def agreement(server_first: dict, peer_first: dict) -> dict:
    """The first document's answers on both sides: vector difference, entities in common."""
    ours = {(e["label"], e["start"], e["end"]) for e in server_first["entities"]}
    theirs = {(e["label"], e["start"], e["end"]) for e in peer_first["entities"]}
    diff = peer_check.max_difference([server_first["mean_embedding"]],
                                     [peer_first["mean_embedding"]])
    return {"mean_embedding_max_abs_diff": diff, "tolerance": peer_check.PARITY_TOLERANCE,
            "server_entities": len(ours), "pipeline_entities": len(theirs),
            "entities_agreeing": len(ours & theirs)}


def step(ctx: Context) -> dict:
    """The long-document step: prepare, serve, the peers, the check, the ratios."""
    prepared = prepare(ctx)
    docs = json.loads((ctx.work_dir / "long_documents.json").read_text(encoding="utf-8"))
    server = serve(ctx, Path(prepared["model_dir"]), docs)
    served_docs = ctx.work_dir / "long_documents_served.json"
    served_docs.write_text(json.dumps(docs) + "\n", encoding="utf-8")  # the server's counts
    bounds = _bounds(ctx, docs)
    (ctx.work_dir / "long_levels.json").write_text(json.dumps(bounds) + "\n")
    ctx.progress("peers: the pipeline (stride) and the windowed mean pooling", "[long]")
    timeout_s = 2 * len(bounds) * (steps.MAX_LEVEL_S + RPC_TIMEOUT_S) + ctx.config.step_timeout_s
    peers = _helper(ctx, timeout_s, "long_peers.log", "peers", "--hf-dir", prepared["hf_dir"],
                    "--documents", served_docs, "--levels", ctx.work_dir / "long_levels.json",
                    "--stride", server["info"]["window_overlap_tokens"],
                    "--answers", ctx.work_dir / "long_peer_answers.json")
    for level in (lv for levels in peers["levels"].values() for lv in levels):
        level.pop("completed")
    check = agreement(server.pop("first"), json.loads(
        (ctx.work_dir / "long_peer_answers.json").read_text()))
    if not check["mean_embedding_max_abs_diff"] <= check["tolerance"]:
        raise RuntimeError(f"long documents: the peer's windowed mean embedding and the "
                           f"server's disagree: {check}")
    lengths = [d["tokens"] for d in docs]
    result = {"prepared": prepared, "server": server, "peers": peers, "agreement": check,
              "documents": {"count": len(docs), "tokens": sum(lengths), "min": min(lengths),
                            "max": max(lengths)}}
    result["ratios"] = ratios(result)
    return result


def ratios(result: dict) -> dict:
    """Server / peer tokens/s per level, the padding factors and the verdicts."""
    server, peers, info = result["server"], result["peers"]["levels"], result["server"]["info"]
    per_level = {}
    for ours, theirs in (("extract_entities", "pipeline"), ("embed", "embed")):
        for lv, peer in zip(server[ours], peers[theirs]):
            per_level[f"{ours} c={lv['concurrency']}"] = figures.ratio(lv["tokens_per_s"],
                                                                peer["tokens_per_s"])
    levels = server["extract_entities"] + server["embed"]
    tokens = sum(lv["tokens"] for lv in levels)
    width = info["max_input_tokens"] - 2
    overlap = min(info["window_overlap_tokens"], width // 2)
    ideal = width / (width - overlap)
    padded = figures.ratio(sum(lv["padded_tokens"] for lv in levels), tokens)
    speedup = per_level.get("extract_entities c=8")

    def verdict(value, ok) -> str:
        return "n/a" if value is None else ("met" if ok(value) else "missed")
    return {"server_over_peer": per_level, "ideal_window_factor": ideal,
            "padded_over_document_tokens": padded,
            "real_over_document_tokens": figures.ratio(sum(lv["real_tokens"] for lv in levels), tokens),
            "window_arithmetic_matches": all(lv["real_tokens"] == lv["window_tokens"]
                                             for lv in levels),
            "padded_over_ideal": figures.ratio(padded, ideal),
            "targets": {TARGET_SPEEDUP_NAME: verdict(speedup, lambda v: v >= TARGET_SPEEDUP),
                        TARGET_PADDING_NAME: verdict(figures.ratio(padded, ideal),
                                                     lambda v: v <= TARGET_PADDING)}}


def all_levels(result: Optional[dict]) -> List[dict]:
    """Every closed loop of a step's result, server's and peers' ([] for none)."""
    result = result or {}
    server, peers = result.get("server") or {}, (result.get("peers") or {}).get("levels") or {}
    return ([lv for name in ("extract_entities", "embed") for lv in server.get(name, [])]
            + [lv for levels in peers.values() for lv in levels])


def _yes(value) -> str:
    return "yes" if value else "NO"


def _fmt(value, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)


def markdown(result: Optional[dict]) -> str:
    """The long-document section of the report."""
    if not result or "ratios" not in result:
        return ""
    r, docs, info = result["ratios"], result["documents"], result["server"]["info"]
    rows = [("securebert-server", "ExtractEntities simple", "extract_entities", "extract_entities"),
            (f"HF pipeline (stride {info['window_overlap_tokens']}, simple)",
             "token-classification", "pipeline", None),
            ("securebert-server", "Embed mean", "embed", "embed"),
            ("transformers, same windows", "mean pooling", "embed", None)]
    lines = ["", f"### Long documents (TRUNCATION_WINDOW, token head, {LABELS} labels)", "",
             f"{docs['count']} documents of {docs['min']}-{docs['max']} tokens "
             f"({docs['tokens']} in all), windows of {info['max_input_tokens']} tokens "
             f"overlapping by {info['window_overlap_tokens']}; one document per request.", "",
             "| side | call | c | documents/s | tokens/s | p50 ms | server / peer | "
             "padded / doc tokens |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for side, call, key, ours in rows:
        levels = result["server"][ours] if ours else result["peers"]["levels"][key]
        for lv in levels:
            ratio = r["server_over_peer"].get(f"{ours} c={lv['concurrency']}") if ours else None
            lines.append(f"| {side} | {call} | {lv['concurrency']} | "
                         f"{lv['documents_per_s']:.2f} | {lv['tokens_per_s']:.0f} | "
                         f"{_fmt(lv['p50_ms'], '{:.0f}')} | {_fmt(ratio, '{:.2f}')} | "
                         f"{_fmt(lv.get('padded_over_document_tokens'), '{:.3f}')} |")
    check, counts = result["agreement"], result["server"]["counts"]
    lines += ["", f"Padding over the server's levels: padded batch tokens / documents' tokens "
                  f"{_fmt(r['padded_over_document_tokens'], '{:.3f}')}, the windows' own "
                  f"tokens {_fmt(r['real_over_document_tokens'], '{:.3f}')} (as the window "
                  f"arithmetic says: {_yes(r['window_arithmetic_matches'])}), "
                  f"W/(W-O) {r['ideal_window_factor']:.3f}: "
                  f"{_fmt(r['padded_over_ideal'], '{:.3f}')}x of it.",
              f"First document, both sides: mean-pooled vectors differ by at most "
              f"{check['mean_embedding_max_abs_diff']:.1e}; entities: server "
              f"{check['server_entities']}, pipeline {check['pipeline_entities']}, "
              f"{check['entities_agreeing']} identical (label and span). Token and window "
              f"counts as the server's Tokenize says: {_yes(counts['same_token_counts'])}, "
              f"{_yes(counts['same_window_counts'])}.", "",
              "| target | verdict |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in r["targets"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """The step alone: its Markdown on stdout, its JSON to --out if given."""
    parser = argparse.ArgumentParser(description="the long-document step alone")
    parser.add_argument("--quick", action="store_true", help="tiny model, seconds per level")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build")
    parser.add_argument("--server-arg", action="append", default=[])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    config = BenchConfig.quick() if args.quick else BenchConfig.full()
    build_dir = args.build_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="securebert-long-") as work:
        ctx = Context(config=config, build_dir=build_dir, model_dir=Path(), work_dir=Path(work),
                      server_args=args.server_arg,
                      export_python=models.cmake_cache(build_dir, "SECUREBERT_PYTHON"))
        result = step(ctx)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
