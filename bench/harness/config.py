"""What one benchmark run measures and where it finds its tools.

BenchConfig holds the knobs of a run (full or --quick); Context adds the
paths and the progress reporter that every step receives.
"""

import dataclasses
import sys
import time
from pathlib import Path
from typing import List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    """The knobs of one run; full() and quick() are the two presets."""

    mode: str                       # "full" or "quick"
    model: str                      # shape of the seeded transformers checkpoint: "base" or "tiny"
    concurrencies: List[int]        # server load levels, closed loop
    duration_s: float               # measured seconds per load level
    warmup_per_slot: int            # warm-up requests per concurrent slot (excluded)
    engine_texts: int               # texts in the raw model's token mix
    engine_batch_sizes: str         # static batch sizes every raw runtime tries
    naive_modes: List[str]          # naive peer modes to run
    naive_concurrency: int          # the load level the naive peers are compared at
    naive_default_deadline_ms: int  # per-call bound for the (very slow) default peer
    peer_concurrencies: List[int]   # load levels of the transformers peer (server levels too)
    ghz_concurrency: int            # where ghz and securebert-load are compared
    tokenizer_min_time_s: float     # Google Benchmark --benchmark_min_time
    step_timeout_s: float           # bound on any one tool run
    int8_concurrencies: List[int]   # load levels of the int8 server beside float32's
    long_document_concurrencies: List[int]  # closed-loop levels of the long-document step
    long_documents: int             # documents (1,000-8,000 tokens) in the long-document step
    seed: int = 0                   # seed of the transformers checkpoint's random weights

    @staticmethod
    def full() -> "BenchConfig":
        return BenchConfig(mode="full", model="base", concurrencies=[1, 4, 16, 64],
                           duration_s=20.0, warmup_per_slot=1, engine_texts=48,
                           engine_batch_sizes="1,4,8,16",
                           naive_modes=["default", "tuned", "expert"],
                           naive_concurrency=16, naive_default_deadline_ms=40000,
                           peer_concurrencies=[16, 64], ghz_concurrency=16,
                           tokenizer_min_time_s=0.5, step_timeout_s=900.0,
                           int8_concurrencies=[16, 64], long_document_concurrencies=[1, 8],
                           long_documents=16)

    @staticmethod
    def quick() -> "BenchConfig":
        # Every step of the full run, on the tiny model, for seconds: the code paths, not
        # the figures.
        return BenchConfig(mode="quick", model="tiny", concurrencies=[1, 4, 16, 64],
                           duration_s=1.5, warmup_per_slot=1, engine_texts=16,
                           engine_batch_sizes="1,4,8,16", naive_modes=["tuned"],
                           naive_concurrency=16, naive_default_deadline_ms=10000,
                           peer_concurrencies=[16, 64], ghz_concurrency=16,
                           tokenizer_min_time_s=0.02, step_timeout_s=120.0,
                           int8_concurrencies=[16, 64], long_document_concurrencies=[1, 8],
                           long_documents=8)


@dataclasses.dataclass
class Context:
    """Paths and reporting shared by the steps of one run."""

    config: BenchConfig
    build_dir: Path
    model_dir: Path                 # the server's model (export of hf_dir by PyPI's torch)
    work_dir: Path                  # logs of this run
    hf_dir: Optional[Path] = None   # the transformers checkpoint model_dir was exported from
    debian_model_dir: Optional[Path] = None  # the same export by Debian's torch 1.13, if any
    debian_build_dir: Optional[Path] = None  # the debian-torch preset's build, if any
    int8_model_dir: Optional[Path] = None  # model_dir's weights, --quantize int8
    debian_int8_model_dir: Optional[Path] = None  # the same by Debian's torch, if any
    ghz: Optional[Path] = None      # the ghz binary, if any
    export_python: Optional[str] = None  # exports model_dir: the torch of build_dir's LibTorch
    build_torch: str = "wheel"      # build_dir's SECUREBERT_TORCH: "wheel" (PyPI) or "system"
    python: str = sys.executable    # interpreter with torch and grpcio
    server_args: List[str] = dataclasses.field(default_factory=list)  # extra server flags
    started: float = dataclasses.field(default_factory=time.monotonic)

    def binary(self, name: str) -> Path:
        return self.build_dir / "bin" / name

    @property
    def stubs(self) -> Path:
        return self.build_dir / "python"

    def progress(self, message: str, step: Optional[str] = None) -> None:
        """One progress line on stderr, with the run's elapsed time."""
        elapsed = time.monotonic() - self.started
        prefix = f"[{elapsed:6.1f} s]" + (f" {step}" if step else "")
        print(f"{prefix} {message}", file=sys.stderr, flush=True)
