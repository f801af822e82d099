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
from grace_core.engine.slicing import SliceConfig, predict_sliced
from grace_core.render import DEFAULT_HEAT_RANGE


@dataclass(frozen=True)
class EngineInfo:
    backend: str  # a name of grace_core.engine.runtimes.RUNTIMES
    class_names: tuple[str, ...]
    imgsz: int
    model_path: str
    model_id: str  # file name + short content hash: what flagged frames record
    has_heatmap: bool
    heat_range: tuple[float, float] = DEFAULT_HEAT_RANGE  # display scale of the map, in logits (grace_core.render)
    pixel_scale: float = 1.0  # model pixels per pixel of its training images: the scale large frames are sliced at


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
        pixel_scale=float(metadata.pixel_scale),
    )


@dataclass(frozen=True)
class Prediction:
    """One image's result: detections in source pixels, Lite-FEN's heatmap (or None), timings.

    The heatmap covers the whole image: at source size for an image inspected whole, at a bounded lower resolution
    (same aspect) for a sliced one — scale it to the image to show it. ``tiles``: the grid a sliced image was cut
    into (``Tile`` objects of :mod:`grace_core.engine.slicing`), empty when it was inspected whole.
    """

    detections: Detections
    heatmap: np.ndarray | None
    timings_ms: dict[str, float] = field(default_factory=dict)
    tiles: tuple = ()


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


def check_by_running(engine: PipelineEngine, path: str | Path, metadata) -> None:
    """Run an exported model once on a blank input and check its real output shapes against its metadata: the
    declared shapes of a model with a batch axis leave the class count symbolic, so only a run shows it."""
    from grace_core.engine.metadata import check_model_shapes

    size = engine.info.imgsz
    raw, attention = engine.run_batch(np.zeros((1, 3, size, size), dtype=np.float32))
    shapes = [list(raw.shape)] + ([list(attention.shape)] if attention is not None else [])
    check_model_shapes(path, metadata, [1, 3, size, size], shapes)


class PipelineEngine:
    """What every backend shares: letterbox → ``run`` (the runtime's forward pass) → decode, heatmap, timings.

    Subclasses set ``info`` and implement ``run(tensor) -> (raw head output, Lite-FEN map or None)``.
    ``conf`` is the floor below which detections are dropped (per-class thresholds are the caller's decision,
    see ``class_conf``); ``iou`` is the NMS threshold.
    """

    info: EngineInfo

    max_batch: int | None = None  # images per runtime call (None: any); 1 for exports without a batch axis
    any_size: bool = False  # whether the runtime takes inputs of any size, not only imgsz (larger slicing tiles)

    def __init__(self, conf: float = 0.25, iou: float = 0.7, slicing: SliceConfig | None = None) -> None:
        self.conf, self.iou = conf, iou
        self.slicing = slicing or SliceConfig()

    def run_batch(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The runtime's forward pass on a (B, 3, S, S) batch → (raw head output (B, 4 + nc, A), Lite-FEN map
        (B, 1, h, w) or None)."""
        raise NotImplementedError

    def run(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`run_batch` in chunks the runtime accepts."""
        step = self.max_batch or len(tensor)
        if len(tensor) <= step:
            return self.run_batch(tensor)
        outputs = [self.run_batch(tensor[i : i + step]) for i in range(0, len(tensor), step)]
        raw = np.concatenate([r for r, _ in outputs])
        maps = [m for _, m in outputs]
        return raw, (None if maps[0] is None else np.concatenate(maps))

    def predict(self, image: np.ndarray, class_conf: np.ndarray | None = None) -> Prediction:
        """Detections and heatmap of one BGR image; a large one is sliced at the model's scale (``slicing``)."""
        height, width = image.shape[:2]
        if self.slicing.slices(width, height, self.info.imgsz, self.info.pixel_scale):
            return predict_sliced(self, image, self.slicing, class_conf)
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
