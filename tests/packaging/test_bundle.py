"""The PyInstaller bundle: build it from build.spec, then run it as a plant would — from a clean environment (no
virtual environment, no project on the path) — through its self-test and its window.

The runtime bundle (ONNX Runtime / OpenVINO, no torch: ~2 min to build) is part of the default suite. The full
bundle (with torch: it also trains) takes longer and is built when asked:

    GRACE_BUNDLES=runtime,full .venv/bin/python -m pytest tests/packaging -m packaging
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KINDS = [kind.strip() for kind in os.environ.get("GRACE_BUNDLES", "runtime").split(",") if kind.strip()]
NAMES = {"runtime": "grace-inspect-runtime", "full": "grace-inspect"}

pytestmark = pytest.mark.packaging


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a fresh login on a plant PC has: no PYTHONPATH, no venv, no YOLO / GRACE variables."""
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", **extra}


@pytest.fixture(scope="module", params=KINDS)
def bundle(request, tmp_path_factory) -> Path:
    kind = request.param
    work = tmp_path_factory.mktemp(f"bundle-{kind}")
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    result = subprocess.run(
        [str(pyinstaller), "--noconfirm", "--log-level", "WARN", "--distpath", str(work / "dist"),
         "--workpath", str(work / "build"), str(REPO / "build.spec")],
        cwd=REPO, env={**os.environ, "GRACE_BUILD": kind}, capture_output=True, text=True, timeout=3000,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    executable = work / "dist" / NAMES[kind] / NAMES[kind]
    assert executable.is_file()
    return executable


def test_the_bundle_passes_its_self_test_offline(bundle, tmp_path):
    result = subprocess.run(
        [str(bundle), "--self-test"], env=clean_env(tmp_path), capture_output=True, text=True, timeout=1800
    )
    report = result.stdout
    assert result.returncode == 0, report + result.stderr[-3000:]
    assert "PASS  inspect demo (onnxruntime)" in report and "PASS  inspect demo (openvino)" in report
    if bundle.name == NAMES["full"]:  # the full bundle trains through itself in worker mode
        assert "PASS  inspect demo (torch)" in report and "PASS  train 1 epoch (worker)" in report
    else:
        assert "SKIP  train 1 epoch" in report
    assert "FAIL" not in report


def test_the_frozen_window_opens_with_its_tabs(bundle, tmp_path):
    result = subprocess.run(
        [str(bundle), "--no-start", "--exit-after", "3"],
        env=clean_env(tmp_path, QT_QPA_PLATFORM="offscreen"), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "window shown: GRACE Inspect" in result.stdout and "(Live, Review, Training)" in result.stdout
    assert (tmp_path / ".config" / "grace-inspect" / "grace-inspect.ini").is_file()  # settings in per-user folders


def test_the_bundle_leaves_out_the_proprietary_pylon_runtime(bundle):
    """pypylon (the GenICam source's optional extra, installed here for the tests) brings Basler's proprietary pylon
    runtime: none of it may ship in the AGPL bundle."""
    shipped = [path for path in bundle.parent.rglob("*") if "pylon" in path.name.lower()]
    assert shipped == [], shipped[:10]
