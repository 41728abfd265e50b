#!/usr/bin/env bash
# The benchmark harness (bench/run_bench.py, docs/performance.md): builds what
# it runs, then measures, on one seeded random-weight transformers checkpoint
# of SecureBERT's shape (built and exported to models/bench/ on first use):
# the raw model, the server at c = 1, 4, 16, 64, the transformers peer at
# c = 16 and 64, ghz against securebert-load, the naive Python peers, the
# runtime table (Debian LibTorch, PyPI LibTorch, ONNX Runtime, transformers)
# and the tokenizer. Arguments go to run_bench.py:
#
#   scripts/bench.sh                 full run, bench/results/latest.{json,md,png}
#   scripts/bench.sh --quick         tiny model, seconds per step
#   scripts/bench.sh --soak 10       server RSS growth over 10 minutes at c=16
#   scripts/bench.sh --baseline bench/results/previous.json
#   BUILD_DIR=build-x scripts/bench.sh
#
# The debian-torch columns need the debian-torch preset's build
# (build-debian-torch, or --debian-build-dir), ghz needs .tools/bin/ghz
# (scripts/go-tools.sh); without them those figures are n/a, with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

# The project's venv interpreter (PyPI torch, transformers, onnxruntime, grpcio,
# matplotlib: requirements/pypi.lock); SECUREBERT_PYTHON overrides it.
PYTHON=${SECUREBERT_PYTHON:-$(scripts/python-env.sh)}
if ! "$PYTHON" -c 'import torch, transformers, onnxruntime, grpc, grpc_tools, matplotlib' 2>/dev/null; then
  echo "bench.sh: $PYTHON lacks torch, transformers, onnxruntime, grpcio(-tools) or matplotlib" \
    "(scripts/python-env.sh installs requirements/pypi.lock)" >&2
  exit 1
fi

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake --preset release >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target securebert-server securebert-load \
  securebert-engine-bench securebert_python_proto
# The tokenizer benchmark is optional (off with SECUREBERT_BENCHMARKS=OFF): n/a when absent.
cmake --build "$BUILD_DIR" -j "$(nproc)" --target securebert_tokenizer_benchmark 2>/dev/null ||
  echo "bench.sh: securebert_tokenizer_benchmark not built; its figure will be n/a" >&2
[ -x .tools/bin/ghz ] ||
  echo "bench.sh: .tools/bin/ghz missing (scripts/go-tools.sh); the ghz section will be n/a" >&2
[ -x build-debian-torch/bin/securebert-server ] ||
  echo "bench.sh: build-debian-torch not built (preset debian-torch); its columns will be n/a" >&2

exec "$PYTHON" bench/run_bench.py --build-dir "$BUILD_DIR" "$@"
