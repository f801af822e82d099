#!/usr/bin/env bash
# Set up .venv if needed, then run the whole test suite: lint, then pytest (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup-venv.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --diff . | head -40; echo "ruff format: files need formatting (run .venv/bin/ruff format .)" >&2; exit 1; }
QT_QPA_PLATFORM=offscreen exec .venv/bin/python -m pytest "$@"
