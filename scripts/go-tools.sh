#!/usr/bin/env bash
# Installs the project's Go tools, pinned, into .tools/bin (SECUREBERT_TOOLS
# to move it) with `go install` through the Go module proxy, and prints that
# directory on stdout; .tools/bin/go is the Go they were built with. Idempotent: a tool whose pinned version is installed
# is not installed again.
#
#   ghz                  gRPC load testing, as users run it (tests, bench)
#   protoc-gen-go        Go messages, and
#   protoc-gen-go-grpc   Go stubs, for the Go client (client/go)
#   kubeconform          Kubernetes schema validation (deploy/ tests)
#   kustomize            renders deploy/ overlays (Debian's kubectl is too old)
#
# Go: the `go` on PATH when it is 1.24 or newer; else Debian's golang-go
# (1.19, from scripts/setup.sh's apt) fetches the pinned toolchain module
# golang.org/toolchain from the Go module proxy, as any module, into
# .tools/go. Tools that need no Go are not affected either way.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${SECUREBERT_TOOLS:-$PWD/.tools}
toolchain=go1.24.11
mkdir -p "$tools/bin"

TOOLS=(
  "github.com/bojand/ghz/cmd/ghz@v0.120.0"
  "google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11"
  "google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.1"
  "github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0"
  "sigs.k8s.io/kustomize/kustomize/v5@v5.8.1"
)

go_ok() {  # $1: a go binary; true if it is 1.24 or newer
  local v
  v=$("$1" env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  [ "$(printf '%s\n1.24\n' "${v%%[-+ ]*}" | sort -V | head -n1)" = "1.24" ]
}

find_go() {
  if command -v go >/dev/null && go_ok "$(command -v go)"; then command -v go; return; fi
  local fetched="$tools/go/golang.org/toolchain@v0.0.1-$toolchain.linux-amd64/bin/go"
  if [ -x "$fetched" ] && go_ok "$fetched"; then echo "$fetched"; return; fi
  local old=/usr/bin/go
  [ -x "$old" ] || { echo "go-tools: no go; run scripts/setup.sh (golang-go)" >&2; return 1; }
  echo "go-tools: fetching the $toolchain toolchain module with $("$old" version)" >&2
  (cd "$tools" && GOMODCACHE="$tools/go" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
     "$old" mod download "golang.org/toolchain@v0.0.1-$toolchain.linux-amd64" >&2)
  # The module cache keeps files read-only, executables included.
  local root="${fetched%/bin/go}"
  chmod +x "$root"/bin/* "$root"/pkg/tool/*/*
  echo "$fetched"
}

GO=$(find_go)
ln -sfn "$GO" "$tools/bin/go"  # the Go the tools were built with, for scripts that need one
export GOTOOLCHAIN=local GOBIN="$tools/bin" GOFLAGS=-modcacherw
export GOPATH=${GOPATH:-$tools/gopath} GOMODCACHE=${GOMODCACHE:-$tools/gopath/pkg/mod}
for spec in "${TOOLS[@]}"; do
  name=$(basename "${spec%@*}")
  [ "$name" = v5 ] && name=kustomize
  stamp="$tools/bin/.$name.version"
  if [ -x "$tools/bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$spec" ]; then continue; fi
  echo "go-tools: go install $spec" >&2
  start=$(date +%s)
  "$GO" install "$spec" >&2
  echo "$spec" > "$stamp"
  echo "go-tools: $name in $(( $(date +%s) - start )) s" >&2
done
echo "$tools/bin"
