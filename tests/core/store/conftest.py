"""Synthetic inputs for the review-store tests: a frame, its prediction, the engine info and thresholds."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from grace_core.detections import Detections
from grace_core.engine.base import EngineInfo, Prediction
from grace_core.flagging import FlagDecision, Thresholds, decide
from grace_core.store import ReviewStore
from grace_core.types import Frame

CLASS_NAMES = ("crazing", "inclusion", "patches")
MODEL_ID = "grace-s.pt@0123456789ab"
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def engine_info(model_id: str = MODEL_ID) -> EngineInfo:
    return EngineInfo(
        backend="torch",
        class_names=CLASS_NAMES,
        imgsz=64,
        model_path="grace-s.pt",
        model_id=model_id,
        has_heatmap=True,
    )


@dataclass(frozen=True)
class Flagged:
    """Everything ``add_frame`` / ``submit`` take, in order (``*flagged.args``)."""

    frame: Frame
    decision: FlagDecision
    prediction: Prediction
    engine_info: EngineInfo
    thresholds: Thresholds

    @property
    def args(self) -> tuple[Frame, FlagDecision, Prediction, EngineInfo, Thresholds]:
        return self.frame, self.decision, self.prediction, self.engine_info, self.thresholds


def make_flagged(
    t: float = T0,
    boxes: Sequence[tuple[int, float]] = ((0, 0.9),),
    index: int = 0,
    source_id: str = "camera:0",
    size: tuple[int, int] = (64, 48),
    heatmap: bool = True,
    model_id: str = MODEL_ID,
    seed: int = 0,
    thresholds: Thresholds | None = None,
) -> Flagged:
    """A flagged frame: ``boxes`` are (class id, score); ``size`` is (width, height). The same seed and size give
    byte-identical files (the quota tests rely on it)."""
    rng = np.random.default_rng(seed)
    width, height = size
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    xyxy = [[2.0 + i, 3.0 + i, 20.0 + i, 25.0 + i] for i in range(len(boxes))]
    detections = Detections(np.array(xyxy).reshape(-1, 4), [s for _, s in boxes], [c for c, _ in boxes])
    heat = rng.random((height, width), dtype=np.float32) if heatmap else None
    thresholds = thresholds or Thresholds()
    decision = decide(detections, CLASS_NAMES, thresholds)
    frame = Frame(image=image, index=index, timestamp=t, source_id=source_id)
    return Flagged(frame, decision, Prediction(detections, heat, {"inference": 1.0}), engine_info(model_id), thresholds)


@pytest.fixture
def flagged() -> Callable[..., Flagged]:
    return make_flagged


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "review"


@pytest.fixture
def store(store_root: Path) -> Iterator[ReviewStore]:
    with ReviewStore.open(store_root) as opened:
        yield opened


def files_on_disk(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in (root / "frames").rglob("*") if p.is_file()}


def referenced_files(store: ReviewStore) -> set[str]:
    paths = set()
    for record in store.list_frames(limit=1_000_000):
        paths.add(record.image_path)
        if record.heatmap_path:
            paths.add(record.heatmap_path)
    return paths


@pytest.fixture
def disk_files() -> Callable[[Path], set[str]]:
    return files_on_disk


@pytest.fixture
def row_files() -> Callable[[ReviewStore], set[str]]:
    return referenced_files
