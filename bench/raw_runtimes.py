#!/usr/bin/env python3
"""Raw static-batch tokens/s of the Python runtimes, as securebert-engine-bench times LibTorch.

  raw_runtimes.py --runtime transformers --hf-dir DIR     transformers eager (PyPI torch)
  raw_runtimes.py --runtime onnxruntime --hf-dir DIR      ONNX Runtime, CPU provider
  raw_runtimes.py --runtime onnxruntime-int8 --hf-dir DIR ONNX Runtime's own dynamic int8

The texts are the engine bench's (token_mix.py: the same ids, sorted by length), in its
static batches and its two arrangements of the cores: one forward on all threads, or one
forward per core on one thread each, every worker taking every workers-th batch. Each
worker runs one untimed forward first; then the clock runs from the start of the workers
to the end of the last.

transformers: RobertaModel.from_pretrained(DIR) as the model card loads it (default SDPA
attention, eval, fp32) under torch.inference_mode(); each worker thread calls
torch.set_num_threads (per-thread with OpenMP).

onnxruntime: transformers' RobertaModel with attn_implementation="eager" (the SDPA path
traces its mask with fixed shapes) wrapped to return last_hidden_state, exported with
torch.onnx.export(dynamo=False: the TorchScript exporter, which needs no onnxscript), opset
17, dynamic batch and sequence axes; before timing, its outputs on batches of other shapes
than the export's example are compared with transformers' (the SDPA model that is timed)
at every real token, and the run stops unless they agree within 1e-4. Sessions:
graph_optimization_level ORT_ENABLE_ALL, sequential execution, intra_op_num_threads =
threads of the arrangement, one session per concurrent forward.

onnxruntime-int8: that ONNX file through onnxruntime.quantization.quantize_dynamic (int8
weights, per tensor; ORT quantizes MatMul and the other ops it supports), checked against
transformers as the least token cosine (>= INT8_MIN_COSINE) rather than 1e-4.

Prints a JSON line "JSON {...}" on stdout (the engine bench's layout: raw rows, raw_best).
"""

import argparse
import json
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Callable, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import token_mix  # noqa: E402  pylint: disable=wrong-import-position

# Largest accepted |ONNX Runtime - transformers| on a real token's hidden state (fp32).
ONNX_TOLERANCE = 1e-4
ONNX_OPSET = 17
# Least accepted cosine between ONNX Runtime int8's and transformers' token vectors.
INT8_MIN_COSINE = 0.99


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runtime", choices=["transformers", "onnxruntime", "onnxruntime-int8"],
                        required=True)
    parser.add_argument("--hf-dir", type=Path, required=True)
    parser.add_argument("--texts", type=int, default=48, help="texts in the engine bench's mix")
    parser.add_argument("--batch-sizes", default="1,4,8,16")
    parser.add_argument("--cores", type=int, default=0, help="0: all")
    parser.add_argument("--onnx-path", type=Path, help="where to write the ONNX file")
    return parser.parse_args(argv)


def pack(sequences: List[List[int]]):
    """int64 numpy input_ids and attention_mask [B, longest], <pad> after each sequence."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    longest = max(len(s) for s in sequences)
    ids = np.full((len(sequences), longest), token_mix.PAD_ID, dtype=np.int64)
    mask = np.zeros((len(sequences), longest), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, :len(sequence)] = sequence
        mask[row, :len(sequence)] = 1
    return ids, mask


def batches_of(mix: List[List[int]], batch: int) -> List[Tuple]:
    return [pack(mix[b:b + batch]) for b in range(0, len(mix), batch)]


def time_arrangement(make_forward: Callable[[int], Callable], batches: List[Tuple],
                     tokens: int, workers: int, threads_each: int) -> float:
    """Real tokens/s of `workers` threads, each with its own forward of threads_each threads."""
    forwards = [make_forward(threads_each) for _ in range(workers)]
    ready = threading.Barrier(workers + 1)
    failures: List[BaseException] = []

    def work(w: int) -> None:
        try:
            forwards[w].prepare()
            forwards[w](*batches[0])  # untimed
            ready.wait()
            for index in range(w, len(batches), workers):
                forwards[w](*batches[index])
        except BaseException as error:  # pylint: disable=broad-except
            failures.append(error)  # re-raised on the main thread below
            ready.abort()

    pool = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in pool:
        thread.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass
    start = time.perf_counter()
    for thread in pool:
        thread.join()
    if failures:
        raise failures[0]
    return tokens / (time.perf_counter() - start)


class TorchForward:
    """One worker's transformers forward; prepare() sets the calling thread's torch threads."""

    def __init__(self, model, threads: int):
        self.model, self.threads = model, threads

    def prepare(self) -> None:
        import torch  # pylint: disable=import-outside-toplevel
        torch.set_num_threads(self.threads)

    def __call__(self, ids, mask):
        import torch  # pylint: disable=import-outside-toplevel
        with torch.inference_mode():
            return self.model(input_ids=torch.from_numpy(ids),
                              attention_mask=torch.from_numpy(mask)).last_hidden_state


class OrtForward:
    """One worker's ONNX Runtime session with `threads` intra-op threads."""

    def __init__(self, path: Path, threads: int):
        import onnxruntime as ort  # pylint: disable=import-outside-toplevel
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])

    def prepare(self) -> None:
        pass

    def __call__(self, ids, mask):
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


def load_transformers(hf_dir: Path, attention: str = "sdpa"):
    import transformers  # pylint: disable=import-outside-toplevel
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers.RobertaModel.from_pretrained(
        str(hf_dir), add_pooling_layer=False, attn_implementation=attention).eval()


def export_onnx(hf_dir: Path, path: Path) -> dict:
    """transformers' RobertaModel (eager attention) to ONNX with dynamic batch and sequence."""
    import torch  # pylint: disable=import-outside-toplevel

    class LastHiddenState(torch.nn.Module):
        """RobertaModel returning last_hidden_state only."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    started = time.monotonic()
    example = torch.tensor([[0, 713, 16, 10, 9, 5, 2], [0, 713, 16, 2, 1, 1, 1]])
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings of the old exporter
        torch.onnx.export(LastHiddenState(load_transformers(hf_dir, "eager")),
                          (example, example.ne(token_mix.PAD_ID).long()), str(path),
                          dynamo=False, opset_version=ONNX_OPSET,
                          input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        "last_hidden_state": axes})
    return {"how": "torch.onnx.export(dynamo=False) of transformers RobertaModel "
                   f"(attn_implementation=eager), opset {ONNX_OPSET}, dynamic batch and "
                   "sequence axes",
            "bytes": path.stat().st_size, "seconds": round(time.monotonic() - started, 2)}


def verify_onnx(reference, path: Path, mix: List[List[int]]) -> dict:
    """Max |ORT - transformers| over real tokens of a few batches unlike the export example."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    session = OrtForward(path, 1)
    checks = [mix[:4], mix[-2:], [mix[0], mix[len(mix) // 2], mix[-1]], [mix[len(mix) // 2]]]
    worst = 0.0
    for sequences in checks:
        ids, mask = pack(sequences)
        expected = TorchForward(reference, 1)(ids, mask).numpy()
        got = session(ids, mask)
        worst = max(worst, float(np.abs((got - expected) * mask[:, :, None]).max()))
    return {"max_abs_diff": worst, "tolerance": ONNX_TOLERANCE, "ok": worst <= ONNX_TOLERANCE,
            "batches": [len(s) for s in checks]}


def quantize_onnx(path: Path, out: Path) -> dict:
    """ONNX Runtime's dynamic int8 of the ONNX file at `path`, written to `out`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic  # pylint: disable=C0415
    started = time.monotonic()
    quantize_dynamic(str(path), str(out), weight_type=QuantType.QInt8)
    return {"how": "onnxruntime.quantization.quantize_dynamic(weight_type=QInt8)",
            "bytes": out.stat().st_size, "seconds": round(time.monotonic() - started, 2)}


def verify_int8(reference, path: Path, mix: List[List[int]]) -> dict:
    """Least token cosine of ORT int8 against transformers, over real tokens of a batch."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    ids, mask = pack(mix[:4] + mix[-2:])
    expected = TorchForward(reference, 1)(ids, mask).numpy().astype(np.float64)
    got = OrtForward(path, 1)(ids, mask).astype(np.float64)
    cos = (got * expected).sum(-1) / np.sqrt((got * got).sum(-1) * (expected * expected).sum(-1))
    least = float(cos[mask.astype(bool)].min())
    return {"min_token_cosine": least, "threshold": INT8_MIN_COSINE,
            "ok": least >= INT8_MIN_COSINE}


def run(args) -> dict:
    cores = args.cores or os.cpu_count() or 1
    mix = token_mix.sorted_by_length(token_mix.make_token_mix(args.texts))
    tokens = token_mix.count_tokens(mix)
    report = {"runtime": args.runtime, "cores": cores, "texts": len(mix), "tokens": tokens}
    reference = load_transformers(args.hf_dir)
    if args.runtime.startswith("onnxruntime"):
        import onnxruntime  # pylint: disable=import-outside-toplevel
        path = args.onnx_path or args.hf_dir / "encoder.onnx"
        report["export"] = export_onnx(args.hf_dir, path)
        report["verify"] = verify_onnx(reference, path, mix)
        report["version"] = onnxruntime.__version__
        if not report["verify"]["ok"]:
            raise RuntimeError(f"ONNX Runtime differs from transformers by "
                               f"{report['verify']['max_abs_diff']:.3g} (> {ONNX_TOLERANCE})")
        if args.runtime == "onnxruntime-int8":
            quantized = path.with_name(path.stem + "-int8.onnx")
            report["quantize"] = quantize_onnx(path, quantized)
            report["verify_int8"] = verify_int8(reference, quantized, mix)
            if not report["verify_int8"]["ok"]:
                raise RuntimeError(f"ONNX Runtime int8's least token cosine is "
                                   f"{report['verify_int8']['min_token_cosine']:.4f}")
            path = quantized
        make_forward = lambda threads, path=path: OrtForward(path, threads)  # noqa: E731
    else:
        import torch  # pylint: disable=import-outside-toplevel
        import transformers  # pylint: disable=import-outside-toplevel
        report["version"] = f"transformers {transformers.__version__}, torch {torch.__version__}"
        make_forward = lambda threads: TorchForward(reference, threads)  # noqa: E731
    report["raw"] = []
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        batches = batches_of(mix, batch)
        for workers, threads in ((1, cores), (cores, 1)):
            tps = time_arrangement(make_forward, batches, tokens, workers, threads)
            report["raw"].append({"arrangement": f"{workers} forward(s) x {threads} thread(s)",
                                  "batch": batch, "tokens_per_s": tps})
            print(f"{args.runtime}: {report['raw'][-1]}", file=sys.stderr, flush=True)
            if cores == 1:
                break  # both arrangements are the same on one core
    best = max(report["raw"], key=lambda row: row["tokens_per_s"])
    report["raw_best"] = {"tokens_per_s": best["tokens_per_s"],
                          "setting": f"{best['arrangement']}, batch {best['batch']}"}
    return report


def main(argv=None) -> int:
    args = parse_args(argv)
    print("JSON " + json.dumps(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
