#!/usr/bin/env python3
"""Export a RoBERTa model (SecureBERT) to a securebert-serve model directory.

  export_model.py --hf-dir DIR --out MODEL_DIR            downloaded Hugging Face directory,
                                                          reference implementation only
  export_model.py --hf ehsanaghaei/SecureBERT --out M     through `transformers` (needs it)
  export_model.py --random-init tiny|base --seed N --out M  random weights, roberta-base vocabulary
    [--head sequence|token --labels N [--multi-label]]    ... with a random task head, no LM head
  ... --quantize int8 [--qengine ENGINE]                  dynamic int8 encoder (quantize.py),
                                                          with an accuracy report against float32

A Hugging Face source is a masked LM (RobertaForMaskedLM: encoder + LM head)
or a fine-tuned classifier (RobertaForSequenceClassification /
RobertaForTokenClassification: encoder + task head), as its config.json's
"architectures" says. Every mode scripts the same reference model
(roberta_ref.py, roberta_heads.py), so the exported TorchScript is identical in
structure whatever the source. The layout of the output is described in
model_dir.py. Prints one summary line on success; errors go to stderr with
exit status 1.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import torch

import goldens
import hf_checkpoint
import model_dir
import quantize
import roberta_heads
import roberta_ref
import tokenizer_files

REPO_ROOT = Path(__file__).resolve().parent.parent
# The roberta-base vocabulary that random-init models use.
RANDOM_INIT_TOKENIZER_DIR = REPO_ROOT / "tests" / "data" / "tokenizer"
RANDOM_INIT_CONFIGS = {
    "tiny": roberta_ref.RobertaConfig(num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                                      intermediate_size=128),
    "base": roberta_ref.RobertaConfig(),  # SecureBERT's exact shape
}
# --head choices -> head kinds.
HEAD_KINDS = {"sequence": roberta_heads.SEQUENCE, "token": roberta_heads.TOKEN}
# Largest |transformers - reference| logit difference accepted by --hf.
TRANSFORMERS_CHECK_TOLERANCE = 1e-3


class ExportError(ValueError):
    """A problem with the command line or the source that stops the export."""


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """The command line; exactly one source option is required."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--hf-dir", type=Path, metavar="DIR",
                        help="downloaded Hugging Face model directory (no transformers needed)")
    source.add_argument("--hf", metavar="NAME_OR_DIR",
                        help="Hugging Face model id or directory, loaded with transformers")
    source.add_argument("--random-init", choices=sorted(RANDOM_INIT_CONFIGS),
                        help="random weights: tiny (tests) or base (SecureBERT's shape)")
    parser.add_argument("--seed", type=int, default=None, help="random-init seed (default 0)")
    parser.add_argument("--head", choices=sorted(HEAD_KINDS), default=None,
                        help="random-init: a random sequence- or token-classification head "
                             "instead of the LM head (a Hugging Face source's head comes from "
                             "its config.json)")
    parser.add_argument("--labels", type=int, default=None, metavar="N",
                        help="number of labels of the --head")
    parser.add_argument("--multi-label", action="store_true",
                        help="--head sequence: labels scored independently (sigmoid), "
                             "problem_type multi_label_classification")
    parser.add_argument("--out", type=Path, required=True, metavar="MODEL_DIR",
                        help="model directory to write")
    parser.add_argument("--model-id", default=None,
                        help="model_id recorded in the manifest (default: derived from the source)")
    parser.add_argument("--dtype", choices=["float32"], default="float32",
                        help="stored weight dtype; the server casts for the device")
    parser.add_argument("--quantize", choices=["none", "int8"], default="none",
                        help="int8: dynamically quantize the encoder's Linear layers (CPU only; "
                             "the accuracy report against float32 is written beside it)")
    parser.add_argument("--qengine", choices=("auto",) + quantize.ENGINES, default="auto",
                        help="quantized engine for --quantize int8 (default: the fastest this "
                             "torch has)")
    parser.add_argument("--force", action="store_true",
                        help="replace MODEL_DIR if it is an existing model directory")
    args = parser.parse_args(argv)
    if args.qengine != "auto" and args.quantize == "none":
        parser.error("--qengine applies to --quantize int8 only")
    if args.seed is not None and args.random_init is None:
        parser.error("--seed applies to --random-init only")
    _check_head_args(parser, args)
    return args


def _check_head_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.head is None:
        if args.labels is not None or args.multi_label:
            parser.error("--labels and --multi-label apply to --head only")
        return
    if args.random_init is None:
        parser.error("--head applies to --random-init only; a Hugging Face checkpoint's head "
                     "comes from its config.json \"architectures\"")
    if args.labels is None:
        parser.error("--head needs --labels N")
    if args.labels < 1:
        parser.error(f"--labels must be at least 1, got {args.labels}")
    if args.multi_label and args.head != "sequence":
        parser.error("--multi-label applies to --head sequence only")


def random_labels(kind: str, count: int) -> List[str]:
    """Label names of a random head: LABEL_i; for a token head "O" then B-/I- pairs."""
    if kind == roberta_heads.SEQUENCE:
        return [f"LABEL_{i}" for i in range(count)]
    labels = ["O"]
    for i in range(1, count):
        entity = (i + 1) // 2
        labels.append(f"B-ENT{entity}" if i % 2 else f"I-ENT{entity}")
    return labels


def model_id_for_path(path: Path) -> str:
    """"owner/name" for a Hugging Face cache snapshot (models--owner--name/...), else its name."""
    resolved = path.resolve()
    for part in reversed(resolved.parts):
        if part.startswith("models--"):
            return part[len("models--"):].replace("--", "/", 1)
    return resolved.name


def _from_hf_dir(args: argparse.Namespace):
    src = args.hf_dir
    if not src.is_dir():
        raise ExportError(f"--hf-dir {src}: not a directory")
    model = hf_checkpoint.load_reference_model(src)
    provenance = model_dir.Provenance(model_id=args.model_id or model_id_for_path(src),
                                      source=f"hf-dir:{src.resolve()}", random_weights=False)
    return model, src, provenance


def _from_random_init(args: argparse.Namespace):
    seed = 0 if args.seed is None else args.seed
    source = f"random-init:{args.random_init}:seed={seed}"
    head = None
    if args.head is not None:
        kind = HEAD_KINDS[args.head]
        problem_type = roberta_heads.MULTI_LABEL if args.multi_label \
            else roberta_heads.SINGLE_LABEL
        head = roberta_heads.TaskHeadConfig(kind, tuple(random_labels(kind, args.labels)),
                                            problem_type)
        source += f":{kind}:labels={args.labels}"
    model = roberta_heads.build_model(RANDOM_INIT_CONFIGS[args.random_init], head)
    model.init_random_weights(seed)
    provenance = model_dir.Provenance(model_id=args.model_id or f"random-init/{args.random_init}",
                                      source=source, random_weights=True)
    return model, RANDOM_INIT_TOKENIZER_DIR, provenance


def _import_transformers():
    try:
        import transformers  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        raise ExportError(
            "--hf needs the `transformers` package, which is not installed "
            "(pip install transformers); without it, download the model directory "
            "(config.json, model.safetensors or pytorch_model.bin, tokenizer files) "
            "and export it with --hf-dir DIR") from e
    return transformers


@torch.no_grad()
def _check_against_transformers(hf_model, model: roberta_heads.ReferenceModel) -> None:
    """Refuses to export when the reference disagrees with transformers on the same weights.

    Compares the logits of the model's head: MLM or token logits at the real tokens,
    sequence logits per row.
    """
    ids = torch.tensor([[0, 713, 16, 10, 50264, 9, 5, 2], [0, 713, 16, 2, 1, 1, 1, 1]])
    ids = ids.clamp(max=model.config.vocab_size - 1)
    mask = ids.ne(model.config.pad_token_id).to(torch.int64)
    expected = hf_model(input_ids=ids, attention_mask=mask).logits
    error = (model(ids, mask) - expected).abs()
    if error.dim() == 3:  # per token: padding positions are not compared
        error = error * mask[:, :, None]
    diff = float(error.max())
    if diff > TRANSFORMERS_CHECK_TOLERANCE:
        raise ExportError(f"reference model differs from transformers by {diff:.3g} "
                          f"(max abs logit, tolerance {TRANSFORMERS_CHECK_TOLERANCE})")


def _load_transformers_model(transformers, name: str):
    """transformers' model of the class the checkpoint's config names, eval mode."""
    architecture = hf_checkpoint.architecture_of(
        transformers.AutoConfig.from_pretrained(name).to_dict(), f"--hf {name}")
    kind = hf_checkpoint.SUPPORTED_ARCHITECTURES[architecture]
    if kind is None:
        model_class = transformers.RobertaForMaskedLM
    elif kind == roberta_heads.SEQUENCE:
        model_class = transformers.AutoModelForSequenceClassification
    else:
        model_class = transformers.AutoModelForTokenClassification
    return model_class.from_pretrained(name).eval()


def _from_transformers(args: argparse.Namespace, scratch: Path):
    transformers = _import_transformers()
    hf_model = _load_transformers_model(transformers, args.hf)
    raw = hf_model.config.to_dict()
    try:
        config = roberta_ref.RobertaConfig.from_dict(raw)
    except (TypeError, ValueError) as e:
        raise ExportError(f"--hf {args.hf}: {e}") from e
    head = hf_checkpoint.head_from_config(raw, f"--hf {args.hf}")
    model = roberta_heads.build_model(config, head)
    hf_checkpoint.load_into(model, hf_model.state_dict(), f"transformers:{args.hf}")
    _check_against_transformers(hf_model.float(), model)
    transformers.AutoTokenizer.from_pretrained(args.hf).save_pretrained(str(scratch))
    local = Path(args.hf)
    default_id = model_id_for_path(local) if local.is_dir() else args.hf
    provenance = model_dir.Provenance(model_id=args.model_id or default_id,
                                      source=f"transformers:{args.hf}", random_weights=False)
    return model, scratch, provenance


def export(args: argparse.Namespace) -> dict:
    """Runs the export described by `args` and returns the written manifest."""
    model_dir.check_destination(args.out, args.force)
    with tempfile.TemporaryDirectory(prefix="securebert-export-") as scratch:
        if args.hf_dir is not None:
            model, tokenizer_dir, provenance = _from_hf_dir(args)
        elif args.hf is not None:
            model, tokenizer_dir, provenance = _from_transformers(args, Path(scratch))
        else:
            model, tokenizer_dir, provenance = _from_random_init(args)
        config = model.config
        files = tokenizer_files.collect(tokenizer_dir, config.max_input_tokens)
    special = tokenizer_files.special_tokens(files, config.vocab_size, config.pad_token_id)
    candidates = tokenizer_files.golden_candidate_ids(files, config.vocab_size)
    quantization = None
    if args.quantize == "int8":
        if model.head is not None:  # quantize.py's accuracy report measures mask predictions
            raise ExportError(f"--quantize int8 supports masked LMs only; this model has a "
                              f"{model.head.kind} head (export it as float32)")
        engine = quantize.resolve_engine(args.qengine)
        fp32 = model
        model = quantize.quantize(fp32, engine)
        report = quantize.accuracy_report(fp32, model, engine, special)
        print(quantize.describe(report))
        quantization = model_dir.Quantization(quantize.DTYPE,
                                              quantize.manifest_entry(engine, model, report),
                                              {quantize.ACCURACY_FILE: report})
    # The goldens are the served model's own outputs (int8 ones for int8).
    golden_doc = goldens.compute(model, special, candidates)
    return model_dir.write(args.out, model, files, special, golden_doc, provenance, args.force,
                           quantization)


def summary(manifest: dict, out: Path, seconds: float) -> str:
    """The one line printed after a successful export."""
    arch = manifest["architecture"]
    total_mb = sum(f["bytes"] for f in manifest["files"].values()) / 1e6
    weights = "random weights" if manifest["random_weights"] else "trained weights"
    head = manifest.get("task_head")
    head_text = "" if head is None else \
        f"{head['kind']} head, {head['num_labels']} labels, "
    return (f"exported {manifest['model_id']} ({arch['num_layers']} layers, hidden "
            f"{arch['hidden_size']}, vocab {arch['vocab_size']}, {head_text}{weights}, "
            f"{manifest['dtype']}) to {out}: "
            f"{len(manifest['files']) + 1} files, {total_mb:.1f} MB, {seconds:.1f} s")


def main(argv: Optional[List[str]] = None) -> int:
    """CLI entry point; returns the process exit status."""
    args = parse_args(argv)
    started = time.monotonic()
    try:
        manifest = export(args)
    except (ValueError, OSError) as e:  # ExportError, QuantizeError, DestinationError
        print(f"export_model.py: error: {e}", file=sys.stderr)
        return 1
    print(summary(manifest, args.out, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
