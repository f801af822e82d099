#!/usr/bin/env bash
# Re-pin the tested versions: install the project with its dev and build tools into a fresh, temporary venv and write
# what pip resolved to requirements.lock, which scripts/setup-venv.sh installs from (as constraints). Run it when
# pyproject.toml's dependencies change or to move to newer releases, then run the whole suite (bash scripts/test.sh)
# before committing the new lock: the lock must hold what CI passed with.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$PYTHON" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --upgrade pip
"$scratch/venv/bin/python" -m pip install --quiet -e ".[dev,build]"
{
    echo "# Tested versions: scripts/setup-venv.sh installs within these (pip constraints). Made by scripts/update-lock.sh"
    echo "# with $("$scratch/venv/bin/python" --version) on $(uname -m); edit by re-running it, not by hand."
    "$scratch/venv/bin/python" -m pip freeze --exclude-editable | grep -v -i '^grace-inspect'
} > requirements.lock
echo "requirements.lock: $(grep -c '==' requirements.lock) pinned packages"
