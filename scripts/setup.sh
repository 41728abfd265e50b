#!/usr/bin/env bash
# Installs exactly the Debian 12 packages securebert-serve needs to build, test
# and run. Idempotent: installs only what is missing. Works as root or through
# sudo.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ clang clang-format cmake ninja-build pkg-config git ca-certificates
  # LibTorch (CPU) and a fast BLAS for it: without libopenblas0-openmp Debian's
  # LibTorch falls back to the reference BLAS (minutes per forward)
  libtorch-dev libopenblas0-openmp
  # gRPC and Protobuf, C++ and Python code generators
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  # libraries
  libspdlog-dev libabsl-dev nlohmann-json3-dev libutf8proc-dev libcpp-httplib-dev libjemalloc-dev
  # tests, fuzzing and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  # Python tools: model export, Python client, benchmark plots, manifest checks;
  # the venv of PyPI packages (scripts/python-env.sh) is made with python3-venv
  python3 python3-torch python3-numpy python3-grpcio python3-protobuf
  python3-pytest python3-matplotlib python3-yaml python3-venv
)

# Go: the machine's when it is 1.24 or newer, else Debian's 1.19, with which
# scripts/go-tools.sh fetches a newer toolchain from the Go module proxy.
go_version=$(go env GOVERSION 2>/dev/null || true)
go_version=${go_version#go}
if [ -z "$go_version" ] || [ "$(printf '%s\n1.24\n' "${go_version%%[-+ ]*}" | sort -V | head -n1)" != "1.24" ]; then
  PACKAGES+=(golang-go)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
