"""A small review store with every review state, built from real NEU-DET demo images (200 wide, cropped to 160 high).

Frames (S = 2023-11-14 22:00:00 UTC, 23:00 CET; default thresholds: flag 0.5, uncertain 0.25):

=====  ======  ========  ==========================================================  ===========  ===========
frame  t − S   source    boxes (class score), after review                           status       verdict
=====  ======  ========  ==========================================================  ===========  ===========
A      60      camera:0  crazing .9 · inclusion .85 relabelled patches · scratches   defect       defect
                         .7 deleted · reviewer scratches (0,100,250,150), clipped
B      1000    camera:0  patches .95                                                 defect       defect
C      1900    camera:1  crazing .6                                                  defect       false_alarm
D      2000    camera:0  inclusion .4                                                uncertain    unsure
E      3700    camera:1  scratches .8 (another model)                                defect       —
F      3800    camera:0  crazing .45                                                 uncertain    false_alarm
=====  ======  ========  ==========================================================  ===========  ===========
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.pg_fixtures import central_url, pg_server, pg_session  # noqa: F401 (fixtures: a real PostgreSQL, test_review_central)

from grace_core.detections import Detections
from grace_core.engine.base import EngineInfo, Prediction
from grace_core.flagging import Thresholds, decide
from grace_core.store import ReviewStore
from grace_core.types import Frame

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO = REPO_ROOT / "resources" / "demo"
CLASS_NAMES = ("crazing", "inclusion", "patches", "scratches")
MODEL_S = "grace-s.pt@0123456789ab"
MODEL_N = "grace-n.onnx@fedcba987654"
S = 1_699_999_200.0  # 2023-11-14 22:00:00 UTC, on a 15-minute boundary
BERLIN = "CET-1CEST,M3.5.0,M10.5.0/3"  # POSIX rule: needs no time-zone database

Box = tuple[int, float, tuple[float, float, float, float]]  # class id, score, xyxy


def demo_image(name: str) -> np.ndarray:
    image = cv2.imread(str(DEMO / f"{name}.jpg"), cv2.IMREAD_COLOR)
    assert image is not None, name
    return np.ascontiguousarray(image[:160])  # 200 x 160: width and height differ, so a swap would show


def add_frame(
    store: ReviewStore,
    t: float,
    boxes: Sequence[Box],
    image: str = "crazing_3",
    source_id: str = "camera:0",
    model_id: str = MODEL_S,
    index: int = 0,
) -> int:
    detections = Detections(
        np.array([xyxy for _, _, xyxy in boxes], dtype=np.float32).reshape(-1, 4),
        [score for _, score, _ in boxes],
        [class_id for class_id, _, _ in boxes],
    )
    thresholds = Thresholds()
    decision = decide(detections, CLASS_NAMES, thresholds)
    info = EngineInfo("onnxruntime", CLASS_NAMES, 224, model_id.partition("@")[0], model_id, has_heatmap=False)
    frame = Frame(image=demo_image(image), index=index, timestamp=t, source_id=source_id)
    return store.add_frame(frame, decision, Prediction(detections, None, {}), info, thresholds)


@dataclass(frozen=True)
class Reviewed:
    """The store above, its frame ids by letter, and S."""

    store: ReviewStore
    ids: dict[str, int]
    start: float = S

    def uid(self, key: str) -> str:
        return self.store.frame(self.ids[key]).uid


def fill(store: ReviewStore) -> dict[str, int]:
    ids = {
        "A": add_frame(
            store,
            S + 60,
            [(0, 0.9, (10, 20, 60, 80)), (1, 0.85, (100, 30, 150, 90)), (3, 0.7, (20, 120, 40, 140))],
            "crazing_3",
        ),
        "B": add_frame(store, S + 1000, [(2, 0.95, (40, 40, 120, 100))], "patches_1", index=1),
        "C": add_frame(store, S + 1900, [(0, 0.6, (5, 5, 50, 50))], "crazing_4", "camera:1", index=2),
        "D": add_frame(store, S + 2000, [(1, 0.4, (60, 60, 90, 90))], "inclusion_1", index=3),
        "E": add_frame(store, S + 3700, [(3, 0.8, (0, 10, 30, 150))], "scratches_1", "camera:1", MODEL_N, index=4),
        "F": add_frame(store, S + 3800, [(0, 0.45, (70, 70, 120, 120))], "crazing_5", index=5),
    }
    _, inclusion, scratches = store.detections(ids["A"])
    store.relabel_box(inclusion.id, 2, "patches", "alice")
    store.delete_box(scratches.id, "alice")
    store.add_box(ids["A"], 3, "scratches", (0, 100, 250, 150), "alice")
    store.set_verdict(ids["A"], "defect", "alice")
    store.set_verdict(ids["B"], "defect", "alice")
    store.set_verdict(ids["C"], "false_alarm", "bob", comment="oil stain")
    store.set_verdict(ids["D"], "unsure", "bob")
    store.set_verdict(ids["F"], "false_alarm", "bob")
    return ids


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "review"


@pytest.fixture
def reviewed(store_root: Path) -> Iterator[Reviewed]:
    with ReviewStore.open(store_root) as store:
        yield Reviewed(store, fill(store))


# The helpers are handed out as fixtures so that no test module imports ``conftest`` (import-mode independent).
@pytest.fixture
def add():
    return add_frame


@pytest.fixture
def berlin_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is Central European for the test (CET in November)."""
    monkeypatch.setenv("TZ", BERLIN)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
