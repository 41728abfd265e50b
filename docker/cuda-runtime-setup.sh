#!/bin/bash
# Runs once in docker/Dockerfile.cuda's runtime stage, on the NVIDIA CUDA base,
# after the build stage's files are copied in (docker/stage-runtime.sh,
# STAGE/cuda). Fails the build, saying why, when the image would not run:
#
#   1. The torch wheel must be the version TORCH_VERSION names (the image's
#      label and the docs say it), and its CUDA the base's major version and
#      at most the base's minor: the base's NVIDIA_REQUIRE_CUDA is what makes
#      the NVIDIA container runtime refuse a driver too old for it.
#   2. The bundled Debian libraries (the binaries were built on Debian
#      bookworm, the base is Ubuntu): those whose soname the base already has
#      are dropped, so nothing in the base ever loads a second copy of its own
#      libraries (OpenSSL, zlib); the rest go on the loader's path through
#      /etc/ld.so.conf.d. The ldd checks below catch a base copy that is too
#      old for the binaries (a missing symbol version or symbol).
#   3. Every library the binaries link resolves, with every symbol, and so do
#      the torch and nvidia libraries that libtorch_cuda loads later, except
#      libcuda.so.1: the driver, which the NVIDIA container runtime mounts
#      into the container when it starts.
#
#   cuda-runtime-setup.sh TORCH_VERSION
set -euo pipefail
want_torch=${1:?TORCH_VERSION}
bundle=/usr/local/lib/securebert
# TORCH (2.15.0+cu132), TORCH_CUDA (13.2), TORCH_LIB: written by stage-runtime.sh.
# shellcheck source=/dev/null
. "$bundle/VERSIONS"
fail() {
  echo "cuda-runtime-setup: $*" >&2
  exit 1
}

# --- 1. versions -------------------------------------------------------------
[ "${TORCH%%+*}" = "$want_torch" ] ||
  fail "requirements/pypi.lock has torch $TORCH, TORCH_VERSION says $want_torch: change them together"
[ -n "${CUDA_VERSION:-}" ] ||
  fail "the base image sets no CUDA_VERSION: CUDA_BASE must be an NVIDIA CUDA image (nvidia/cuda:*)"
base_major=${CUDA_VERSION%%.*}
base_rest=${CUDA_VERSION#*.}
base_minor=${base_rest%%.*}
wheel_major=${TORCH_CUDA%%.*}
wheel_minor=${TORCH_CUDA#*.}
if [ "$base_major" != "$wheel_major" ] || [ "$base_minor" -lt "$wheel_minor" ]; then
  fail "torch $TORCH is built for CUDA $TORCH_CUDA; the base has CUDA $CUDA_VERSION" \
    "(CUDA_VERSION must be $wheel_major.x with x >= $wheel_minor)"
fi

# --- 2. bundled Debian libraries ---------------------------------------------
base_has() { ldconfig -p | awk -v lib="$1" '$1 == lib {found = 1} END {exit !found}'; }
for path in "$bundle"/*.so*; do
  lib=$(basename "$path")
  if base_has "$lib"; then
    rm "$path"
    awk -v lib="$lib" '$1 != lib' "$bundle/BUNDLED" >"$bundle/BUNDLED.new"
    mv "$bundle/BUNDLED.new" "$bundle/BUNDLED"
    echo "cuda-runtime-setup: $lib: the base's own copy"
  fi
done
echo "$bundle" >/etc/ld.so.conf.d/securebert.conf
ldconfig

# --- 3. everything resolves --------------------------------------------------
for bin in /usr/local/bin/securebert-server /usr/local/bin/securebert-client; do
  if ldd -r "$bin" 2>&1 | grep -E 'not found|undefined symbol'; then
    fail "$bin: unresolved libraries or symbols"
  fi
done
# Without -r: libtorch_cuda's plugins take symbols from the libraries that
# load them. Left out: the RDMA and multi-node plugins of cuFile and NVSHMEM
# (libcufile_rdma, nvshmem_*), which need fabric libraries a single-GPU
# server never loads.
site=$(dirname "$(dirname "$TORCH_LIB")")
for lib in "$TORCH_LIB"/*.so* "$site"/nvidia/*/lib/lib*.so*; do
  case "$(basename "$lib")" in libcufile_rdma.so*) continue ;; esac
  if ldd "$lib" 2>&1 | grep 'not found' | grep -v '^[[:space:]]*libcuda\.so\.1 '; then
    fail "$lib: unresolved libraries"
  fi
done
echo "cuda-runtime-setup: torch $TORCH (CUDA $TORCH_CUDA) on CUDA $CUDA_VERSION;" \
  "$(wc -l <"$bundle/BUNDLED") Debian libraries bundled"
