#!/usr/bin/env bash
# Builds the CPU image and the exporter image (docker/Dockerfile) and checks
# them against the host's release build:
#   1. every library of the image's server and client resolves (ldd inside);
#   2. the image serves the tiny random-weight model (exported on the host,
#      mounted read-only) under Kubernetes' restrictions (read-only root,
#      no capabilities, no privilege escalation), on free loopback ports;
#      ready when its log says so, and then its own HEALTHCHECK passes;
#   3. Embed, PredictMask and Tokenize answers through the client CLI equal
#      those of build/bin/securebert-server on the same model directory,
#      and the image's client CLI gives the host client's answers;
#   4. the server is the container's PID 1 (it gets the runtime's SIGTERM)
#      and runs as UID/GID 10001, not root;
#   5. SIGTERM: the server drains and exits 0 within the grace period;
#   6. the exporter image writes a model into a fresh named volume as its
#      non-root user, with the same goldens and tokenizer files as the host's
#      export (the TorchScript archives differ from run to run).
#
#   scripts/container-test.sh
#   CONTAINER_ENGINE="podman" scripts/container-test.sh    (the default)
#   SKIP_BUILD=1 scripts/container-test.sh     test the images already built
#   CA_BUNDLE=FILE scripts/container-test.sh   CAs the image build trusts for
#                                              PyPI (default: the system's)
#
# Needs the host's release build and venv (scripts/test.sh, or
# scripts/python-env.sh and `cmake --build --preset release`), and podman 4.3
# or newer (Debian 12's), as root or rootless: `podman healthcheck run`
# executes the image's HEALTHCHECK. CONTAINER_ENGINE may name a wrapper that
# takes podman's arguments. Containers use the host's network: the test picks
# free loopback ports and needs no port publishing.
#
# Not part of scripts/test.sh: the image build compiles the project and
# installs the ~5.7 GB venv (docs/deploy.md, "Images", has its timings).
set -euo pipefail
cd "$(dirname "$0")/.."
read -ra ENGINE <<<"${CONTAINER_ENGINE:-podman}"
IMAGE=securebert-serve:0.1.0
EXPORTER=securebert-serve-exporter:0.1.0
PY=.venv/bin/python
HOST_SERVER=build/bin/securebert-server
CLIENT=build/bin/securebert-client
# The image's default --shutdown_grace_s; a drain of an idle server takes
# --shutdown_linger_ms (2 s) of it.
GRACE_S=30
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
start=$(date +%s)
stamp() { echo "== [$(($(date +%s) - start)) s] $*"; }
fail() {
  echo "container-test: FAIL: $*" >&2
  exit 1
}
engine() { "${ENGINE[@]}" "$@"; }

for f in "$PY" "$HOST_SERVER" "$CLIENT"; do
  [ -x "$f" ] || fail "$f is missing: build the host release first (scripts/test.sh)"
done

tmp=$(mktemp -d)
name=securebert-container-test-$$
volume=securebert-container-test-models-$$
host_pid=
cleanup() {
  engine rm -f -t 0 "$name" >/dev/null 2>&1 || true
  engine volume rm -f "$volume" >/dev/null 2>&1 || true
  if [ -n "$host_pid" ]; then kill "$host_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

stamp "building $IMAGE and $EXPORTER (docker/Dockerfile)"
# docker format: the OCI format has no HEALTHCHECK, and podman drops it.
build_args=(--format docker --network host -f docker/Dockerfile)
# The build trusts the CAs this machine trusts (the ca-bundle secret of the
# Dockerfile): where PyPI is reached through a TLS-intercepting proxy, the
# system bundle holds the proxy's CA and pip's own does not.
if [ -f "$CA_BUNDLE" ]; then build_args+=(--secret "id=ca-bundle,src=$CA_BUNDLE"); fi
if [ "${SKIP_BUILD:-0}" = 1 ]; then
  echo "SKIP_BUILD=1: testing the images already built"
else
  engine build "${build_args[@]}" -t "$IMAGE" .
  engine build "${build_args[@]}" --target exporter -t "$EXPORTER" .
fi
engine image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "securebert-serve(-exporter)?:0.1.0 "

stamp "libraries resolve inside the image"
for bin in securebert-server securebert-client; do
  out=$(engine run --rm --network none --entrypoint /usr/bin/ldd "$IMAGE" -r "/usr/local/bin/$bin" 2>&1)
  if grep -E 'not found|undefined symbol' <<<"$out"; then fail "$bin: unresolved in the image"; fi
done

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Reads the log stream that command "$@" prints until a line contains TEXT
# ($1): an event, not a poll. Fails after 180 s or when the stream ends first
# (the server exited).
wait_for_log() {
  local text=$1
  shift
  if ! grep -q -m1 -F -- "$text" < <(exec timeout 180 "$@" 2>&1); then
    return 1
  fi
}

stamp "tiny model exported on the host, served by the image and by $HOST_SERVER"
chmod 755 "$tmp"
mkdir "$tmp/models"
"$PY" tools/export_model.py --random-init tiny --seed 0 --out "$tmp/models/securebert" >/dev/null
chmod -R a+rX "$tmp/models"
port=$(free_port)
metrics_port=$(free_port)
host_port=$(free_port)
# One instance with one thread on both sides: the same arithmetic in the
# same order, so the answers can be compared exactly.
engine run -d --name "$name" --network host \
  --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
  -v "$tmp/models:/models:ro" \
  -e SECUREBERT_LISTEN="127.0.0.1:$port" -e SECUREBERT_METRICS_LISTEN="127.0.0.1:$metrics_port" \
  -e SECUREBERT_INSTANCES=1 -e SECUREBERT_INTRA_OP_THREADS=1 "$IMAGE" >/dev/null
"$HOST_SERVER" --model_dir "$tmp/models/securebert" --listen "127.0.0.1:$host_port" \
  --metrics_listen "" --instances 1 --intra_op_threads 1 2>"$tmp/host.log" &
host_pid=$!
# The engine's words, not the engine() function: timeout runs programs.
wait_for_log "ready: " "${ENGINE[@]}" logs -f "$name" ||
  { engine logs "$name" >&2; fail "the container did not become ready"; }
wait_for_log "ready: " tail -F -n +1 --pid="$host_pid" "$tmp/host.log" ||
  { cat "$tmp/host.log" >&2; fail "the host server did not become ready"; }
engine healthcheck run "$name" 2>/dev/null || fail "the image's HEALTHCHECK reports unhealthy"
echo "health: $("$CLIENT" --target "127.0.0.1:$port" health)"
/usr/bin/python3 - "$metrics_port" <<'EOF' || fail "metrics port: /readyz or /metrics not answering"
import sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
assert urllib.request.urlopen(base + "/readyz", timeout=5).status == 200
assert b"securebert_model_info" in urllib.request.urlopen(base + "/metrics", timeout=5).read()
print("metrics: /readyz 200, /metrics serves securebert_model_info")
EOF

stamp "answers of the image = answers of the host build"
# Each with a <mask>: PredictMask needs one per input.
texts=("Adversaries may use <mask> to execute malicious payloads." "CVE-2024-3094 is a <mask> in xz")
calls=(
  "embed --pooling mean --normalize"
  "embed --pooling none"
  "predict-mask --top_k 5"
  "tokenize"
)
for call in "${calls[@]}"; do
  read -ra words <<<"$call"
  for side in image host; do
    p=$port
    [ "$side" = host ] && p=$host_port
    "$CLIENT" --json --target "127.0.0.1:$p" "${words[@]}" "${texts[@]}" >"$tmp/$side.json"
  done
  /usr/bin/python3 - "$tmp/image.json" "$tmp/host.json" "$call" <<'EOF' || fail "$call: answers differ"
import json, sys
image, host = (json.load(open(p)) for p in sys.argv[1:3])
for answer in (image, host):
    answer.pop("timing", None)  # the server's own durations
if image != host:
    sys.exit(f"{sys.argv[3]}: the image answered\n{json.dumps(image)[:2000]}\nthe host\n"
             f"{json.dumps(host)[:2000]}")
print(f"{sys.argv[3]}: equal ({len(json.dumps(image))} bytes of JSON)")
EOF
done
in_image=$(engine exec "$name" /usr/local/bin/securebert-client --json \
  --target "127.0.0.1:$port" tokenize "${texts[@]}")
[ "$in_image" = "$("$CLIENT" --json --target "127.0.0.1:$port" tokenize "${texts[@]}")" ] ||
  fail "the image's client CLI answers differently from the host's"
echo "the image's client CLI: same answers as the host's"

stamp "the server is PID 1 and runs as the image's non-root user"
# Read inside the container: its own PID and user namespaces, so the IDs are
# the image's whether podman runs as root or rootless. PID 1, because the
# runtime's SIGTERM goes to PID 1 only.
status=$(engine exec "$name" cat /proc/1/status)
command=$(engine exec "$name" cat /proc/1/cmdline | tr '\0' ' ')
[ "${command%% *}" = /usr/local/bin/securebert-server ] || fail "PID 1 is $command"
ids=$(awk '/^(Uid|Gid):/ {printf "%s %s %s %s ", $2, $3, $4, $5}' <<<"$status")
[ "$ids" = "10001 10001 10001 10001 10001 10001 10001 10001 " ] ||
  fail "the server's real/effective/saved/fs uid and gid are: $ids"
echo "PID 1 is $command; uid and gid (real, effective, saved, fs): all 10001"

stamp "SIGTERM drains and exits 0 within ${GRACE_S} s"
t0=$(date +%s%N)
engine kill --signal TERM "$name" >/dev/null
code=$(timeout $((GRACE_S + 10)) "${ENGINE[@]}" wait "$name") || fail "still running ${GRACE_S} s after SIGTERM"
ms=$((($(date +%s%N) - t0) / 1000000))
engine logs "$name" 2>&1 | grep -q "draining:" || fail "no drain in the log"
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
[ "$ms" -le $((GRACE_S * 1000)) ] || fail "took ${ms} ms, over the ${GRACE_S} s grace"
echo "exit code 0 after ${ms} ms"

stamp "the exporter image writes a model into a fresh named volume"
engine volume create "$volume" >/dev/null
engine run --rm --network none -v "$volume:/models" "$EXPORTER" \
  --random-init tiny --seed 0 --out /models/securebert
mountpoint=$(engine volume inspect -f '{{.Mountpoint}}' "$volume")
for f in goldens.json vocab.json merges.txt tokenizer_config.json special_tokens_map.json; do
  cmp -s "$mountpoint/securebert/$f" "$tmp/models/securebert/$f" ||
    fail "exporter image: $f differs from the host export"
done
owner=$(engine run --rm --network none -v "$volume:/models:ro" --entrypoint /usr/bin/stat "$IMAGE" \
  -c %u:%g /models/securebert/manifest.json)
[ "$owner" = 10001:10001 ] || fail "exporter image wrote as $owner, not 10001:10001"
echo "exporter: goldens and tokenizer files equal the host export, written as 10001:10001"

stamp "container test passed"
