#!/usr/bin/env python3
"""The transformers peer: securebert.v1.SecureBert served with the model card's own code.

The headline peer of the benchmark (run_bench.py): a grpcio server of the same .proto (its
stubs generated at start from proto/securebert/v1/securebert.proto into a temporary
directory) over transformers' RobertaTokenizerFast and RobertaForMaskedLM on PyPI's torch,
loading the Hugging Face directory that securebert-server's model was exported from, so
both serve the same weights. It is the baseline, not part of the service.

Tuned the way a careful user tunes it on a small CPU box:
  - one gRPC worker thread per core (--workers, default the core count), each running its
    forwards on --threads-per-worker torch threads (default 1; torch.set_num_threads in
    each worker, OMP_NUM_THREADS before torch loads): a forward releases the GIL, so the
    workers' forwards run in parallel, one per core; more requests wait in the executor's
    queue. One process holds one copy of the weights.
  - torch.inference_mode(), eval mode, fp32; a warm-up forward before it says it is ready.
  - one forward per request, no dynamic batching of its own: on this 2-core CPU one
    single-threaded batch-1 forward per core is the model's fastest arrangement (the
    runtime table of run_bench.py measures it for transformers eager too), so batching
    requests would cost latency (waiting for the batch, padding) and gain no throughput. On
    a GPU a careful user would batch; this peer is the CPU baseline.

Implements Embed (mean over real tokens <s> and </s> included, CLS, none; normalize;
truncation), EmbedStream, PredictMask, Tokenize and GetModelInfo. Listens on 127.0.0.1
only and prints one JSON line (port, workers, threads) on stdout when it is ready to
serve; SIGTERM stops it.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from concurrent import futures
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hf-dir", required=True, type=Path, help="Hugging Face model directory")
    parser.add_argument("--port", type=int, default=0, help="127.0.0.1 port; 0: any free one")
    parser.add_argument("--workers", type=int, default=0,
                        help="gRPC worker threads (concurrent forwards); 0: one per core")
    parser.add_argument("--threads-per-worker", type=int, default=1,
                        help="torch intra-op threads of each worker's forward")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    workers = args.workers or os.cpu_count() or 1
    threads = max(1, args.threads_per_worker)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)  # before torch is imported
    import grpc  # pylint: disable=import-outside-toplevel
    import torch  # pylint: disable=import-outside-toplevel
    import transformers  # pylint: disable=import-outside-toplevel

    import proto_stubs  # pylint: disable=import-outside-toplevel
    with tempfile.TemporaryDirectory(prefix="securebert-peer-stubs-") as stubs:
        proto_stubs.generate(Path(stubs))
        # The servicer imports the stubs: only now are they importable.
        import transformers_servicer as ts  # pylint: disable=import-outside-toplevel
        from securebert.v1 import securebert_pb2_grpc  # pylint: disable=import-outside-toplevel

        torch.set_num_threads(threads)
        model = ts.HfModel(args.hf_dir)
        model.hidden(model.encode(["Warm-up: APT29 exploited CVE-2021-44228."],
                                  ts.pb.TRUNCATION_NONE))
        # torch.set_num_threads is per thread for OpenMP: set it in every worker.
        executor = futures.ThreadPoolExecutor(max_workers=workers,
                                              initializer=torch.set_num_threads,
                                              initargs=(threads,))
        server = grpc.server(executor, options=[("grpc.max_send_message_length", 64 << 20),
                                                ("grpc.max_receive_message_length", 64 << 20)])
        securebert_pb2_grpc.add_SecureBertServicer_to_server(ts.TransformersServicer(model),
                                                             server)
        port = server.add_insecure_port(f"127.0.0.1:{args.port}")
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        server.start()
        print(json.dumps({"port": port, "mode": "transformers", "workers": workers,
                          "torch_threads_per_worker": threads, "torch": torch.__version__,
                          "transformers": transformers.__version__,
                          "one_forward_per_request": True}), flush=True)
        stopped.wait()
        server.stop(grace=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
