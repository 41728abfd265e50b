#!/usr/bin/env bash
# Starts securebert-serve on 127.0.0.1:50051 from a fresh Debian 12 machine:
# installs what is missing, builds, exports a model if none exists, and runs
# the server in the foreground (Ctrl-C drains and exits).
#
# The model: the real SecureBERT (ehsanaghaei/SecureBERT) through
# `transformers` when it is importable and the Hugging Face hub is reachable;
# otherwise a random-weight model of SecureBERT's exact shape, announced as a
# demo whose predictions are meaningless. SECUREBERT_MODEL_DIR picks another
# exported model directory. Extra arguments go to the server.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS" --target securebert-server securebert-client
PY=$(grep -E '^SECUREBERT_PYTHON:' build/CMakeCache.txt | cut -d= -f2)

model_dir=${SECUREBERT_MODEL_DIR:-}
if [ -z "$model_dir" ]; then
  if [ -f models/securebert/manifest.json ]; then
    model_dir=models/securebert
  elif "$PY" -c "import transformers" 2>/dev/null &&
       "$PY" tools/export_model.py --hf ehsanaghaei/SecureBERT --out models/securebert; then
    model_dir=models/securebert
  else
    model_dir=models/securebert-random-base
    if [ ! -f "$model_dir/manifest.json" ]; then
      "$PY" tools/export_model.py --random-init base --seed 0 --out "$model_dir"
    fi
    cat >&2 <<'WARN'
************************************************************************
* WARNING: the real SecureBERT weights could not be exported here       *
* (`transformers` or the Hugging Face hub is unavailable). Serving a    *
* RANDOM-WEIGHT demo model of SecureBERT's exact shape: embeddings and  *
* mask predictions are MEANINGLESS. On a machine with internet run:     *
*   tools/export_model.py --hf ehsanaghaei/SecureBERT --out models/securebert
************************************************************************
WARN
  fi
fi

exec build/bin/securebert-server --model_dir "$model_dir" --listen 127.0.0.1:50051 "$@"
