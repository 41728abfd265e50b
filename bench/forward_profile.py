#!/usr/bin/env python3
"""Where the encoder forward's time goes, per way of running the same weights, in one run.

  forward_profile.py --model-dir DIR --hf-dir DIR [--int8-dir DIR] [--texts 48]

The paths (each on the weights of --model-dir, the server's export of --hf-dir):

  torchscript          encoder.pt as the server loads it (the exporter's scripted module)
  torchscript-frozen   torch.jit.freeze of it (weights folded into the graph as constants)
  torchscript-frozen-optimized   torch.jit.optimize_for_inference of the frozen module
  torchscript-sdpa     the exporter's reference encoder with its attention as one
                       F.scaled_dot_product_attention call (the fused kernel), scripted
  torchscript-int8     --int8-dir's encoder.pt (export_model.py --quantize int8)
  onnxruntime          transformers' RobertaModel exported to ONNX (raw_runtimes.export_onnx),
                       CPU provider, ORT_ENABLE_ALL
  onnxruntime-int8     that file through ORT's own quantize_dynamic

For each path: its parity with encoder.pt (max |difference| over real tokens of padded
batches, <= 1e-4 for the float32 paths; the least token cosine for the int8 ones), its
tokens/s on the engine bench's texts (token_mix.py) in the engine bench's two arrangements
of the cores (one batch-1 forward per core on one thread, and one batch-8 forward on every
thread), and an op-level profile of batch-8 forwards on one thread: torch.profiler's self
CPU time per aten op, or ORT's own profiler's per-node time, summed into the categories of
CATEGORIES (the Linear layers' matrix products, the attention's two batched products,
softmax, GELU, LayerNorm, element-wise, layout copies, activation quantization, embedding,
other) as shares of the profiled time.

Prints a JSON line "JSON {...}" on stdout, and a Markdown report with --markdown. Figures,
never assertions: the only failure is a path whose outputs break its parity bound.
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "tools"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import raw_runtimes  # noqa: E402  pylint: disable=wrong-import-position
import token_mix  # noqa: E402  pylint: disable=wrong-import-position

FLOAT_TOLERANCE = 1e-4
INT8_MIN_COSINE = 0.99
PROFILE_BATCH = 8

# Category of an op: the first pattern that matches its name (aten ops for torch, ONNX op
# types for ORT; ORT's MatMul nodes are told apart by node name, see ort_category).
CATEGORIES = (
    ("linear GEMM", r"^(aten::(addmm|mm|linear)|quantized::linear_dynamic|"
                    r"mkldnn_prepacked::linear_run|prepacked::linear_clamp_run|"
                    r"aten::mkldnn_linear|Gemm|FusedMatMul|MatMulInteger|"
                    r"DynamicQuantizeMatMul|MatMulIntegerToFloat|LinearMatMul)$"),
    ("attention products", r"^(aten::(bmm|matmul|baddbmm)|AttentionMatMul)$"),
    ("fused attention", r"^(aten::(_scaled_dot_product\w*|scaled_dot_product_attention)|"
                        r"Attention|MultiHeadAttention)$"),
    ("softmax", r"^(aten::(_softmax|softmax)|Softmax)$"),
    ("GELU", r"^(aten::gelu|Gelu|BiasGelu|FastGelu|Erf)$"),
    ("LayerNorm", r"^(aten::(native_layer_norm|layer_norm)|LayerNormalization|"
                  r"SkipLayerNormalization|SimplifiedLayerNormalization)$"),
    ("element-wise", r"^(aten::(add|add_|mul|mul_|div|div_|sub|rsub|ne|cumsum|type_as|to|"
                     r"_to_copy|where|masked_fill)|Add|Mul|Div|Sub|Sqrt|Pow|ReduceMean|Cast|"
                     r"Where|Equal|Not|CumSum)$"),
    ("layout copies", r"^(aten::(copy_|contiguous|clone|transpose|view|reshape|permute|"
                      r"select|slice|unsqueeze|expand|empty|empty_strided|as_strided|t|"
                      r"zeros_like|zeros|_unsafe_view)|Transpose|Reshape|Unsqueeze|Shape|"
                      r"Concat|Slice|Gather_shape|Expand|ConstantOfShape)$"),
    ("activation quantization", r"^(aten::(quantize_per_tensor|dequantize|"
                                r"_choose_qparams_per_tensor|fbgemm_\w+)|DynamicQuantizeLinear|"
                                r"QuantizeLinear|DequantizeLinear)$"),
    ("embedding", r"^(aten::(embedding|index_select)|Gather)$"),
)
OTHER = "other"


def category(op_name: str) -> str:
    for name, pattern in CATEGORIES:
        if re.match(pattern, op_name):
            return name
    return OTHER


# ORT keeps the exporter's node names: a MatMul directly under ".../attention/self/" is one
# of the attention's two batched products (Q K^T and probs V); those under query/key/value
# and the dense layers are Linear layers.
_ORT_ATTENTION_MATMUL = re.compile(r"/attention/self/MatMul(_\d+)?$")


def ort_category(op_type: str, node_name: str) -> str:
    if op_type == "MatMul":
        return "attention products" if _ORT_ATTENTION_MATMUL.search(node_name) \
            else "linear GEMM"
    return category(op_type)


def shares(times_us: Dict[str, float]) -> Dict[str, Dict[str, float]]:
    """Per category: microseconds and share of the total, largest first."""
    total = sum(times_us.values()) or 1.0
    ordered = sorted(times_us.items(), key=lambda kv: -kv[1])
    return {name: {"us": round(us, 1), "share": round(us / total, 4)} for name, us in ordered}


def torch_op_times(key_averages) -> Tuple[Dict[str, float], Dict[str, float]]:
    """(self CPU us per category, self CPU us per op) from torch.profiler's key_averages()."""
    by_category: Dict[str, float] = defaultdict(float)
    by_op: Dict[str, float] = defaultdict(float)
    for event in key_averages:
        us = float(event.self_cpu_time_total)
        if us <= 0:
            continue
        by_category[category(event.key)] += us
        by_op[event.key] += us
    return dict(by_category), dict(by_op)


def ort_op_times(trace: List[dict]) -> Tuple[Dict[str, float], Dict[str, float]]:
    """(us per category, us per op type) from an ORT profile: its "Node" kernel events."""
    by_category: Dict[str, float] = defaultdict(float)
    by_op: Dict[str, float] = defaultdict(float)
    for event in trace:
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        op_type = event.get("args", {}).get("op_name", "?")
        node = event["name"][:-len("_kernel_time")]
        us = float(event.get("dur", 0))
        by_category[ort_category(op_type, node)] += us
        by_op[op_type] += us
    return dict(by_category), dict(by_op)


# ---------------------------------------------------------------------------------------
# The paths


class TorchScriptForward(raw_runtimes.TorchForward):
    """raw_runtimes.TorchForward for a TorchScript encoder (input_ids, attention_mask) -> hidden."""

    def __call__(self, ids, mask):
        import torch  # pylint: disable=import-outside-toplevel
        with torch.inference_mode():
            return self.model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()


def sdpa_encoder(hf_dir: Path):
    """The exporter's reference encoder of hf_dir, its attention one fused SDPA call, scripted."""
    import torch  # pylint: disable=import-outside-toplevel
    from torch import nn  # pylint: disable=import-outside-toplevel
    import hf_checkpoint  # pylint: disable=import-outside-toplevel

    class SdpaSelfAttention(nn.Module):
        """RobertaSelfAttention's weights, F.scaled_dot_product_attention for the rest."""

        def __init__(self, original):
            super().__init__()
            self.num_heads, self.head_size = original.num_heads, original.head_size
            self.query, self.key, self.value = original.query, original.key, original.value

        def _split(self, x: torch.Tensor) -> torch.Tensor:
            return x.view(x.size(0), x.size(1), self.num_heads, self.head_size).transpose(1, 2)

        def forward(self, hidden: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
            context = torch.nn.functional.scaled_dot_product_attention(
                self._split(self.query(hidden)), self._split(self.key(hidden)),
                self._split(self.value(hidden)), attn_mask=additive_mask)
            context = context.transpose(1, 2).contiguous()
            return context.view(hidden.size(0), hidden.size(1), hidden.size(2))

    encoder = hf_checkpoint.load_reference_model(hf_dir).roberta.eval()
    for layer in encoder.encoder.layer:
        layer.attention.self = SdpaSelfAttention(layer.attention.self)
    return torch.jit.script(encoder)


def torch_paths(model_dir: Path, hf_dir: Path, int8_dir: Optional[Path]) -> Dict[str, object]:
    import torch  # pylint: disable=import-outside-toplevel
    scripted = torch.jit.load(str(model_dir / "encoder.pt")).eval()
    # freeze returns a frozen copy; optimize_for_inference rewrites its own copy in place.
    frozen = torch.jit.freeze(scripted)
    optimized = torch.jit.optimize_for_inference(torch.jit.freeze(scripted))
    paths = {"torchscript": scripted, "torchscript-frozen": frozen,
             "torchscript-frozen-optimized": optimized, "torchscript-sdpa": sdpa_encoder(hf_dir)}
    if int8_dir is not None:
        manifest = json.loads((int8_dir / "manifest.json").read_text())
        engine = manifest.get("quantization", {}).get("engine")
        if engine:
            torch.backends.quantized.engine = engine
        paths["torchscript-int8"] = torch.jit.load(str(int8_dir / "encoder.pt")).eval()
    return paths


def parity_checks(reference: Callable, mix: List[List[int]]) -> List[Tuple]:
    """Padded batches unlike each other, with the reference's outputs: (ids, mask, expected)."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    checks = []
    for sequences in (mix[:4], mix[-2:], [mix[0], mix[len(mix) // 2], mix[-1]]):
        ids, mask = raw_runtimes.pack(sequences)
        checks.append((ids, mask, np.asarray(reference(ids, mask), dtype=np.float64)))
    return checks


def parity(checks: List[Tuple], forward: Callable, int8: bool) -> dict:
    """Max |forward - reference| (float32) or least token cosine (int8) over real tokens."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    worst_diff, least_cos = 0.0, 1.0
    for ids, mask, expected in checks:
        got = np.asarray(forward(ids, mask), dtype=np.float64)
        real = mask.astype(bool)
        worst_diff = max(worst_diff, float(np.abs(got - expected)[real].max()))
        cos = (got * expected).sum(-1) / np.sqrt((got * got).sum(-1) *
                                                 (expected * expected).sum(-1))
        least_cos = min(least_cos, float(cos[real].min()))
    ok = least_cos >= INT8_MIN_COSINE if int8 else worst_diff <= FLOAT_TOLERANCE
    return {"max_abs_diff": worst_diff, "min_token_cosine": least_cos, "ok": ok,
            "bound": (f"min token cosine >= {INT8_MIN_COSINE}" if int8
                      else f"max abs diff <= {FLOAT_TOLERANCE:g}")}


def profile_torch(module, batches: List[Tuple]) -> dict:
    import torch  # pylint: disable=import-outside-toplevel
    from torch.profiler import ProfilerActivity, profile  # pylint: disable=C0415
    forward = TorchScriptForward(module, 1)
    forward.prepare()
    forward(*batches[0])  # the profiling executor specializes on its first calls
    forward(*batches[0])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for ids, mask in batches:
            forward(ids, mask)
    by_category, by_op = torch_op_times(prof.key_averages())
    torch.set_num_threads(os.cpu_count() or 1)
    return {"categories": shares(by_category),
            "top_ops": dict(list(shares(by_op).items())[:8])}


def profile_ort(path: Path, batches: List[Tuple], work: Path) -> dict:
    import onnxruntime as ort  # pylint: disable=import-outside-toplevel
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    session.run(None, {"input_ids": batches[0][0], "attention_mask": batches[0][1]})
    options.enable_profiling = True
    options.profile_file_prefix = str(work / f"{path.stem}-profile")
    profiled = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    profiled.run(None, {"input_ids": batches[0][0], "attention_mask": batches[0][1]})
    for ids, mask in batches:
        profiled.run(None, {"input_ids": ids, "attention_mask": mask})
    trace = json.loads(Path(profiled.end_profiling()).read_text())
    # The first run (a warm-up) is in the trace too: drop events before the second run starts.
    runs = [e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"]
    if len(runs) > 1:
        start = runs[1]["ts"]
        trace = [e for e in trace if e.get("ts", 0) >= start]
    by_category, by_op = ort_op_times(trace)
    return {"categories": shares(by_category),
            "top_ops": dict(list(shares(by_op).items())[:8])}


def run(args) -> dict:
    import onnxruntime  # pylint: disable=import-outside-toplevel
    import torch  # pylint: disable=import-outside-toplevel
    cores = args.cores or os.cpu_count() or 1
    mix = token_mix.sorted_by_length(token_mix.make_token_mix(args.texts))
    tokens = token_mix.count_tokens(mix)
    profile_batches = raw_runtimes.batches_of(mix, PROFILE_BATCH)
    report = {"texts": len(mix), "tokens": tokens, "cores": cores,
              "versions": {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__},
              "profile": f"batch {PROFILE_BATCH}, 1 thread, {len(profile_batches)} batches",
              "paths": {}}
    modules = torch_paths(args.model_dir, args.hf_dir, args.int8_dir)
    checks = parity_checks(TorchScriptForward(modules["torchscript"], cores), mix)
    makers: Dict[str, Callable[[int], object]] = {
        name: (lambda threads, module=module: TorchScriptForward(module, threads))
        for name, module in modules.items()}
    with tempfile.TemporaryDirectory(prefix="forward-profile-") as scratch:
        work = Path(scratch)
        onnx = work / "encoder.onnx"
        report["onnx_export"] = raw_runtimes.export_onnx(args.hf_dir, onnx)
        onnx_int8 = work / "encoder-int8.onnx"
        raw_runtimes.quantize_onnx(onnx, onnx_int8)
        ort_files = {"onnxruntime": onnx, "onnxruntime-int8": onnx_int8}
        for name, path in ort_files.items():
            makers[name] = lambda threads, path=path: raw_runtimes.OrtForward(path, threads)
        for name, make in makers.items():
            int8 = name.endswith("int8")
            entry = {"parity": parity(checks, make(cores), int8)}
            if not entry["parity"]["ok"]:
                raise RuntimeError(f"{name} breaks its parity bound: {entry['parity']}")
            entry["tokens_per_s"] = {}
            for batch, workers, threads in ((1, cores, 1), (8, 1, cores)):
                label = f"{workers} forward(s) x {threads} thread(s), batch {batch}"
                entry["tokens_per_s"][label] = raw_runtimes.time_arrangement(
                    make, raw_runtimes.batches_of(mix, batch), tokens, workers, threads)
            entry["profile"] = (profile_ort(ort_files[name], profile_batches, work)
                                if name in ort_files
                                else profile_torch(modules[name], profile_batches))
            report["paths"][name] = entry
            print(f"forward_profile: {name}: {entry['tokens_per_s']}", file=sys.stderr,
                  flush=True)
    return report


def markdown(report: dict) -> str:
    """Two tables: tokens/s and parity per path, then each path's category shares."""
    arrangements = list(next(iter(report["paths"].values()))["tokens_per_s"])
    lines = [f"Encoder forward paths ({report['texts']} texts, {report['tokens']} tokens; "
             f"torch {report['versions']['torch']}, onnxruntime "
             f"{report['versions']['onnxruntime']})", "",
             "| path | " + " | ".join(arrangements) + " | parity |",
             "|---|" + "---:|" * len(arrangements) + "---|"]
    for name, entry in report["paths"].items():
        figures = " | ".join(f"{entry['tokens_per_s'][a]:.1f}" for a in arrangements)
        p = entry["parity"]
        check = (f"cosine >= {p['min_token_cosine']:.5f}" if name.endswith("int8")
                 else f"max diff {p['max_abs_diff']:.2g}")
        lines.append(f"| {name} | {figures} | {check} |")
    names = [category_name for category_name, _ in CATEGORIES] + [OTHER]
    lines += ["", f"Share of the profiled time ({report['profile']}):", "",
              "| category | " + " | ".join(report["paths"]) + " |",
              "|---|" + "---:|" * len(report["paths"])]
    for category_name in names:
        row = [report["paths"][p]["profile"]["categories"].get(category_name, {}).get("share", 0)
               for p in report["paths"]]
        if any(row):
            lines.append(f"| {category_name} | " + " | ".join(f"{s:.1%}" for s in row) + " |")
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="the server's export")
    parser.add_argument("--hf-dir", type=Path, required=True, help="the checkpoint it came from")
    parser.add_argument("--int8-dir", type=Path, help="an export_model.py --quantize int8 twin")
    parser.add_argument("--texts", type=int, default=48, help="texts in the engine bench's mix")
    parser.add_argument("--cores", type=int, default=0, help="0: all")
    parser.add_argument("--markdown", action="store_true", help="also print the tables")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    report = run(args)
    report["seconds"] = round(time.monotonic() - started, 1)
    print("JSON " + json.dumps(report), flush=True)
    if args.markdown:
        print(markdown(report), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
