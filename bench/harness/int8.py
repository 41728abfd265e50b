"""The int8 comparison: the same weights quantized (`export_model.py --quantize int8`).

The int8 server runs the load of the float32 sweep at each of the config's
int8_concurrencies, as long as the float32 level lasted, and its peak RSS is read after
the last, as the float32 server's is after its sweep. The Debian-LibTorch build serves
its own int8 export (Debian's torch, its quantized engine) at the first level, and ONNX
Runtime's own dynamic int8 of the same weights is timed raw (raw_runtimes.py
--runtime onnxruntime-int8), as the column to beat. The accuracy figures are the
exporter's report (accuracy.json).
"""

import json
from typing import Dict

from harness import compare_steps, figures, steps
from harness.config import Context
from harness.processes import SecureBertServer

# Issue 17's targets, at c=16.
TARGET_SPEEDUP = 1.5
TARGET_RSS_RATIO = 0.6
TARGET_POOLED_COSINE = 0.999
TARGET_TOP1 = 0.97


def _serve_levels(ctx: Context, binary, model_dir, server: dict, concurrencies,
                  log_prefix: str) -> dict:
    """`model_dir` served by `binary` at each level; the levels and the peak RSS after."""
    by_c = {lv["concurrency"]: lv for lv in server["levels"]}
    levels = []
    with SecureBertServer(binary, model_dir, ctx.work_dir / f"{log_prefix}.log",
                          ctx.server_args) as srv:
        for c in concurrencies:
            duration_s = (by_c[c]["duration_s"] if c in by_c else
                          steps.level_duration_s(ctx, c, compare_steps.service_s(server)))
            ctx.progress(f"{log_prefix} at c={c} for {duration_s:.0f} s", "[int8]")
            level = steps.measure_level(ctx, srv.target, c, duration_s,
                                        f"load_{log_prefix}_c{c}.log", srv.metrics_port)
            ctx.progress(f"  {level['tokens_per_s']:.1f} tokens/s, p50 {level['p50_ms']:.1f} ms, "
                         f"p99 {level['p99_ms']:.1f} ms", "[int8]")
            levels.append(level)
        peak_rss = srv.peak_rss_bytes()
    return {"levels": levels, "peak_rss_bytes": peak_rss}


def comparison(ctx: Context, server: dict) -> dict:
    """The int8 rows and their ratios to float32."""
    if ctx.int8_model_dir is None:
        return {"available": False, "reason": "no int8 export"}
    concurrencies = ctx.config.int8_concurrencies
    own = _serve_levels(ctx, ctx.binary("securebert-server"), ctx.int8_model_dir, server,
                        concurrencies, "int8_server")
    result = {"available": True, "server": own,
              "accuracy": json.loads((ctx.int8_model_dir / "accuracy.json").read_text()),
              "engine": json.loads((ctx.int8_model_dir / "manifest.json").read_text())
              ["quantization"]["engine"]}
    if ctx.debian_int8_model_dir is not None:
        result["debian_server"] = _serve_levels(
            ctx, ctx.debian_build_dir / "bin" / "securebert-server", ctx.debian_int8_model_dir,
            server, concurrencies[:1], "int8_debian_server")
        result["debian_engine"] = json.loads(
            (ctx.debian_int8_model_dir / "manifest.json").read_text())["quantization"]["engine"]
    else:
        result["debian_server"] = {"available": False,
                                   "reason": "no debian-torch build or int8 export"}
    result["onnxruntime_int8"] = compare_steps.python_runtime(ctx, "onnxruntime-int8")
    result["ratios"] = ratios(server, result)
    return result


def ratios(server: dict, int8: dict) -> Dict:
    """int8 / float32 throughput per level, the RSS ratio and the targets' verdicts."""
    fp32 = {lv["concurrency"]: lv for lv in server["levels"]}
    per_level = {}
    for lv in int8["server"]["levels"]:
        base = fp32.get(lv["concurrency"])
        per_level[str(lv["concurrency"])] = {
            "speedup": figures.ratio(lv["tokens_per_s"], base and base["tokens_per_s"]),
            "p50_ratio": figures.ratio(lv["p50_ms"], base and base["p50_ms"]),
            "p99_ratio": figures.ratio(lv["p99_ms"], base and base["p99_ms"])}
    first = per_level.get("16") or next(iter(per_level.values()), {})
    rss = figures.ratio(int8["server"]["peak_rss_bytes"], server.get("peak_rss_bytes"))
    acc = int8["accuracy"]
    pooled = min(acc["cls_cosine"]["min"], acc["mean_pooled_cosine"]["min"])

    def verdict(value, ok) -> str:
        return "n/a" if value is None else ("met" if ok(value) else "missed")
    return {"per_concurrency": per_level, "rss_ratio": rss, "pooled_cosine_min": pooled,
            "targets": {
                f"int8 >= {TARGET_SPEEDUP}x float32 at c=16": verdict(
                    first.get("speedup"), lambda v: v >= TARGET_SPEEDUP),
                f"peak RSS <= {TARGET_RSS_RATIO}x": verdict(rss, lambda v: v <= TARGET_RSS_RATIO),
                f"pooled cosine >= {TARGET_POOLED_COSINE}": verdict(
                    pooled, lambda v: v >= TARGET_POOLED_COSINE),
                f"top-1 mask agreement >= {TARGET_TOP1:.0%}": verdict(
                    acc["mask_top1_agreement"], lambda v: v >= TARGET_TOP1)}}


def markdown(server: dict, int8: dict) -> str:
    """The int8 section of the report."""
    if not int8.get("available"):
        return f"\n### int8\n\nn/a: {int8.get('reason')}\n"
    fp32 = {lv["concurrency"]: lv for lv in server["levels"]}
    lines = ["", f"### int8 (dynamic, engine {int8['engine']}) against float32, same weights", "",
             "| server | c | tokens/s | p50 ms | p99 ms | int8 / float32 tokens/s |",
             "|---|---:|---:|---:|---:|---:|"]
    for lv in int8["server"]["levels"]:
        base = fp32.get(lv["concurrency"])
        if base:
            lines.append(f"| float32 | {base['concurrency']} | {base['tokens_per_s']:.1f} | "
                         f"{base['p50_ms']:.1f} | {base['p99_ms']:.1f} | - |")
        speedup = int8["ratios"]["per_concurrency"][str(lv["concurrency"])]["speedup"]
        lines.append(f"| int8 | {lv['concurrency']} | {lv['tokens_per_s']:.1f} | "
                     f"{lv['p50_ms']:.1f} | {lv['p99_ms']:.1f} | "
                     f"{'-' if speedup is None else f'{speedup:.2f}'} |")
    deb = int8["debian_server"]
    for lv in deb.get("levels", []):
        lines.append(f"| int8, Debian LibTorch ({int8.get('debian_engine')}) | "
                     f"{lv['concurrency']} | {lv['tokens_per_s']:.1f} | {lv['p50_ms']:.1f} | "
                     f"{lv['p99_ms']:.1f} | - |")
    ort = int8["onnxruntime_int8"]
    ort_cell = (f"{ort['raw_best']['tokens_per_s']:.1f} tokens/s raw best"
                if ort.get("available") else f"n/a ({ort.get('reason', '')[:120]})")
    r, acc = int8["ratios"], int8["accuracy"]
    rss_int8, rss_fp32 = int8["server"]["peak_rss_bytes"], server.get("peak_rss_bytes")
    lines += ["", f"ONNX Runtime dynamic int8 on the same weights: {ort_cell}.",
              f"Peak RSS: int8 {rss_int8 / 1e6:.0f} MB, float32 {rss_fp32 / 1e6:.0f} MB "
              f"(ratio {r['rss_ratio']:.2f})." if rss_int8 and rss_fp32 else "Peak RSS: n/a.",
              f"Accuracy against float32 ({acc['texts']} texts, {acc['tokens']} tokens; "
              f"{acc['masked_texts']} masks): token cosine min "
              f"{acc['last_hidden_state_cosine']['min']:.5f}, pooled min "
              f"{r['pooled_cosine_min']:.5f}, top-1 agreement {acc['mask_top1_agreement']:.1%}, "
              f"top-5 overlap {acc['mask_top5_overlap']:.1%}.", "",
              "| target | verdict |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in r["targets"].items()]
    return "\n".join(lines) + "\n"
