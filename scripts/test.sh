#!/usr/bin/env bash
# Set up .venv if needed, then run the whole test suite: lint, then pytest (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup-venv.sh
.venv/bin/ruff check .
QT_QPA_PLATFORM=offscreen exec .venv/bin/python -m pytest "$@"
