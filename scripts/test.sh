#!/usr/bin/env bash
# Runs the whole test suite from a fresh Debian 12 machine: installs what is
# missing (Debian packages, the project venv of PyPI packages, the Go tools),
# checks the formatting, then builds and tests:
#   1. release (build/): LibTorch of PyPI's torch, every ctest test: unit,
#      integration, end-to-end against the real server, parity with
#      transformers and tokenizers, the Go and Python clients, ghz, manifests;
#   2. Debian's LibTorch 1.13 (build-debian-torch/): the model runner, the
#      integration and the end-to-end tests, on the other runtime;
#   3. ASan+UBSan with clang and -Wthread-safety (build-asan/): the unit,
#      integration and end-to-end suites against a sanitized server;
#   4. ThreadSanitizer (build-tsan/): the concurrent core (tokenizer, batching);
#   5. the libFuzzer targets (tokenizer, request handling, model-directory
#      loading; built by the asan preset) for a bounded time each.
# Why which suite runs where: README.md, "Testing".
#
#   scripts/test.sh            everything
#   QUICK=1 scripts/test.sh    release build and ctest only
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-45}
start=$(date +%s)
stamp() { echo "== [$(( $(date +%s) - start )) s] $*"; }

scripts/setup.sh
stamp "project venv (scripts/python-env.sh)"
scripts/python-env.sh >/dev/null
stamp "Go tools (scripts/go-tools.sh)"
scripts/go-tools.sh >/dev/null

stamp "formatting (.clang-format)"
scripts/check-format.sh

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
# Runs ctest with the given preset and arguments; echoes the count run, and
# fails when ctest does. A failed stage does not stop the later ones: the run
# ends with every failed stage named, and exit status 1.
failed=()
run_ctest() {
  local status=0
  ctest --preset "$@" -j "$JOBS" | tee "$LOG" >&2 || status=$?
  sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$LOG"
  return "$status"
}

stamp "release build and tests (build/)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS"
release=$(run_ctest release) || failed+=(release)

if [ "${QUICK:-0}" = 1 ]; then
  if [ ${#failed[@]} -gt 0 ]; then echo "FAILED: release tests" >&2; exit 1; fi
  echo "${release} passed, 0 failed"
  exit 0
fi

stamp "Debian's LibTorch: model, integration and end-to-end tests (build-debian-torch/)"
cmake --preset debian-torch >/dev/null
cmake --build --preset debian-torch -j "$JOBS"
debian=$(run_ctest debian-torch -L "model|e2e") || failed+=("Debian LibTorch")

stamp "ASan+UBSan, clang -Wthread-safety: unit, integration and end-to-end tests (build-asan/)"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$JOBS"
asan=$(run_ctest asan -LE "parity|tools|bench|deploy|go|python") || failed+=(ASan)

stamp "tokenizer and batching tests under ThreadSanitizer (build-tsan/)"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$JOBS"
tsan=$(run_ctest tsan) || failed+=(TSan)

stamp "libFuzzer targets under ASan+UBSan for ${FUZZ_SECONDS}s each (build-asan/)"
tests/fuzz/run_fuzzers.sh build-asan "$FUZZ_SECONDS" || failed+=(fuzzers)

if [ ${#failed[@]} -gt 0 ]; then
  stamp "FAILED: $(IFS=,; echo "${failed[*]}") (the failing tests are listed above each stage's end)"
  exit 1
fi

stamp "done: release ${release}, Debian LibTorch ${debian}, ASan ${asan}, TSan ${tsan} tests; fuzzers ${FUZZ_SECONDS}s each clean"
echo "$((release + debian + asan + tsan)) passed, 0 failed"
