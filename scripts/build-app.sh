#!/usr/bin/env bash
# Build the desktop app with PyInstaller from build.spec (onedir), then run its self-test.
#   bash scripts/build-app.sh           full build (inspects and trains)  → dist/grace-inspect/grace-inspect
#   bash scripts/build-app.sh runtime   runtime build (ONNX Runtime / OpenVINO, no torch: inspects, cannot train)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kind=${1:-full}
case "$kind" in full) name=grace-inspect ;; runtime) name=grace-inspect-runtime ;; *) echo "usage: $0 [full|runtime]" >&2; exit 2 ;; esac
bash scripts/setup-venv.sh  # installs PyInstaller too (the 'build' extra)
GRACE_BUILD=$kind .venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller build.spec
echo "built dist/$name: $(du -sh "dist/$name" | cut -f1)"
# The self-test runs the bundle with a clean environment: no virtual environment, no project on the path.
env -i HOME="$HOME" PATH=/usr/bin:/bin "dist/$name/$name" --self-test
