#!/usr/bin/env python3
"""The naive peer: securebert.v1.SecureBert served the way the model card's Python would be.

A plain grpcio server over the same TorchScript encoder.pt / lm_head.pt that
securebert-serve loads, one forward per request (the request's inputs padded
together), pure-Python byte-level BPE (naive_bpe.py). It exists only as the
baseline of the benchmark harness (run_bench.py); it is not part of the service.

Modes:
  default  grpc.server(ThreadPoolExecutor()) with its default worker count
           (min(32, cores + 4)) and torch's default threads (one per core) in
           every worker: the forwards oversubscribe the cores.
  tuned    what a careful user does on a small CPU box: one gRPC worker
           thread per core, each forward on one torch thread (OMP_NUM_THREADS=1
           and torch.set_num_threads(1)); torch releases the GIL in a forward,
           so the workers' forwards run in parallel, one per core, and extra
           requests wait in the executor's queue. One process keeps a single
           copy of the weights (one process per core would need one each).
  expert   tuned, plus the glibc malloc tuning securebert-server applies
           to itself in a build without jemalloc
           (server/model/host_allocator.h), as glibc's MALLOC_*_ variables.
           Not what the model card's user writes: it shows what is left of
           the server's margin once a peer knows that trick too.

Implements Embed (every pooling, normalize, truncation), EmbedStream,
PredictMask, Tokenize and GetModelInfo. Listens on 127.0.0.1 only and prints
the bound port on stdout when it is ready to serve; SIGTERM stops it.
"""

import argparse
import json
import os
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model_dir", required=True, help="exported model directory")
    parser.add_argument("--mode", choices=["default", "tuned", "expert"], default="default")
    parser.add_argument("--port", type=int, default=0, help="127.0.0.1 port; 0: any free one")
    parser.add_argument("--workers", type=int, default=0,
                        help="tuned mode: gRPC worker threads; 0: one per core")
    parser.add_argument("--stubs", default=str(REPO_ROOT / "build" / "python"),
                        help="directory holding the generated securebert.v1 Python package")
    return parser.parse_args()


def expert_environment() -> dict:
    """securebert-server's glibc malloc settings as glibc variables (read at process start)."""
    return {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(512 << 20),
            "MALLOC_TOP_PAD_": str(64 << 20)}


def main():
    args = parse_args()
    if args.mode == "expert":
        wanted = expert_environment()
        if any(os.environ.get(name) != value for name, value in wanted.items()):
            # glibc reads these when the process starts: start again.
            os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **wanted})
    cores = os.cpu_count() or 1
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        # Before torch is imported: one thread per forward when tuned, torch's
        # own default (one per core) otherwise, whatever the caller's environment.
        if args.mode in ("tuned", "expert"):
            os.environ[name] = "1"
        else:
            os.environ.pop(name, None)
    sys.path.insert(0, args.stubs)
    import grpc  # pylint: disable=import-outside-toplevel
    import torch  # pylint: disable=import-outside-toplevel
    from securebert.v1 import securebert_pb2_grpc  # pylint: disable=import-outside-toplevel
    from naive_servicer import NaiveServicer, PeerModel  # pylint: disable=import-outside-toplevel

    if args.mode in ("tuned", "expert"):
        torch.set_num_threads(1)
        executor = futures.ThreadPoolExecutor(max_workers=args.workers or cores)
    else:
        executor = futures.ThreadPoolExecutor()  # the default worker count
    model = PeerModel(Path(args.model_dir))
    server = grpc.server(executor, options=[("grpc.max_send_message_length", 64 << 20),
                                            ("grpc.max_receive_message_length", 64 << 20)])
    securebert_pb2_grpc.add_SecureBertServicer_to_server(NaiveServicer(model), server)
    port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    server.start()
    print(json.dumps({"port": port, "mode": args.mode, "torch_threads": torch.get_num_threads(),
                      "workers": executor._max_workers}), flush=True)  # pylint: disable=protected-access
    stopped.wait()
    server.stop(grace=None)


if __name__ == "__main__":
    main()
