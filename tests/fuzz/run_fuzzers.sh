#!/usr/bin/env bash
# Runs the libFuzzer targets (ASan+UBSan, built by the asan preset with
# SECUREBERT_FUZZ) for a bounded time each, or replays their seeds and past
# crashes once.
#
#   tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS           every target, SECONDS each
#   tests/fuzz/run_fuzzers.sh --replay BUILD_DIR TARGET   seeds + regressions/TARGET once (ctest)
#
# Targets: tokenizer (seeds: the parity texts), request and model_dir (seeds:
# corpus/; both need SECUREBERT_FUZZ_MODEL_DIR, the tiny model, defaulting to
# BUILD_DIR/models/tiny). Prints each target's executions; exits non-zero on
# any crash, sanitizer report or failed check, keeping the input in
# BUILD_DIR/fuzz-artifacts/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
replay=0
if [[ "${1:-}" == --replay ]]; then replay=1; shift; fi
if [[ $# -ne 2 ]]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
export SECUREBERT_FUZZ_MODEL_DIR=${SECUREBERT_FUZZ_MODEL_DIR:-$build_dir/models/tiny}
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build_dir/fuzz-artifacts"

seeds_of() {  # $1: target; prints its seed directory
  local target=$1 dir="$work/seeds-$1"
  mkdir -p "$dir"
  if [[ $target == tokenizer ]]; then
    /usr/bin/python3 - "$repo/tests/data/tokenizer/parity.jsonl" "$dir" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as lines:
    for n, line in enumerate(lines):
        with open(f"{sys.argv[2]}/parity_{n:04d}", "wb") as seed:
            seed.write(json.loads(line)["text"].encode("utf-8"))
PY
  else
    cp "$here/corpus/$target/"* "$dir/"
  fi
  echo "$dir"
}

fuzzer_of() {
  local binary="$build_dir/bin/securebert_$1_fuzz"
  [[ -x "$binary" ]] || { echo "$binary is missing: build the asan preset" >&2; exit 2; }
  echo "$binary"
}

if [[ $replay == 1 ]]; then
  target=$2
  fuzzer=$(fuzzer_of "$target")
  seeds=$(seeds_of "$target")
  inputs=("$seeds"/*)
  for f in "$here/regressions/$target/"*; do [[ -f "$f" ]] && inputs+=("$f"); done
  echo "replaying ${#inputs[@]} inputs through $target"
  exec "$fuzzer" -runs=0 -rss_limit_mb=4096 "${inputs[@]}"
fi

seconds=$2
status=0
for target in tokenizer request model_dir; do
  fuzzer=$(fuzzer_of "$target")
  seeds=$(seeds_of "$target")
  mkdir -p "$work/corpus-$target"
  log="$work/$target.log"
  if "$fuzzer" -max_total_time="$seconds" -max_len=8192 -timeout=30 -rss_limit_mb=4096 \
      -print_final_stats=1 -dict="$here/$target.dict" \
      -artifact_prefix="$build_dir/fuzz-artifacts/$target-" \
      "$work/corpus-$target" "$seeds" "$here/regressions/$target" > "$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz $target: ${runs:-?} executions in ${seconds}s, no findings"
  else
    status=1
    echo "fuzz $target: FAILED (input in $build_dir/fuzz-artifacts/)"
    tail -n 60 "$log"
  fi
done
exit "$status"
