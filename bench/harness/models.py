"""The weights of a run: one transformers checkpoint, and its exports for securebert-server.

Every runtime the harness compares must load the same weights. bench/hf_model.py builds a
seeded random-init transformers RobertaForMaskedLM (SecureBERT's shape, or the tiny one in
quick mode) with the roberta-base tokenizer files; `tools/export_model.py --hf-dir` turns
it into the server's model directory, once with the torch of the build's LibTorch (its
SECUREBERT_PYTHON from CMakeCache.txt: the venv's PyPI torch for the default build) and,
when the debian-torch build is there too, once with Debian's /usr/bin/python3 (torch
1.13): TorchScript written by torch 2.x does not load in LibTorch 1.13.

Each is exported twice: in float32 and with `--quantize int8` (model-int8/,
model-debian-torch-int8/), for the int8 comparison (harness/int8.py).

Where they live: the full run caches them under models/bench/<shape>-seed<N>/ (hf/,
model/, model-debian-torch/, and their -int8 twins), reused while hf/bench_model.json names the same shape, seed
and transformers version; quick mode and --hf-dir write them into the run's work dir.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Optional, Sequence

from harness.config import REPO_ROOT, Context
from harness.processes import run_bounded

STAMP = "bench_model.json"  # hf_model.py's summary line, kept in the checkpoint directory
EXPORTER = REPO_ROOT / "tools" / "export_model.py"
BUILDER = REPO_ROOT / "bench" / "hf_model.py"
DEBIAN_PYTHON = "/usr/bin/python3"


def cmake_cache(build_dir: Path, key: str) -> Optional[str]:
    """KEY's value in build_dir/CMakeCache.txt ("KEY:TYPE=value"), or None."""
    try:
        lines = (build_dir / "CMakeCache.txt").read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, rest = line.partition(":")
        if name == key and "=" in rest:
            return rest.split("=", 1)[1]
    return None


def cache_root(shape: str, seed: int) -> Path:
    return REPO_ROOT / "models" / "bench" / f"{shape}-seed{seed}"


def _stamp_matches(hf_dir: Path, shape: str, seed: int, transformers_version: str) -> bool:
    try:
        stamp = json.loads((hf_dir / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return (stamp.get("shape"), stamp.get("seed"), stamp.get("transformers")) == (
        shape, seed, transformers_version)


def _build_checkpoint(ctx: Context, root: Path) -> dict:
    """hf_model.py into root/hf (root is replaced); its summary, also kept as the stamp."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    out = run_bounded([ctx.python, str(BUILDER), "--shape", ctx.config.model, "--seed",
                       str(ctx.config.seed), "--out", str(root / "hf")],
                      ctx.config.step_timeout_s, ctx.work_dir / "hf_model.log")
    summary = json.loads(out.strip().splitlines()[-1])
    (root / "hf" / STAMP).write_text(json.dumps(summary) + "\n")
    return summary


def export(ctx: Context, python: str, hf_dir: Path, out: Path, log_name: str,
           extra: Sequence[str] = ()) -> dict:
    """export_model.py --hf-dir with `python`; {"dir", "line"} or raises."""
    model_id = f"bench/random-{ctx.config.model}-seed{ctx.config.seed}"
    out_text = run_bounded([python, str(EXPORTER), "--hf-dir", str(hf_dir), "--out", str(out),
                            "--model-id", model_id, "--force", *extra],
                           ctx.config.step_timeout_s, ctx.work_dir / log_name).strip()
    return {"dir": str(out), "line": out_text.splitlines()[-1] if out_text else ""}


def export_int8(ctx: Context, python: str, out: Path, rebuilt: bool, log_name: str) -> dict:
    """The int8 twin of the run's weights at `out` (reused unless rebuilt or missing)."""
    if rebuilt or not (out / "manifest.json").exists():
        ctx.progress(f"exporting the int8 twin with {python} to {out}", "[models]")
        return export(ctx, python, ctx.hf_dir, out, log_name, ("--quantize", "int8"))
    return {"dir": str(out), "line": "reused"}


def debian_torch_available(python: str = DEBIAN_PYTHON) -> Optional[str]:
    """None when `python` imports torch; else why not."""
    try:
        done = subprocess.run([python, "-c", "import torch"], capture_output=True, timeout=120,
                              check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{python}: {error}"
    return None if done.returncode == 0 else f"{python} cannot import torch"


def prepare(ctx: Context, transformers_version: str, hf_dir: Optional[Path] = None) -> dict:
    """Sets ctx.hf_dir, ctx.model_dir and ctx.debian_model_dir; what was built, for the JSON."""
    config = ctx.config
    if hf_dir is not None:
        root, source = ctx.work_dir / "models", f"given: {hf_dir}"
        root.mkdir(parents=True, exist_ok=True)
        ctx.hf_dir = hf_dir
        built = None
    else:
        cached = config.mode == "full"
        root = cache_root(config.model, config.seed) if cached else ctx.work_dir / "models"
        ctx.hf_dir = root / "hf"
        source = f"seeded transformers RobertaForMaskedLM ({config.model}, seed {config.seed})"
        built = None
        if not (cached and _stamp_matches(ctx.hf_dir, config.model, config.seed,
                                          transformers_version)):
            ctx.progress(f"building the {config.model} transformers checkpoint in {root}",
                         "[models]")
            built = _build_checkpoint(ctx, root)
    summary = {"source": source, "hf_dir": str(ctx.hf_dir), "checkpoint_built": built}
    # The build's own export: PyPI torch's for a wheel build, Debian's for a system one.
    ctx.model_dir = root / ("model" if ctx.build_torch == "wheel" else "model-debian-torch")
    if not (ctx.model_dir / "manifest.json").exists() or built is not None:
        ctx.progress(f"exporting for securebert-server (PyPI torch) to {ctx.model_dir}",
                     "[models]")
        summary["export"] = export(ctx, ctx.export_python or ctx.python, ctx.hf_dir,
                                   ctx.model_dir, "export.log")
    summary["model_dir"] = str(ctx.model_dir)
    summary["build_torch"] = ctx.build_torch
    int8_dir = ctx.model_dir.with_name(ctx.model_dir.name + "-int8")
    summary["int8_export"] = export_int8(ctx, ctx.export_python or ctx.python, int8_dir,
                                         built is not None, "export_int8.log")
    ctx.int8_model_dir = int8_dir
    summary["debian_torch"] = _prepare_debian(ctx, root, rebuilt=built is not None)
    return summary


def _prepare_debian(ctx: Context, root: Path, rebuilt: bool) -> dict:
    """The Debian-torch export when the debian-torch build is there; else why not."""
    build = ctx.debian_build_dir
    if ctx.build_torch == "system":
        return {"available": False, "reason": f"--build-dir {ctx.build_dir} is itself the "
                                              "Debian-LibTorch build"}
    if build is None or not (build / "bin" / "securebert-server").exists():
        return {"available": False, "reason": f"{build}/bin/securebert-server not built "
                                              "(preset debian-torch)"}
    missing = debian_torch_available()
    if missing:
        return {"available": False, "reason": missing}
    out = root / "model-debian-torch"
    if rebuilt or not (out / "manifest.json").exists():
        ctx.progress(f"exporting for the debian-torch build (Debian's torch) to {out}",
                     "[models]")
        try:
            export(ctx, DEBIAN_PYTHON, ctx.hf_dir, out, "export_debian.log")
        except (RuntimeError, TimeoutError) as error:
            return {"available": False, "reason": f"Debian-torch export failed: {error}"[:500]}
    ctx.debian_model_dir = out
    result = {"available": True, "model_dir": str(out), "build_dir": str(build)}
    try:
        result["int8_export"] = export_int8(ctx, DEBIAN_PYTHON, root / "model-debian-torch-int8",
                                            rebuilt, "export_debian_int8.log")
        ctx.debian_int8_model_dir = root / "model-debian-torch-int8"
    except (RuntimeError, TimeoutError) as error:
        result["int8_export"] = {"available": False,
                                 "reason": f"Debian-torch int8 export failed: {error}"[:500]}
    return result
