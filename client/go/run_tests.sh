#!/usr/bin/env bash
# Builds and tests the Go client: installs the pinned Go tools
# (scripts/go-tools.sh), generates the stubs (generate.sh), then runs go vet
# and go test. The end-to-end tests run SECUREBERT_SERVER_BIN serving
# SECUREBERT_TEST_MODEL_DIR (ctest sets both) and fail without them.
# Prints each command before it runs.
#
# Go: $GO, else the `go` on PATH when it is 1.24 or newer, else the
# toolchain scripts/go-tools.sh fetched into its tools directory. Modules
# come from the tools directory's module cache, as go-tools.sh's do
# (GOMODCACHE to move it), fetched through the Go module proxy on first use;
# GOTOOLCHAIN=local, so Go itself is never downloaded behind your back.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

run() {
  echo "+ $*" >&2
  "$@"
}

go_ok() {  # $1: a go binary; true if it is 1.24 or newer (go.mod's go line)
  local v
  v=$("$1" env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  [ "$(printf '%s\n1.24\n' "${v%%[-+ ]*}" | sort -V | head -n1)" = "1.24" ]
}

tools_bin=$(run "$root/scripts/go-tools.sh")
tools=$(dirname "$tools_bin")
export PATH="$tools_bin:$PATH"  # protoc-gen-go and protoc-gen-go-grpc, pinned

if [ -n "${GO:-}" ]; then
  go=$GO
elif command -v go >/dev/null && go_ok "$(command -v go)"; then
  go=$(command -v go)
else
  go=$(find "$tools/go/golang.org" -maxdepth 3 -path '*/toolchain@*/bin/go' 2>/dev/null | sort -V | tail -n1)
fi
if [ -z "$go" ] || ! go_ok "$go"; then
  echo "run_tests.sh: need Go 1.24 or newer: set GO, or put one on PATH" \
       "(scripts/go-tools.sh fetches one when Debian's golang-go is installed)" >&2
  exit 1
fi
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw"
export GOMODCACHE=${GOMODCACHE:-$tools/gopath/pkg/mod}
echo "run_tests.sh: $("$go" version) at $go; GOMODCACHE=$GOMODCACHE" >&2

# go test runs in each package's directory: relative paths would break there.
for name in SECUREBERT_SERVER_BIN SECUREBERT_TEST_MODEL_DIR; do
  if [ -n "${!name:-}" ]; then export "$name=$(realpath -m "${!name}")"; fi
done
cd "$here"
start=$(date +%s)
run ./generate.sh
run "$go" vet ./...
run "$go" test -count=1 -timeout=300s ./...
echo "run_tests.sh: passed in $(( $(date +%s) - start )) s" >&2
