#!/usr/bin/env bash
# Runs the whole test suite from a fresh Debian 12 machine: installs what is
# missing, builds (release preset, build/), runs every ctest test, then the
# tokenizer and batching tests under ThreadSanitizer and the tokenizer fuzzer under
# ASan+UBSan for a bounded time.
#
#   scripts/test.sh            everything
#   QUICK=1 scripts/test.sh    release build and ctest only
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

scripts/setup.sh

echo "== formatting (.clang-format)"
scripts/check-format.sh

echo "== release build and tests (build/)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
ctest --preset release -j "$JOBS" | tee "$LOG"
release=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$LOG")

if [ "${QUICK:-0}" = 1 ]; then echo "${release} passed, 0 failed"; exit 0; fi

echo "== tokenizer and batching tests under ThreadSanitizer (build-tsan/)"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$JOBS"
ctest --preset tsan -j "$JOBS" | tee "$LOG"
tsan=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$LOG")

echo "== tokenizer fuzzer under ASan+UBSan for ${FUZZ_SECONDS}s (build-fuzz/)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$JOBS" --target securebert_tokenizer_fuzz
server/tokenizer/fuzz/run_fuzz.sh build-fuzz "$FUZZ_SECONDS"

echo "== done: release ${release} tests, ThreadSanitizer ${tsan} tests, fuzzer ${FUZZ_SECONDS}s clean"
echo "$((release + tsan)) passed, 0 failed"
