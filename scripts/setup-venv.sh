#!/usr/bin/env bash
# Create .venv in the repo root (once) and install the project with its dev tools into it, at the versions CI passed
# with (requirements.lock, used as pip constraints; scripts/update-lock.sh re-pins them).
# Re-installs only when pyproject.toml or requirements.lock changed since the last successful install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "Python 3.10+ is required" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.grace-installed
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing GRACE Inspect and its dependencies into .venv (first time: a few minutes) ..." >&2
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c requirements.lock -e ".[dev,build]"
    echo "$want" > "$stamp"
fi
