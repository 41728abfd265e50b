#!/usr/bin/env bash
# Builds the securebert-client wheel, installs it into a temporary directory
# and runs the tests against that install (never against src/), so they test
# what `pip install` produces. ctest runs it.
#
#   SECUREBERT_SERVER_BIN=build/bin/securebert-server \
#   SECUREBERT_TEST_MODEL_DIR=build/models/tiny client/python/run_tests.sh [PYTEST_ARGS...]
#
# Interpreter: $SECUREBERT_VENV_PYTHON, else the project venv's .venv/bin/python
# (scripts/python-env.sh makes it), whose setuptools and grpcio-tools build the
# wheel (--no-build-isolation --no-index: no network) and whose grpcio,
# grpcio-health-checking and protobuf it runs on. The end-to-end tests
# (tests/test_e2e.py) fail without SECUREBERT_SERVER_BIN and
# SECUREBERT_TEST_MODEL_DIR. The build works in a copy of this directory,
# so the checkout gets no build/, egg-info or generated stubs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
py=${SECUREBERT_VENV_PYTHON:-$root/.venv/bin/python}
if [ ! -x "$py" ]; then
  echo "run_tests.sh: no interpreter at $py: run scripts/python-env.sh (or set" \
       "SECUREBERT_VENV_PYTHON)" >&2
  exit 1
fi
# The tests start the server from their own directory: make paths absolute.
for name in SECUREBERT_SERVER_BIN SECUREBERT_TEST_MODEL_DIR; do
  if [ -n "${!name:-}" ]; then export "$name=$(realpath -m "${!name}")"; fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { echo "${EPOCHREALTIME/./}"; }  # microseconds
took() { local us=$(( $(now) - $1 )); printf '%d.%01d s' $(( us / 1000000 )) $(( us % 1000000 / 100000 )); }
pip() { "$py" -m pip --disable-pip-version-check --no-input -q "$@"; }

# The package's source as the checkout has it, beside the repository's proto/
# (setup.py reads ../../proto), without anything a build left.
start=$(now)
mkdir -p "$work/src/client/python"
tar -C "$here" --exclude=./build --exclude='*.egg-info' --exclude='*_pb2*.py*' \
    --exclude=__pycache__ -cf - . | tar -C "$work/src/client/python" -xf -
ln -s "$root/proto" "$work/src/proto"
pip wheel --no-deps --no-build-isolation --no-index -w "$work/wheel" "$work/src/client/python"
echo "run_tests.sh: built $(basename "$work"/wheel/*.whl) in $(took "$start")" >&2

start=$(now)
pip install --no-deps --no-index --target "$work/site" "$work"/wheel/*.whl
export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"
export SECUREBERT_CLIENT_INSTALLED="$work/site"
export PYTHONDONTWRITEBYTECODE=1
# --no-deps above: the interpreter must already satisfy the wheel's own
# requirements (the venv's lock pins them).
"$py" - <<'EOF'
import importlib.metadata as metadata
from packaging.requirements import Requirement

problems = []
for text in metadata.requires("securebert-client"):
    requirement = Requirement(text)
    try:
        version = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        problems.append(f"{requirement.name} is not installed")
        continue
    if not requirement.specifier.contains(version, prereleases=True):
        problems.append(f"{requirement.name} {version} is not {requirement.specifier}")
if problems:
    raise SystemExit("run_tests.sh: the interpreter lacks securebert-client's requirements: "
                     + "; ".join(problems) + " (requirements/pypi.lock pins them)")
EOF
echo "run_tests.sh: installed into $work/site in $(took "$start")" >&2

start=$(now)
cd "$here"
"$py" -m pytest -q -p no:cacheprovider tests "$@"
echo "run_tests.sh: tests passed in $(took "$start")" >&2
