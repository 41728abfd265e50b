#!/usr/bin/env bash
# The benchmark harness (bench/run_bench.py, docs/performance.md): builds what
# it runs, then measures the raw model, the server at c = 1, 4, 16, 64, the
# naive Python peer and the tokenizer on the base random-weight model (exported
# to models/random-base on first use). Arguments go to run_bench.py:
#
#   scripts/bench.sh                 full run (~8 min), bench/results/latest.{json,md,png}
#   scripts/bench.sh --quick         tiny model, seconds per step
#   scripts/bench.sh --soak 10       server RSS growth over 10 minutes at c=16
#   BUILD_DIR=build-x scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

# The interpreter with torch, grpcio and matplotlib (Debian's; a pyenv python3 lacks them).
PYTHON=${SECUREBERT_PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in /usr/bin/python3 "$(command -v python3 || true)"; do
    if [ -n "$candidate" ] && "$candidate" -c 'import torch, grpc, matplotlib' 2>/dev/null; then
      PYTHON=$candidate
      break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "bench.sh: no python3 with torch, grpcio and matplotlib (scripts/setup.sh installs them)" >&2
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

if [[ " $* " == *" --quick "* ]] && [ ! -f "$BUILD_DIR/models/tiny/manifest.json" ]; then
  "$PYTHON" tools/export_model.py --random-init tiny --seed 0 --out "$BUILD_DIR/models/tiny"
fi
exec "$PYTHON" bench/run_bench.py --build-dir "$BUILD_DIR" "$@"
