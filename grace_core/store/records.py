"""What the review store hands back: plain frozen records built from rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from grace_core.detections import Detections
from grace_core.flagging import Thresholds

Verdict = Literal["defect", "false_alarm", "unsure"]
VERDICTS: tuple[Verdict, ...] = ("defect", "false_alarm", "unsure")

FRAME_COLUMNS = (
    "id, uid, captured_at, source_id, source_kind, frame_index, image_path, heatmap_path, width, height, status, "
    "model_id, model_hash, thresholds_json, bytes, reviewed, verdict, comment, created_at, reviewed_at, station, "
    "reviewed_by, coil, coil_m"
)
DETECTION_COLUMNS = "id, frame_id, class_id, class_name, confidence, x1, y1, x2, y2, origin, deleted"
AUDIT_COLUMNS = "id, at, actor, action, frame_id, details_json, station, uid"


@dataclass(frozen=True)
class FrameRecord:
    """One stored frame. ``image_path`` / ``heatmap_path`` are POSIX paths relative to the store root (in the
    central store, the names the images would have on disk; the bytes are in the database). ``station`` is the
    station that flagged it; ``reviewed_by`` who gave the current verdict. ``coil`` is the coil on the line when it
    was flagged ('' when none was known) and ``coil_m`` how far along that coil (metres; None when nothing measured
    the strip)."""

    id: int
    uid: str
    captured_at: float
    source_id: str
    source_kind: str
    frame_index: int
    image_path: str
    heatmap_path: str | None
    width: int
    height: int
    status: str
    model_id: str
    model_hash: str
    thresholds_json: str
    bytes: int
    reviewed: bool
    verdict: str | None
    comment: str | None
    created_at: float
    reviewed_at: float | None
    station: str = ""
    reviewed_by: str | None = None
    coil: str = ""
    coil_m: float | None = None

    @property
    def thresholds(self) -> Thresholds:
        """The thresholds in force when the frame was flagged."""
        return Thresholds.from_dict(json.loads(self.thresholds_json))

    @classmethod
    def from_row(cls, row: Any) -> FrameRecord:
        values = dict(row)
        values["reviewed"] = bool(values["reviewed"])
        return cls(**values)


@dataclass(frozen=True)
class DetectionRecord:
    """One stored box. ``origin`` is 'model' or 'reviewer'; ``deleted`` boxes are kept (soft delete) for the audit."""

    id: int
    frame_id: int
    class_id: int
    class_name: str
    confidence: float
    xyxy: tuple[float, float, float, float]
    origin: str
    deleted: bool

    @classmethod
    def from_row(cls, row: Any) -> DetectionRecord:
        return cls(
            id=row["id"],
            frame_id=row["frame_id"],
            class_id=row["class_id"],
            class_name=row["class_name"],
            confidence=row["confidence"],
            xyxy=(row["x1"], row["y1"], row["x2"], row["y2"]),
            origin=row["origin"],
            deleted=bool(row["deleted"]),
        )


def to_detections(records: Sequence[DetectionRecord]) -> Detections:
    """Stored boxes as a :class:`Detections` (e.g. to draw them with the live view's renderer)."""
    if not records:
        return Detections.empty()
    return Detections(
        np.array([r.xyxy for r in records]),
        np.array([r.confidence for r in records]),
        np.array([r.class_id for r in records]),
    )


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: float
    actor: str
    action: str
    frame_id: int | None
    details: dict[str, Any]
    station: str = ""
    uid: str | None = None  # the row's key across stores (None: written before schema v3)

    @classmethod
    def from_row(cls, row: Any) -> AuditRecord:
        details = json.loads(row["details_json"])
        return cls(
            row["id"], row["at"], row["actor"], row["action"], row["frame_id"], details, row["station"], row["uid"]
        )


@dataclass(frozen=True)
class QuotaReport:
    """What :meth:`ReviewStore.enforce_quota` did (frame ids removed, bytes freed, usage after).

    ``over_quota`` is still True afterwards only when every frame left is reviewed: reviewed frames are never
    evicted automatically. ``message`` says so in words for the user.
    """

    removed: tuple[int, ...]
    freed_bytes: int
    usage_bytes: int
    quota_bytes: int
    over_quota: bool
    message: str
