"""The engine contract: one protocol, one class per runtime."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from grace_core.detections import Detections
from grace_core.engine.processing import decode, heatmap_to_source, letterbox
from grace_core.render import DEFAULT_HEAT_RANGE


@dataclass(frozen=True)
class EngineInfo:
    backend: str  # "torch" | "onnxruntime" | "openvino"
    class_names: tuple[str, ...]
    imgsz: int
    model_path: str
    model_id: str  # file name + short content hash: what flagged frames record
    has_heatmap: bool
    heat_range: tuple[float, float] = DEFAULT_HEAT_RANGE  # display scale of the map, in logits (grace_core.render)


def exported_model_info(backend: str, path: str | Path) -> EngineInfo:
    """Engine info of an exported model, from the metadata file ``grace export`` writes beside it."""
    from grace_core.engine.metadata import read_metadata

    metadata = read_metadata(path)
    return EngineInfo(
        backend=backend,
        class_names=tuple(metadata.class_names),
        imgsz=metadata.imgsz,
        model_path=str(path),
        model_id=file_id(path),
        has_heatmap=metadata.has_heatmap,
        heat_range=tuple(metadata.heat_logit_range) if metadata.heat_logit_range else DEFAULT_HEAT_RANGE,
    )


@dataclass(frozen=True)
class Prediction:
    """One image's result: detections in source pixels, Lite-FEN's heatmap at source size (or None), timings."""

    detections: Detections
    heatmap: np.ndarray | None
    timings_ms: dict[str, float] = field(default_factory=dict)


class Engine(Protocol):
    info: EngineInfo

    def predict(self, image: np.ndarray) -> Prediction: ...

    def close(self) -> None: ...


def file_id(path: str | Path) -> str:
    """``name@sha256[:12]`` of a model file (or of an OpenVINO model's .bin weights)."""
    path = Path(path)
    content = path.with_suffix(".bin") if path.suffix == ".xml" else path
    digest = hashlib.sha256()
    with open(content, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return f"{path.name}@{digest.hexdigest()[:12]}"


class PipelineEngine:
    """What every backend shares: letterbox → ``run`` (the runtime's forward pass) → decode, heatmap, timings.

    Subclasses set ``info`` and implement ``run(tensor) -> (raw head output, Lite-FEN map or None)``.
    ``conf`` is the floor below which detections are dropped (per-class thresholds are the caller's decision,
    see ``class_conf``); ``iou`` is the NMS threshold.
    """

    info: EngineInfo

    def __init__(self, conf: float = 0.25, iou: float = 0.7) -> None:
        self.conf, self.iou = conf, iou

    def run(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def predict(self, image: np.ndarray, class_conf: np.ndarray | None = None) -> Prediction:
        started = time.perf_counter()
        tensor, box = letterbox(image, self.info.imgsz)
        prepared = time.perf_counter()
        raw, attention = self.run(tensor)
        inferred = time.perf_counter()
        detections = decode(raw, box, self.conf, self.iou, class_conf=class_conf)
        heatmap = heatmap_to_source(attention, box) if attention is not None else None
        done = time.perf_counter()
        timings = {
            "preprocess": 1000 * (prepared - started),
            "inference": 1000 * (inferred - prepared),
            "postprocess": 1000 * (done - inferred),
        }
        return Prediction(detections, heatmap, timings)

    def close(self) -> None:
        pass
