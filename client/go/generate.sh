#!/usr/bin/env bash
# Generates the Go messages and gRPC stubs of proto/securebert/v1/securebert.proto
# into gen/securebert/v1 (package securebertv1), which git ignores: the .proto
# is the one source of truth, and stubs are built from it, never committed.
#
# Needs protoc (PROTOC, else the one on PATH) and the pinned protoc-gen-go and
# protoc-gen-go-grpc on PATH: scripts/go-tools.sh installs them and prints
# their directory. The health stubs come from the grpc module itself
# (google.golang.org/grpc/health/grpc_health_v1), so nothing is generated
# for them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
protoc=${PROTOC:-protoc}

# Stubs from other plugin versions need other runtime versions than go.mod's.
want_go="protoc-gen-go v1.36.11"
want_grpc="protoc-gen-go-grpc 1.6.1"
for plugin in protoc-gen-go protoc-gen-go-grpc; do
  if ! command -v "$plugin" >/dev/null; then
    echo "generate.sh: $plugin is not on PATH; run scripts/go-tools.sh and add the" \
         "directory it prints to PATH" >&2
    exit 1
  fi
done
got_go=$(protoc-gen-go --version)
got_grpc=$(protoc-gen-go-grpc --version)
if [ "$got_go" != "$want_go" ] || [ "$got_grpc" != "$want_grpc" ]; then
  echo "generate.sh: need '$want_go' and '$want_grpc', found '$got_go' and '$got_grpc'" \
       "(scripts/go-tools.sh installs the pinned ones)" >&2
  exit 1
fi

# The .proto has no go_package option (it is shared with C++ and Python), so
# M maps it to a Go import path here.
proto=securebert/v1/securebert.proto
mapping="M$proto=securebert-serve/client/go/gen/securebert/v1;securebertv1"

# Generate beside gen/ and swap it in, so a failed run leaves no half a package.
out=$(mktemp -d "$here/.gen.XXXXXX")
trap 'rm -rf "$out"' EXIT
"$protoc" -I "$root/proto" \
  --go_out="$out" --go_opt=paths=source_relative --go_opt="$mapping" \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative --go-grpc_opt="$mapping" \
  "$root/proto/$proto"
chmod 755 "$out"  # mktemp -d makes it private
rm -rf "$here/gen"
mv "$out" "$here/gen"
trap - EXIT
echo "generate.sh: $(cd "$here" && find gen -name '*.go' | sort | tr '\n' ' ')"
