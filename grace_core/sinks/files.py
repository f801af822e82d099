"""File sinks: JSON lines, CSV, defect events, annotated images and an annotated video. Each writes on its own
thread (:class:`~grace_core.sinks.background.BackgroundWorker`) and flushes every record, so a crash loses at most
the record being written."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from grace_core.sinks.background import BackgroundWorker
from grace_core.sinks.base import InspectionRecord, SinkStats

log = logging.getLogger(__name__)


def frame_name(meta: Mapping[str, Any], index: int) -> str:
    """A frame's name for outputs: the source's file name (a folder image), or its index."""
    return str(meta.get("name") or meta.get("stem") or f"frame_{index:06d}")


def shown_records(record: InspectionRecord) -> list[dict]:
    """The frame's shown detections (what the operator sees) as dicts, each with its status and strip position."""
    result = record.result
    decision, names = result.decision, record.model.class_names
    rows = []
    for status, found in (("defect", decision.defects), ("uncertain", decision.uncertain)):
        for row in found.to_records(names):
            rows.append({**row, "status": status})
    return sorted(rows, key=lambda row: -row["confidence"])


def image_file_name(meta: Mapping[str, Any], index: int) -> str:
    """The annotated image's file name, unique within a run: a folder image keeps its whole name (``a.jpg`` and
    ``a.png`` must not overwrite each other, nor the source image when the output is the folder itself); the
    demo's tiles repeat, so they get the frame index."""
    if meta.get("name"):
        return f"{meta['name']}.jpg"
    if meta.get("stem"):
        return f"{index:06d}_{meta['stem']}.jpg"
    return f"frame_{index:06d}.jpg"


def letterbox_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to fit ``size`` (w, h) with its aspect ratio kept, centred on black."""
    import cv2

    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    new_w, new_h = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    canvas = np.zeros((height, width, 3), np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    return canvas


class FileSink(BackgroundWorker[InspectionRecord]):
    """A sink writing one file on its own thread; subclasses write one record (``_write``)."""

    def __init__(self, path: str | Path, wait_when_full: bool = False, max_pending: int = 64) -> None:
        super().__init__(f"{type(self).__name__}:{path}", max_pending=max_pending, wait_when_full=wait_when_full)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.start()

    def stats(self) -> SinkStats:
        d = self.delivery_stats()
        return SinkStats(self.name, d.delivered, d.dropped, d.errors, d.pending, True, d.last_error)

    def _transient(self, exc: BaseException) -> bool:
        return False  # a full disk does not pass by itself: count it, say it, go on

    def _disconnect(self, handle: Any) -> None:
        if hasattr(handle, "close"):
            handle.close()


class JsonlSink(FileSink):
    """One JSON line per inspected frame: its verdict, shown detections, events, context and timings."""

    def _connect(self):
        return open(self.path, "a", encoding="utf-8")

    def _deliver(self, handle, record: InspectionRecord) -> None:
        result = record.result
        if result is None:
            return
        frame = result.frame
        line = {
            "frame": frame.index,
            "name": frame_name(frame.meta, frame.index),
            "time": frame.timestamp,
            "status": result.decision.status,
            "detections": shown_records(record),
            "events_opened": [e.to_record() for e in record.events.opened],
            "events_closed": [e.to_record() for e in record.events.closed],
            **record.context.to_record(),
            "timings_ms": {k: round(v, 2) for k, v in result.prediction.timings_ms.items()},
        }
        handle.write(json.dumps(line) + "\n")
        handle.flush()


class CsvSink(FileSink):
    """One CSV row per shown detection."""

    HEADER = ("frame", "name", "class", "status", "confidence", "x1", "y1", "x2", "y2", "station", "coil")

    def _connect(self):
        new = not self.path.exists() or self.path.stat().st_size == 0
        handle = open(self.path, "a", newline="", encoding="utf-8")  # noqa: SIM115 (closed in _disconnect)
        if new:
            csv.writer(handle).writerow(self.HEADER)
        return handle

    def _deliver(self, handle, record: InspectionRecord) -> None:
        if record.result is None:
            return
        frame, context = record.result.frame, record.context
        writer = csv.writer(handle)
        for row in shown_records(record):
            writer.writerow(
                [frame.index, frame_name(frame.meta, frame.index), row["class_name"], row["status"],
                 row["confidence"], *row["xyxy"], context.station, context.coil or ""]
            )  # fmt: skip
        handle.flush()


class EventsSink(FileSink):
    """One JSON line per defect event, when it closes (its best sighting, position and context)."""

    def _connect(self):
        return open(self.path, "a", encoding="utf-8")

    def _deliver(self, handle, record: InspectionRecord) -> None:
        for event in record.events.closed:
            model = getattr(record.model, "model_id", None)
            line = {**record.context.to_record(), **event.to_record(), "model": model}
            line["coil"] = event.coil or record.context.coil  # the coil it was seen on, if the coil changed since
            handle.write(json.dumps(line) + "\n")
        handle.flush()


def annotated(record: InspectionRecord, heatmap: bool = True) -> np.ndarray:
    """The frame with its shown boxes (and the heatmap on the model's scale)."""
    from grace_core.render import annotate

    result = record.result
    heat = result.prediction.heatmap if heatmap else None
    names = record.model.class_names
    return annotate(result.frame.image, result.decision.shown, names, heat, heat_range=record.model.heat_range)


class ImagesSink(FileSink):
    """An annotated image per frame, named after its source file (``a.png`` → ``a.png.jpg``) or its index, in
    the folder ``path``."""

    def __init__(self, path: str | Path, heatmap: bool = True, **options) -> None:
        self.heatmap = heatmap
        Path(path).mkdir(parents=True, exist_ok=True)
        super().__init__(path, **options)

    def _deliver(self, _, record: InspectionRecord) -> None:
        import cv2

        if record.result is None:
            return
        frame = record.result.frame
        cv2.imwrite(str(self.path / image_file_name(frame.meta, frame.index)), annotated(record, self.heatmap))


class VideoSink(FileSink):
    """The annotated frames as an MJPG video; a frame of another size than the first is fitted into it."""

    def __init__(self, path: str | Path, fps: float | None = None, heatmap: bool = True, **options) -> None:
        self.fps, self.heatmap = fps or 10.0, heatmap
        self.size: tuple[int, int] | None = None
        self.resized_from: tuple[int, int] | None = None
        super().__init__(path, **options)

    def _connect(self):
        return None  # opened with the first frame, whose size the video takes

    def _deliver(self, video, record: InspectionRecord) -> None:
        import cv2

        if record.result is None:
            return
        image = annotated(record, self.heatmap)
        if video is None:
            self.size = (image.shape[1], image.shape[0])
            video = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"MJPG"), self.fps, self.size)
            with self._lock:
                self._connection = video
        size = (image.shape[1], image.shape[0])
        if size != self.size:
            if self.resized_from is None:
                self.resized_from = size
                first, now = "x".join(map(str, self.size)), "x".join(map(str, size))
                log.warning(
                    f"frame {record.result.frame.index}: the source changed resolution from {first} to {now}; "
                    f"{self.path.name} stays {first}, and frames of another size are scaled to fit it with black "
                    "borders, not stretched (detections stay in each frame's own pixels)"
                )
            image = letterbox_to(image, self.size)
        video.write(image)

    def _disconnect(self, video) -> None:
        if video is not None:
            video.release()
