#!/usr/bin/env bash
# Set up .venv (first time: a few minutes) and launch GRACE Inspect on the built-in demo with the shipped model.
# Extra arguments go to the app, e.g. --source camera:0 or --source /path/to/video.mp4.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup-venv.sh
# On a Linux desktop, say which system libraries Qt's window plugin lacks (and the apt command) before Qt fails.
if [ -n "${DISPLAY:-}" ]; then .venv/bin/python -m app.system_libs || exit 1; fi
exec .venv/bin/grace-inspect "$@"
