#!/usr/bin/env bash
# Creates (or brings up to date) the project's Python virtual environment and
# prints its interpreter's path on stdout: Debian's /usr/bin/python3 (never a
# bare `python3`, which may be another interpreter) with exactly the PyPI
# packages pinned in requirements/pypi.lock. Idempotent: a stamp holds the
# lock's hash, and nothing is installed when it matches.
#
#   scripts/python-env.sh            -> /path/to/.venv/bin/python
#   SECUREBERT_VENV=DIR scripts/python-env.sh
#
# The full install is ~5.7 GB (PyPI's torch carries CUDA libraries, which its
# CPU library also loads) and took 2 min 47 s here.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${SECUREBERT_VENV:-$PWD/.venv}
lock=requirements/pypi.lock
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.lock-sha256" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi
echo "python-env: installing $lock into $venv" >&2
start=$(date +%s)
/usr/bin/python3 -m venv "$venv" >&2
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$lock" >&2
echo "$want" > "$venv/.lock-sha256"
echo "python-env: done in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1))" >&2
echo "$venv/bin/python"
