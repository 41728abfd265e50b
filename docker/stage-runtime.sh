#!/usr/bin/env bash
# Runs at the end of the images' build stage (docker/Dockerfile and
# docker/Dockerfile.cuda share that stage): lays out, in one tree per image,
# exactly the files that image copies from the build, each tree rooted at the
# image's /.
#
#   STAGE/cpu        the CPU server and the client CLI in /usr/local/bin, and
#                    the libraries of the venv's torch wheel that the server
#                    resolves (libtorch_cpu, libc10, the wheel's libgomp,
#                    libcudart and libcupti), found by ldd, at their venv paths
#   STAGE/cuda       the CUDA server (as /usr/local/bin/securebert-server), the
#                    client CLI, every shared library of torch and of its
#                    nvidia packages at their venv paths, and the Debian
#                    libraries both binaries link, bundled in
#                    /usr/local/lib/securebert (the CUDA base is Ubuntu, not
#                    Debian) with BUNDLED listing their packages and versions
#                    and VERSIONS the wheel's torch and CUDA versions
#   STAGE/exporter   tools/*.py and the random-init vocabulary, at the paths
#                    export_model.py expects relative to itself
#
# Why venv paths: the binaries' RUNPATH names the wheel's torch/lib (cmake's
# TorchWheel.cmake), and the wheel's libraries find each other through
# $ORIGIN/../../nvidia/... RPATHs. Files at the same absolute paths resolve
# with no relinking, RPATH editing or LD_LIBRARY_PATH.
#
#   docker/stage-runtime.sh BUILD_DIR VENV STAGE_DIR
set -euo pipefail
build=${1:?build dir}
# Absolute, as ldd prints paths; -s keeps a symlinked venv's own name, which
# is what the binaries' RUNPATH and so ldd's paths spell.
venv=$(realpath -s "${2:?venv}")
stage=${3:?stage dir}
torch_lib=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')/lib
site=$(dirname "$(dirname "$torch_lib")")
rm -rf "$stage"
mkdir -p "$stage/cpu/usr/local/bin" "$stage/cuda/usr/local/bin" "$stage/exporter/opt/securebert"

# Prints the resolved path of every shared library `ldd` finds for the given
# binaries, once each, with any ../ folded (the path the loader uses). Fails on
# a library that does not resolve, naming it.
resolved_libraries() {
  local out
  out=$(ldd "$@")
  if grep -q 'not found' <<<"$out"; then
    echo "stage-runtime: unresolved libraries:" >&2
    grep 'not found' <<<"$out" >&2
    exit 1
  fi
  awk '$2 == "=>" && $3 ~ /^\// {print $3}' <<<"$out" | xargs -r realpath -s | sort -u
}

# Copies FILE (dereferenced) to the same absolute path under tree $1.
copy_at_path() {
  local tree=$1 file=$2
  mkdir -p "$tree$(dirname "$file")"
  cp -L "$file" "$tree$file"
}

# The Debian package that ships library $1. With usrmerge a file may be
# registered as /lib/... or /usr/lib/..., and ldd may name a symlink.
debian_package() {
  local real
  real=$(readlink -f "$1")
  for path in "$1" "${1#/usr}" "/usr$1" "$real" "${real#/usr}" "/usr$real"; do
    if dpkg-query -S "$path" >/dev/null 2>&1; then
      dpkg-query -S "$path" | head -n1 | cut -d: -f1
      return
    fi
  done
  echo "stage-runtime: $1 belongs to no Debian package" >&2
  exit 1
}

# --- CPU image -------------------------------------------------------------
cp "$build/bin/securebert-server" "$build/bin/securebert-client" "$stage/cpu/usr/local/bin/"
for lib in $(resolved_libraries "$build/bin/securebert-server" "$build/bin/securebert-client"); do
  case "$lib" in "$venv"/*) copy_at_path "$stage/cpu" "$lib" ;; esac
done

# --- CUDA image ------------------------------------------------------------
cp "$build/bin/securebert-server-cuda" "$stage/cuda/usr/local/bin/securebert-server"
cp "$build/bin/securebert-client" "$stage/cuda/usr/local/bin/"
# Every shared library of torch and its nvidia packages, not only what ldd
# sees: libtorch_cuda dlopens more at run time (libtorch_cuda_linalg for
# linear algebra, libcaffe2_nvrtc for JIT kernels, cuDNN's sub-libraries).
# Left out: torch's Python-only libraries, and static archives and device
# bitcode, which nothing loads at run time.
for lib in "$torch_lib"/*.so* "$site"/nvidia/*/lib/*.so*; do
  case "$(basename "$lib")" in
    libtorch_python.so | libshm.so | libtorch_global_deps.so) continue ;;
  esac
  copy_at_path "$stage/cuda" "$lib"
done
# The Debian libraries, except the C and C++ runtimes (glibc, libstdc++,
# libgcc_s): the CUDA base (Ubuntu 24.04) has newer, backward-compatible ones,
# and two copies of glibc cannot coexist in a process.
bundle=$stage/cuda/usr/local/lib/securebert
mkdir -p "$bundle"
: >"$bundle/BUNDLED"
for lib in $(resolved_libraries "$build/bin/securebert-server-cuda" "$build/bin/securebert-client"); do
  case "$lib" in "$venv"/*) continue ;; esac
  pkg=$(debian_package "$lib")
  case "$pkg" in libc6 | libstdc++6 | libgcc-s1) continue ;; esac
  cp -L "$lib" "$bundle/$(basename "$lib")"
  echo "$(basename "$lib") $pkg $(dpkg-query -W -f='${Version}' "$pkg")" >>"$bundle/BUNDLED"
done
# Read by docker/cuda-runtime-setup.sh, which checks them against the base.
"$venv/bin/python" -c 'import torch; print(f"TORCH={torch.__version__}\nTORCH_CUDA={torch.version.cuda}")' \
  >"$bundle/VERSIONS"
echo "TORCH_LIB=$torch_lib" >>"$bundle/VERSIONS"

# --- exporter --------------------------------------------------------------
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$stage/exporter/opt/securebert/tools" "$stage/exporter/opt/securebert/tests/data"
cp "$src"/tools/*.py "$stage/exporter/opt/securebert/tools/"
cp -r "$src/tests/data/tokenizer" "$stage/exporter/opt/securebert/tests/data/"

du -sh "$stage"/* | sed 's/^/stage-runtime: /'
