"""Suite-wide setup: private user directories, offline ultralytics, and a network guard in every process."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
NEU_DET = REPO_ROOT.parent / "shared" / "datasets" / "NEU-DET"

# Before grace_core / ultralytics are imported: keep the tests out of the user's real directories.
_sandbox = Path(tempfile.mkdtemp(prefix="grace-tests-"))
for name in ("GRACE_CONFIG_DIR", "GRACE_DATA_DIR", "GRACE_CACHE_DIR"):
    os.environ[name] = str(_sandbox / name.lower())
os.environ["YOLO_CONFIG_DIR"] = str(_sandbox / "ultralytics")
os.environ["YOLO_OFFLINE"] = "1"
os.environ["YOLO_AUTOINSTALL"] = "false"
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(TESTS_DIR / "helpers" / "netguard"), os.environ.get("PYTHONPATH")) if p
)

sys.path.insert(0, str(TESTS_DIR))
from helpers.no_network import install  # noqa: E402

install()


@pytest.fixture(scope="session")
def neu_det_dir() -> Path:
    if not NEU_DET.is_dir():
        pytest.skip(f"real NEU-DET data not present at {NEU_DET}")
    return NEU_DET


@pytest.fixture(scope="session")
def synthetic_yolo(tmp_path_factory) -> Path:
    """A small synthetic YOLO dataset (data.yaml path), shared by the tests that train."""
    from grace_core.data.synthetic import write_synthetic_yolo

    return write_synthetic_yolo(tmp_path_factory.mktemp("synthetic"), n_images=12, seed=0, size=(64, 64))
