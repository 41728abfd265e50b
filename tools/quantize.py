#!/usr/bin/env python3
"""Dynamic int8 quantization of an exported model's encoder, and its accuracy report.

`export_model.py --quantize int8` replaces every nn.Linear of the encoder (the
query, key, value and attention-output projections, the intermediate and
output layers of every layer) by a dynamically quantized one: int8 weights
(per tensor), activations quantized per call from their observed range, int32
accumulation, float32 in and out. The embeddings, the LayerNorms and the LM
head stay float32. The LM head runs only on the rows of `<mask>` tokens, so
quantizing it would save little time and cost the top-k scores precision.

The quantized engine is LibTorch's kernel family for these ops. ENGINES lists
the ones tried, fastest first as measured on this project's machines
(docs/performance.md, "int8"); the first the exporting torch supports is the
default. The server sets the engine the manifest names before loading.

Because activations are quantized per call over the whole batch, a row's int8
result depends slightly on the other rows of its batch (their range sets the
scale); the float32 model's does not. The accuracy report measures the int8
model against the float32 model of the same weights on TEXTS_FILE: per token,
pooled, and masked-token predictions.
"""

import copy
import json
import random
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import torch

import roberta_ref

# Fastest first, as measured (docs/performance.md, "int8"). qnnpack is the
# ARM engine: supported on x86 but several times slower than float32 there.
ENGINES = ("x86", "fbgemm", "onednn", "qnnpack")
DTYPE = "int8-dynamic"
ACCURACY_FILE = "accuracy.json"
# The accuracy texts: cybersecurity prose, log lines, URLs, hashes and some
# non-Latin text, with the ids Hugging Face's tokenizer gives them.
TEXTS_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "tokenizer" / "parity.jsonl"
SEED = 20240601
NUM_SHORT = 120  # single texts of 8 tokens or more
NUM_LONG = 120  # consecutive texts joined up to a drawn length of 64..max_input_tokens
NUM_MASKED = 128  # texts with one word-piece replaced by <mask>
TOP_K = 5
SMALL_HIDDEN = 256  # models this narrow or narrower run the report on one thread


class QuantizeError(ValueError):
    """The export cannot be quantized as asked."""


def supported_engines() -> List[str]:
    return [e for e in torch.backends.quantized.supported_engines if e != "none"]


def resolve_engine(requested: str) -> str:
    """The engine to quantize with: `requested`, or for "auto" the fastest supported."""
    supported = supported_engines()
    if requested == "auto":
        for engine in ENGINES:
            if engine in supported:
                return engine
        raise QuantizeError(f"torch {torch.__version__} has no quantized engine "
                            f"(supported: {supported})")
    if requested not in supported:
        raise QuantizeError(f"quantized engine {requested!r} is not in torch "
                            f"{torch.__version__}; it has {', '.join(supported)}")
    return requested


def quantize(model: roberta_ref.RobertaForMaskedLM, engine: str) -> roberta_ref.RobertaForMaskedLM:
    """A copy of `model` whose encoder Linear layers are dynamically quantized to int8.

    The copy keeps the word embedding tied to the LM head's decoder, as the
    float32 model has it (one deepcopy memo for both).
    """
    torch.backends.quantized.engine = engine
    quantized = copy.deepcopy(model).eval()
    torch.ao.quantization.quantize_dynamic(quantized.roberta, {torch.nn.Linear},
                                           dtype=torch.qint8, inplace=True)
    return quantized


def count_quantized_linears(model: roberta_ref.RobertaForMaskedLM) -> int:
    dynamic_linear = torch.ao.nn.quantized.dynamic.Linear
    return sum(isinstance(m, dynamic_linear) for m in model.roberta.modules())


def _content(ids: Sequence[int]) -> List[int]:
    return list(ids[1:-1])  # without <s> and </s>


def accuracy_inputs(special: Dict[str, Dict], max_input_tokens: int,
                    vocab_size: int) -> Tuple[List[List[int]], List[Tuple[List[int], int]]]:
    """(texts, masked): the fixed id sequences the report runs, <s> ... </s> each.

    Texts: NUM_SHORT single lines of 8+ tokens and NUM_LONG runs of
    consecutive lines joined to a drawn length. Masked: NUM_MASKED single
    lines with the word-piece at a drawn position replaced by <mask>.
    """
    bos, eos, mask = (special[k]["id"] for k in ("bos", "eos", "mask"))
    lines = [json.loads(line)["ids"] for line in TEXTS_FILE.read_text(encoding="utf-8").split("\n") if line]
    lines = [ids for ids in lines if max(ids) < vocab_size]
    rng = random.Random(SEED)
    short = [ids[:max_input_tokens] for ids in lines if len(ids) >= 8]
    texts = [list(ids) for ids in rng.sample(short, min(NUM_SHORT, len(short)))]
    pool = [_content(ids) for ids in lines if len(ids) > 2]
    start = 0
    for _ in range(NUM_LONG):
        target = rng.randint(64, max_input_tokens) - 2
        body: List[int] = []
        while len(body) < target:
            body += pool[start % len(pool)]
            start += 1
        texts.append([bos] + body[:target] + [eos])
    masked = []
    for ids in rng.sample(short, min(NUM_MASKED, len(short))):
        position = rng.randrange(1, len(ids) - 1)
        ids = list(ids)
        ids[position] = mask
        masked.append((ids, position))
    return texts, masked


def _cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cosine_similarity(a.double(), b.double(), dim=-1)


def _run(model: roberta_ref.RobertaForMaskedLM, ids: List[int]) -> torch.Tensor:
    input_ids = torch.tensor([ids], dtype=torch.long)
    return model.roberta(input_ids, torch.ones_like(input_ids))[0]


def _summary(values: List[float]) -> Dict[str, float]:
    return {"min": round(min(values), 6), "mean": round(sum(values) / len(values), 6)}


def accuracy_report(fp32: roberta_ref.RobertaForMaskedLM, int8: roberta_ref.RobertaForMaskedLM,
                    engine: str, special: Dict[str, Dict]) -> Dict:
    """The int8 model against the float32 model of the same weights, each input run alone."""
    config = fp32.config
    texts, masked = accuracy_inputs(special, config.max_input_tokens, config.vocab_size)
    torch.backends.quantized.engine = engine
    # A small model's single-text forwards are too small to split over
    # threads; on a loaded machine OpenMP's waiting made them 50x slower.
    threads = torch.get_num_threads()
    if config.hidden_size <= SMALL_HIDDEN:
        torch.set_num_threads(1)
    try:
        return _report(fp32, int8, engine, texts, masked)
    finally:
        torch.set_num_threads(threads)


def _report(fp32, int8, engine: str, texts: List[List[int]],
            masked: List[Tuple[List[int], int]]) -> Dict:
    token_cos: List[float] = []
    cls_cos: List[float] = []
    mean_cos: List[float] = []
    top1 = 0
    overlap = 0
    clear = 0  # masks whose float32 top-1 leads by more than int8's error
    clear_agree = 0
    with torch.inference_mode():
        for ids in texts:
            a, b = _run(fp32, ids), _run(int8, ids)
            token_cos += _cosine(a, b).tolist()
            cls_cos.append(_cosine(a[0], b[0]).item())
            mean_cos.append(_cosine(a.mean(0), b.mean(0)).item())
        for ids, position in masked:
            a = fp32.lm_head(_run(fp32, ids)[position:position + 1])[0]
            b = int8.lm_head(_run(int8, ids)[position:position + 1])[0]
            top_a, top_b = a.topk(TOP_K).indices.tolist(), b.topk(TOP_K).indices.tolist()
            top1 += top_a[0] == top_b[0]
            overlap += len(set(top_a) & set(top_b))
            # A flip is a near-tie when float32's own top-1/top-2 logit gap is
            # smaller than what int8 moved those two logits by.
            first, second = a.topk(2).values.tolist()
            moved = (b[top_a[:2]] - a[top_a[:2]]).abs().max().item()
            if first - second > 2 * moved:
                clear += 1
                clear_agree += top_a[0] == top_b[0]
    lengths = [len(ids) for ids in texts]
    return {
        "against": "float32 model of the same weights, each input run alone (unpadded)",
        "engine": engine,
        "texts": len(texts),
        "tokens": sum(lengths),
        "text_tokens": {"min": min(lengths), "max": max(lengths)},
        "last_hidden_state_cosine": _summary(token_cos),
        "cls_cosine": _summary(cls_cos),
        "mean_pooled_cosine": _summary(mean_cos),
        "masked_texts": len(masked),
        "mask_top1_agreement": round(top1 / len(masked), 6),
        "mask_top5_overlap": round(overlap / (TOP_K * len(masked)), 6),
        "masks_with_clear_top1": clear,
        "mask_top1_agreement_where_clear": round(clear_agree / clear, 6) if clear else None,
        "texts_file": str(TEXTS_FILE.relative_to(TEXTS_FILE.parents[3])),
        "seed": SEED,
    }


def manifest_entry(engine: str, model: roberta_ref.RobertaForMaskedLM, report: Dict) -> Dict:
    """The manifest's "quantization" object."""
    return {
        "method": "dynamic",
        "weights": "qint8 per tensor",
        "activations": "float32, quantized per call",
        "engine": engine,
        "quantized": f"{count_quantized_linears(model)} encoder Linear layers",
        "float32": "embeddings, LayerNorms, LM head",
        "accuracy": {k: report[k] for k in ("last_hidden_state_cosine", "cls_cosine",
                                             "mean_pooled_cosine", "mask_top1_agreement",
                                             "mask_top5_overlap",
                                             "mask_top1_agreement_where_clear")},
        "accuracy_file": ACCURACY_FILE,
    }


def describe(report: Dict) -> str:
    """The report in one line, as the exporter prints it."""
    h, c, m = (report[k] for k in ("last_hidden_state_cosine", "cls_cosine", "mean_pooled_cosine"))
    return (f"int8 ({report['engine']}) vs float32 on {report['texts']} texts "
            f"({report['tokens']} tokens): token cosine min {h['min']:.4f} mean {h['mean']:.5f}, "
            f"CLS min {c['min']:.4f}, mean-pooled min {m['min']:.4f}; "
            f"{report['masked_texts']} masks: top-1 agreement {report['mask_top1_agreement']:.1%}, "
            f"top-5 overlap {report['mask_top5_overlap']:.1%}; where float32's top-1 leads by "
            f"more than int8's error ({report['masks_with_clear_top1']} masks): "
            f"{_percent(report['mask_top1_agreement_where_clear'])}")


def _percent(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"
