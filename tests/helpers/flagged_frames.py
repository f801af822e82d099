"""Fill a review store with flagged frames whose contents the tests know exactly (no model needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from grace_core.detections import Detections
from grace_core.engine.base import EngineInfo, Prediction
from grace_core.flagging import Thresholds, decide
from grace_core.store import ReviewStore
from grace_core.types import Frame

CLASS_NAMES = ("crazing", "inclusion", "patches", "scratches")
T0 = 1_700_000_000.0


def add_flagged(
    store: ReviewStore,
    boxes: Sequence[tuple[int, float, tuple[float, float, float, float]]],
    t: float,
    source_id: str = "camera:0",
    model_id: str = "grace-n.onnx@0123456789ab",
    size: tuple[int, int] = (96, 64),
    seed: int = 0,
    coil: str | None = None,
    coil_m: float | None = None,
) -> int:
    """One frame flagged with ``boxes`` = (class id, score, xyxy); default thresholds (flag 0.5, uncertain 0.25);
    ``coil`` / ``coil_m``: the coil on the line and the metres of it passed (None: not known)."""
    rng = np.random.default_rng(seed)
    width, height = size
    image = rng.integers(60, 200, (height, width, 3), dtype=np.uint8)
    detections = Detections(
        np.array([b[2] for b in boxes], dtype=np.float32).reshape(-1, 4), [b[1] for b in boxes], [b[0] for b in boxes]
    )
    heat = np.full((height, width), 1 - 1e-4, dtype=np.float32)
    thresholds = Thresholds()
    info = EngineInfo(
        backend="onnxruntime", class_names=CLASS_NAMES, imgsz=224, model_path="m.onnx", model_id=model_id,
        has_heatmap=True, heat_range=(8.0, 16.0),
    )  # fmt: skip
    frame = Frame(image=image, index=int(t - T0), timestamp=t, source_id=source_id)
    decision = decide(detections, CLASS_NAMES, thresholds)
    assert decision.flagged, "a test frame must be flagged"
    prediction = Prediction(detections, heat, {"inference": 1.0})
    return store.add_frame(frame, decision, prediction, info, thresholds, coil=coil, coil_m=coil_m)


def make_store(root: Path, frames: Sequence[dict]) -> list[int]:
    """A store at ``root`` holding ``frames`` (keyword arguments of :func:`add_flagged`); returns their ids."""
    with ReviewStore.open(root) as store:
        return [add_flagged(store, **frame) for frame in frames]
