#!/usr/bin/env bash
# Runs the tokenizer's libFuzzer target for a bounded time.
#
#   server/tokenizer/fuzz/run_fuzz.sh BUILD_DIR SECONDS
#
# BUILD_DIR must be configured with clang and the fuzzer on, e.g.
#   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
#     -DSECUREBERT_FUZZ=ON -DSECUREBERT_SANITIZE=address,undefined
#   ninja -C build-fuzz securebert_tokenizer_fuzz
# Seeds are the texts of tests/data/tokenizer/parity.jsonl. Exits non-zero on
# any crash, sanitizer report or failed check; the input that caused it is
# kept in BUILD_DIR/fuzz-artifacts/.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
seconds=$2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
fuzzer="$build_dir/bin/securebert_tokenizer_fuzz"
if [[ ! -x "$fuzzer" ]]; then
  echo "$fuzzer is missing: configure with clang and -DSECUREBERT_FUZZ=ON" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/corpus" "$build_dir/fuzz-artifacts"

# One seed file per parity text.
/usr/bin/env python3 - "$repo/tests/data/tokenizer/parity.jsonl" "$work/seeds" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as lines:
    for n, line in enumerate(lines):
        with open(f"{sys.argv[2]}/parity_{n:04d}", "wb") as seed:
            seed.write(json.loads(line)["text"].encode("utf-8"))
PY

# Pieces that steer the fuzzer to the interesting paths.
cat > "$work/dict" <<'DICT'
"<mask>"
"<s>"
"</s>"
"<pad>"
"'s"
"'ll"
"'re"
"  "
"\x09"
"\x0a"
"\xc2\xa0"
"\xc2\x85"
"\xe2\x80\xa8"
"\xe3\x80\x80"
"\xe2\x80\x8b"
"\xcc\x81"
"\xf0\x9f\x94\xa5"
DICT

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
status=0
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=20 -rss_limit_mb=4096 \
  -print_final_stats=1 -dict="$work/dict" -artifact_prefix="$build_dir/fuzz-artifacts/" \
  "$work/corpus" "$work/seeds" || status=$?
exit "$status"
